"""R16-06: records16 made each finished incident's view (``GET /api/incidents`` per row, ``GET /api/incidents/{id}``,
the console, ``incident list/show``: ``_status_view``) call ``believed_filing`` twice — once in ``filed_record``, once
in ``newest_record_files`` — each reading the incident's ledger (its plain object and the moved name's probe) and
listing the records store: 8 store round-trips per row where the session's start made 3 (measured in the README).
On Azure each is an HTTP request; a 500-row page made 4,000. Now one ``believed_filing`` serves both
(``firestop.records.store.filed_view``): 4."""

from __future__ import annotations

import json
from collections import Counter

from firestop.storage.local import LocalStore
from tests.runbooks.test_planted_names import EXAMPLE, INCIDENT, cli


def test_a_finished_incidents_view_reads_its_ledger_and_lists_its_records_once(firestop_home, monkeypatch):
    assert json.loads(cli("alert", "handle", str(EXAMPLE), "--json").stdout)["status"] == "contained"
    from firestop.cli.wiring import sandbox_environment
    from firestop.functions.http_api import _status_view

    env = sandbox_environment()
    try:
        status = env.host.get_status(INCIDENT)
    finally:
        env.close()
    calls: Counter = Counter()
    for method in ("read", "read_range", "names"):
        real = getattr(LocalStore, method)

        def counted(self, *args, _real=real, _method=method, **kwargs):
            calls[_method] += 1
            return _real(self, *args, **kwargs)

        monkeypatch.setattr(LocalStore, method, counted)
    view = _status_view(status)
    assert view["status"] == "contained" and view["record_files"]["json_path"].endswith(f"{INCIDENT}.json")
    assert calls["names"] <= 1 and sum(calls.values()) <= 4, dict(calls)  # before: names 2, read_range 4, read 2
