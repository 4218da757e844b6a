"""The serve lock files (firestop.cli.serve_lock): acquisition is atomic — two servers starting at once are both
held and listed, and a probe landing mid-acquisition never takes a new server's file for a stale one."""

from __future__ import annotations

import threading

from firestop.cli import serve_lock


def test_two_servers_with_one_pid_starting_at_once_are_both_held_and_listed(tmp_path, monkeypatch):
    """Containers on a shared FIRESTOP_HOME each start as pid 1: the second must not truncate or fail on the first."""
    monkeypatch.setattr(serve_lock.os, "getpid", lambda: 1)
    barrier, handles, errors = threading.Barrier(2), [], []

    def start(url: str) -> None:
        barrier.wait()
        try:
            handles.append(serve_lock.hold(tmp_path, url=url))
        except Exception as exc:  # noqa: BLE001 — what the test reports
            errors.append(exc)

    threads = [threading.Thread(target=start, args=(f"http://127.0.0.1:{port}",)) for port in (7001, 7002)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    try:
        assert not errors, errors
        listed = serve_lock.running(tmp_path)
        assert sorted(s["url"] for s in listed) == ["http://127.0.0.1:7001", "http://127.0.0.1:7002"], listed
        assert all(s["pid"] == 1 for s in listed)
    finally:
        for handle in handles:
            serve_lock.release(handle)
    assert serve_lock.running(tmp_path) == [] and not list(tmp_path.iterdir())


def test_a_probe_during_acquisition_never_removes_the_new_servers_file(tmp_path, monkeypatch):
    """running() (sandbox reset's check) called between the file's creation and its lock: before, it locked the
    empty file itself, removed it as stale, and the server went on unlisted."""
    real_flock, probed = serve_lock.fcntl.flock, []

    def flock_after_a_probe(fd, op):
        if not probed:
            probed.append(serve_lock.running(tmp_path))
        return real_flock(fd, op)

    monkeypatch.setattr(serve_lock.fcntl, "flock", flock_after_a_probe)
    handle = serve_lock.hold(tmp_path, url="http://127.0.0.1:7003")
    monkeypatch.setattr(serve_lock.fcntl, "flock", real_flock)
    try:
        assert probed == [[]]  # nothing to list yet: the file is not under its lock name until it is locked
        assert [s["url"] for s in serve_lock.running(tmp_path)] == ["http://127.0.0.1:7003"]
    finally:
        serve_lock.release(handle)
    assert serve_lock.running(tmp_path) == []
