"""seal18, item 4: ``seal-key rotate`` and ``seal-key retire`` killed (SIGKILL) between their steps: nothing lost,
nothing sealed twice, no key left behind in a stray file.

The steps: rotate writes ``seal-key.retired`` (a temporary file 0600, fsynced, renamed), then ``seal-key``, and the
manual-run index's sealed-lines marker is sealed anew under the new key; retire rewrites ``seal-key.retired``.

Found (each test fails before):
- a kill after the key files and before the marker left the new ring without it: the old key still held the marker's
  time, and dropping it (``seal-key retire``) lost that time — from then on unsealed (planted) index lines written
  before the next manual run were followed again. The marker is now sealed under the key to come *before* the files
  are written, and ``retire`` carries it first when it is missing (a ring rotated without it);
- a kill inside a write left its temporary file (``.seal-key.retired.<pid>.<hex>``: keys, the one to be dropped
  included) for good; ``rotate`` and ``retire`` now remove those of processes that are gone.

Each kill is a real ``kill -9`` of a ``python -m firestop``-like child at the step named (the child wraps ``os.replace``
to kill itself there), so the files are what a crash leaves.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

from typer.testing import CliRunner

from firestop.settings import REPO_ROOT

SINCE = "2026-01-02T03:04:05+00:00"

#: The child: the CLI, killed by SIGKILL when os.replace is called with a destination named argv[1] — before the
#: rename ("before") or right after it ("after").
_CHILD = """
import os, signal, sys
target, when = sys.argv[1], sys.argv[2]
real = os.replace
def replace(src, dst, *args, **kwargs):
    if os.path.basename(str(dst)) == target and when == "before":
        os.kill(os.getpid(), signal.SIGKILL)
    real(src, dst, *args, **kwargs)
    if os.path.basename(str(dst)) == target and when == "after":
        os.kill(os.getpid(), signal.SIGKILL)
os.replace = replace
from firestop.cli.main import main
main(sys.argv[3:])
"""


def _killed(home, target: str, when: str, *args: str) -> None:
    env = {**os.environ, "FIRESTOP_HOME": str(home)}
    done = subprocess.run([sys.executable, "-c", _CHILD, target, when, *args], cwd=REPO_ROOT, env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == -9, (done.returncode, done.stdout, done.stderr)


def _cli(*args):
    from firestop.cli.main import app

    return CliRunner().invoke(app, list(args), catch_exceptions=False)


def _ledger_store(home):
    from firestop.storage.local import LocalStore

    return LocalStore(home / "ledger")


def _mark(home) -> None:
    """The sealed-lines marker as the first sealed manual-run line files it, under the home's current key."""
    from runbooks import manual_runs
    from runbooks.ledger import canonical
    from firestop.trust.seal import load_seal_key

    key = load_seal_key(home)
    name = manual_runs.sealed_lines_name(key)
    assert _ledger_store(home).create(
        name, canonical({"since": SINCE, "seal": key.sign(manual_runs.INDEX_SEAL_PURPOSE, name, SINCE)}), "application/json")


def _since(home):
    from runbooks import manual_runs
    from firestop.trust.seal import load_seal_key

    when = manual_runs._sealed_since(_ledger_store(home), load_seal_key(home))
    return when.isoformat() if when else None


def _stray(home) -> list[str]:
    return sorted(p.name for p in home.iterdir() if p.name.startswith(".seal-key.") and p.name != ".seal-key.lock")


def test_a_rotation_killed_after_its_key_files_keeps_the_marker_through_a_drop(firestop_home):
    from firestop.trust.seal import load_seal_key

    _mark(firestop_home)
    old = load_seal_key(firestop_home).kid
    _killed(firestop_home, "seal-key", "after", "seal-key", "rotate", "--as", "oid-admin")
    ring = load_seal_key(firestop_home)
    assert ring.kid != old and [k.kid for k in ring.retired] == [old]  # the rotation went through, then the kill
    from runbooks import manual_runs

    assert _ledger_store(firestop_home).read(manual_runs.sealed_lines_name(ring)) is not None  # carried before the switch
    dropped = _cli("seal-key", "retire", old, "--as", "oid-admin", "--yes", "--json")
    assert dropped.exit_code == 0, dropped.output
    assert _since(firestop_home) == SINCE  # before: None — the time went with the dropped key


def test_a_rotation_killed_before_its_key_file_changes_nothing_and_a_rerun_rotates_once(firestop_home):
    from firestop.trust.seal import load_seal_key

    _mark(firestop_home)
    first = load_seal_key(firestop_home)
    _killed(firestop_home, "seal-key", "before", "seal-key", "rotate", "--as", "oid-admin")
    ring = load_seal_key(firestop_home)
    assert ring.kid == first.kid and ring.retired == ()  # the old key current (also in the retired file: counted once)
    assert len(_stray(firestop_home)) == 1  # the new key's temporary file, left by the kill
    again = _cli("seal-key", "rotate", "--as", "oid-admin", "--json")
    assert again.exit_code == 0, again.output
    body = json.loads(again.stdout)
    assert body["was"] == first.kid and body["retired"] == [first.kid] and body["resealed_marker"] is True
    assert _stray(firestop_home) == []  # before: the killed write's file, a key in it, stayed
    assert _cli("seal-key", "retire", first.kid, "--as", "oid-admin", "--yes").exit_code == 0
    assert _since(firestop_home) == SINCE


def test_a_kill_inside_the_retired_files_write_leaves_no_copy_of_a_dropped_key(firestop_home):
    from firestop.trust.seal import load_seal_key

    first = load_seal_key(firestop_home)
    assert _cli("seal-key", "rotate", "--as", "oid-admin").exit_code == 0
    _killed(firestop_home, "seal-key.retired", "before", "seal-key", "retire", first.kid, "--as", "oid-admin", "--yes")
    assert [k.kid for k in load_seal_key(firestop_home).retired] == [first.kid]  # not dropped: the kill came first
    assert len(_stray(firestop_home)) == 1
    secret = (firestop_home / "seal-key.retired").read_text().split()[0]
    assert _cli("seal-key", "retire", first.kid, "--as", "oid-admin", "--yes").exit_code == 0
    assert load_seal_key(firestop_home).retired == ()
    assert _stray(firestop_home) == []
    for path in firestop_home.iterdir():  # the dropped key is nowhere in the home's own files
        if path.is_file() and path.name.startswith((".seal-key", "seal-key")):
            assert secret not in path.read_text()


def test_retire_carries_a_marker_a_rotation_left_behind(firestop_home):
    """A ring rotated without the marker carried (by the keyring alone, or when the store could not be written at
    rotate): retire carries it before the drop."""
    from firestop.trust.keyring import rotate
    from firestop.trust.seal import load_seal_key

    _mark(firestop_home)
    first = load_seal_key(firestop_home)
    rotate(firestop_home)
    assert _cli("seal-key", "retire", first.kid, "--as", "oid-admin", "--yes").exit_code == 0
    assert _since(firestop_home) == SINCE  # before: None


def test_a_live_processs_temporary_file_is_left_alone(firestop_home):
    from firestop.trust.keyring import sweep_temporaries
    from firestop.trust.seal import load_seal_key

    load_seal_key(firestop_home)
    mine = firestop_home / f".seal-key.{os.getpid()}.0badc0de"  # this process: alive, maybe writing it
    gone = firestop_home / ".seal-key.retired.999999999.0badc0de"  # no such process
    odd = firestop_home / ".seal-key.retired.notapid.0badc0de"
    for path in (mine, gone, odd):
        path.write_text("x" * 43 + "\n")
    assert sweep_temporaries(firestop_home) == [gone.name]
    assert mine.exists() and odd.exists() and (firestop_home / "seal-key").exists()


def test_a_rerun_after_a_kill_past_the_switch_finishes_and_rotates_nothing_again(firestop_home):
    """'Run it again to finish' held only for a kill before the switch: after it, a rerun made a second rotation (a new
    key, a ring slot spent; three such and the ring was full). The rotation is journaled (key ids only). Fails before
    (two retired keys after the rerun)."""
    from firestop.trust.seal import load_seal_key

    first = load_seal_key(firestop_home).kid
    _killed(firestop_home, "seal-key", "after", "seal-key", "rotate", "--as", "oid-admin")
    switched = load_seal_key(firestop_home)
    assert switched.kid != first
    dry = json.loads(_cli("seal-key", "rotate", "--as", "oid-admin", "--dry-run", "--json").stdout)
    assert dry["resumed"] is True and dry["was"] == first and dry["rotated"] is False
    rerun = _cli("seal-key", "rotate", "--as", "oid-admin", "--json")
    assert rerun.exit_code == 0, rerun.output
    body = json.loads(rerun.stdout)
    assert body["resumed"] is True and body["was"] == first and body["kid"] == switched.kid
    assert [k.kid for k in load_seal_key(firestop_home).retired] == [first]  # before: [the switched-in key, first]
    assert not (firestop_home / "seal-key.rotating").exists()
    again = json.loads(_cli("seal-key", "rotate", "--as", "oid-admin", "--json").stdout)  # asked again: rotates
    assert again["resumed"] is False and again["was"] == switched.kid
    assert [k.kid for k in load_seal_key(firestop_home).retired] == [switched.kid, first]
    assert _stray(firestop_home) == [] and not (firestop_home / "seal-key.rotating").exists()
