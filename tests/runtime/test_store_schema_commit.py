"""The host's SQLite store creates its schema in one transaction (issue 18, item 5: ``alert handle``'s start-up on a
fresh FIRESTOP_HOME): one WAL frame per page, not page 1 and each new page once per CREATE statement."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path

from firestop.runtime.store import Store

REPO = Path(__file__).resolve().parents[2]


def _wal_frames(path: Path) -> int:
    """Frames in the WAL file beside ``path`` (32-byte header, then a 24-byte header and a page per frame)."""
    page_size = 4096
    with sqlite3.connect(path) as probe:
        page_size = probe.execute("PRAGMA page_size").fetchone()[0]
    size = path.with_name(path.name + "-wal").stat().st_size
    return (size - 32) // (24 + page_size)


def test_a_fresh_store_writes_each_page_of_its_schema_once(tmp_path):
    db = tmp_path / "durable.sqlite"
    store = Store(db)
    try:
        pages = store._conn.execute("PRAGMA page_count").fetchone()[0]
        assert pages > 10  # the tables and indexes exist
        # (one commit per CREATE wrote 38 frames for the 23 pages)
        assert _wal_frames(db) == pages
    finally:
        store.close()


def test_reopening_keeps_the_data_and_writes_nothing(tmp_path):
    db = tmp_path / "durable.sqlite"
    Store(db).close()
    first = Store(db)
    try:
        with first.transaction():
            first._x("INSERT INTO timer_triggers (name, last, next, last_updated) VALUES ('t', NULL, 'n', 'u')")
        frames = _wal_frames(db)
        again = Store(db)  # a second connection: the schema is there, its transaction changes nothing
        try:
            assert _wal_frames(db) == frames
            assert again._q("SELECT name FROM timer_triggers")[0][0] == "t"
        finally:
            again.close()
    finally:
        first.close()


def test_processes_creating_one_fresh_file_at_once_all_succeed(tmp_path):
    db = tmp_path / "durable.sqlite"
    code = ("import sys; sys.path.insert(0, %r)\n"
            "from firestop.runtime.store import Store\n"
            "Store(%r).close()\n") % (str(REPO), str(db))
    procs = [subprocess.Popen([sys.executable, "-c", code], stderr=subprocess.PIPE, text=True) for _ in range(4)]
    errors = [p.communicate(timeout=60)[1] for p in procs]
    assert [p.returncode for p in procs] == [0, 0, 0, 0], errors
    with sqlite3.connect(db) as check:
        names = {r[0] for r in check.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert {"instances", "history", "inbox", "work", "leases", "timer_triggers"} <= names
