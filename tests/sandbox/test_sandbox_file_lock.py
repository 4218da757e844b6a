"""The tenant's inter-process lock (``firestop.sandbox.tenant._file_lock``), taken around every request and clock move:
it excludes other processes, (re)creates a missing state folder 0700 and its lock file 0600, and leaves no descriptor
open behind it."""

from __future__ import annotations

import os
import stat
import subprocess
import sys

import pytest

from firestop.sandbox.tenant import _file_lock

pytest.importorskip("fcntl")

_TRY_LOCK = """
import fcntl, os, sys
fd = os.open(sys.argv[1], os.O_RDWR)
try:
    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
except BlockingIOError:
    print("held")
else:
    print("free")
"""


def _other_process_sees(lock_file) -> str:
    return subprocess.run([sys.executable, "-c", _TRY_LOCK, str(lock_file)], capture_output=True, text=True,
                          check=True, timeout=60).stdout.strip()


def test_the_lock_excludes_another_process_while_held_and_only_then(tmp_path):
    with _file_lock(tmp_path):
        assert _other_process_sees(tmp_path / "tenant.lock") == "held"
    assert _other_process_sees(tmp_path / "tenant.lock") == "free"


def test_a_missing_state_folder_is_created_private(tmp_path):
    state = tmp_path / "home" / "sandbox"
    with _file_lock(state):
        pass
    assert stat.S_IMODE(os.stat(state).st_mode) == 0o700
    assert stat.S_IMODE(os.stat(tmp_path / "home").st_mode) == 0o700
    assert stat.S_IMODE(os.stat(state / "tenant.lock").st_mode) == 0o600


def test_no_descriptor_is_left_open(tmp_path):
    before = set(os.listdir("/proc/self/fd")) if os.path.isdir("/proc/self/fd") else None
    if before is None:
        pytest.skip("no /proc/self/fd")
    for _ in range(50):
        with _file_lock(tmp_path):
            pass
    with pytest.raises(RuntimeError):
        with _file_lock(tmp_path):
            raise RuntimeError("a request that fails")
    assert set(os.listdir("/proc/self/fd")) == before
    assert _other_process_sees(tmp_path / "tenant.lock") == "free"
