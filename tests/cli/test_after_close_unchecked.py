"""``correlated_after_close_unchecked`` (late alerts counted past the record's bound on kept keys, without the duplicate
check: firestop.functions.intake_call) was shown nowhere (leftovers9 item 5): incident show, the view the API and
``--json`` answer, and the console's record view say it."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from firestop.cli.main import app
from firestop.console import pages
from firestop.lifecycle.view import after_close_counts
from firestop.settings import REPO_ROOT
from firestop.trust.principal import Principal

EXAMPLE = REPO_ROOT / "examples" / "alerts" / "leaked-key.json"
INCIDENT = "inc-33906e911c7aff74"


def cli(*args: str):
    return CliRunner().invoke(app, list(args), catch_exceptions=False)


def test_unchecked_late_alerts_are_shown_in_incident_show_json_and_the_console(firestop_home):
    assert cli("alert", "handle", str(EXAMPLE)).exit_code == 0
    import hashlib

    from firestop.records.store import filed_record, record_json
    from firestop.settings import get_settings
    from runbooks.dispatch import execute

    filed = filed_record(get_settings(), INCIDENT)
    record = dict(filed)  # as intake_call._revised leaves it past MAX_AFTER_CLOSE_KEYS, filed as its revision
    record.update({"correlated_after_close": [{"alert_id": "late-9", "rule_name": "aoai-leaked-key-usage",
                                               "received_at": record["received_at"]}],
                   "correlated_after_close_count": 3, "correlated_after_close_unchecked": 2})
    # (records16: only a filing sealed on the ledger is believed — a record rewritten in place is not shown)
    answer = execute({"runbook": "records.file", "action": "apply", "step_id": "file-record", "incident_id": INCIDENT,
                      "params": {"record": record, "revision_of": hashlib.sha256(record_json(filed)).hexdigest()}})
    assert answer.get("ok"), answer.get("error")
    text = " ".join(cli("incident", "show", INCIDENT).output.split())
    assert ("joined after close 5 alert(s) in all, the newest 1 listed; 2 of them unchecked (counted past the record's "
            "bound on kept alert keys, without the duplicate check: a redelivery may be counted twice)") in text
    view = json.loads(cli("incident", "show", INCIDENT, "--json").stdout)
    assert view["correlated_after_close_unchecked"] == 2 and view["correlated_after_close_count"] == 3
    page = pages.incident_page(view, caller=Principal(object_id="oid-alice", name="alice", roles=frozenset({"reader"})))
    assert '<dt>joined after close</dt><dd id="after-close">5 alert(s) in all, the newest 1 listed; 2 of them unchecked' in page


def test_nothing_is_said_when_every_late_alert_is_listed_and_checked():
    listed = [{"alert_id": "a"}, {"alert_id": "b"}]
    assert after_close_counts({}) == ""
    assert after_close_counts({"correlated_after_close": listed, "correlated_after_close_count": 2}) == ""
    assert after_close_counts({"correlated_after_close": listed, "correlated_after_close_count": 150}) == \
        "150 alert(s) in all, the newest 2 listed"
    assert after_close_counts({"correlated_after_close_unchecked": True, "correlated_after_close_count": "9"}) == ""
