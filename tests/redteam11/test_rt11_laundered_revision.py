"""RT11-01 (high): a planted record revision was laundered into a sealed one by the next late alert.

RT10-03 made an undo believe only a newest revision whose bytes carry the app's seal in the ledger. But the
after-close path (:func:`firestop.functions.intake_call.record_after_close_sync`: a late alert correlated to the
finished incident, from the webhook or the orchestrator's ``record_late_alerts``) reads the newest filed revision —
the planted one — adds the alert and files the result through ``records.file``, which seals it. The attacker's
``before`` (public access + their IP rule) is now in a sealed revision, and the next responder's Undo writes it to
Azure. The attacker needs what RT10-03 needed (a blob writer on the records container) plus one alert that joins the
finished incident (their own traffic on the account fires one; with the webhook key anyone sends one).

Fixed: a revision is filed only on top of a sealed newest revision (``records.file`` refuses, as ``conflict`` never
is, to revise one the app did not file); the late alert was refused (the intake answered 503) instead of laundering
it. Since records16 (A13-07) the planted revision is no revision at all: the late alert is filed on top of the newest
sealed one (the genuine record, beside the planted name: ``<id>.r2-<keyed tag>.json``), and the undo restores the
genuine ``before`` — the attacker's never reaches a sealed revision nor Azure.
"""

from __future__ import annotations

import json

from tests.redteam10.test_rt10_forged_record import ATTACKER_IP, genuine_before, plant_forged_revision
from tests.trust.conftest import ACCOUNT, INCIDENT, Api, api, handled_home  # noqa: F401 — fixtures



_plant = plant_forged_revision  # RT10-03's planted revision, the start of this attack


def test_a_late_alert_does_not_seal_a_planted_revision(api, firestop_home):  # noqa: F811
    from firestop.functions.intake_call import record_after_close_sync

    step = _plant(firestop_home)
    entry = {"alert_id": "/subscriptions/x/alerts/late-1", "rule_name": "aoai-leaked-key", "target_ids": [ACCOUNT],
             "received_at": "2026-12-04T10:00:00+00:00"}
    try:  # the late alert: refused (the intake answers 503) once fixed, never filed on top of the planted revision
        record_after_close_sync(INCIDENT, entry)
    except RuntimeError:
        pass

    status, body = api.call("undo_http", "POST", f"incidents/{INCIDENT}/undo", route={"incident_id": INCIDENT},
                            body={"step": step})
    acls = api.env.tenant.resource(ACCOUNT)["properties"]["networkAcls"]
    assert ATTACKER_IP not in json.dumps(acls), (status, body, acls)
    assert status == 200 and acls == genuine_before(firestop_home, step)["networkAcls"], (status, body, acls)
    from firestop.records.store import filed_record
    from firestop.settings import get_settings
    from runbooks.records import sealed_filings

    filed = filed_record(get_settings(), INCIDENT)  # the undo's revision, on top of the late alert's, on the genuine one
    assert ATTACKER_IP not in json.dumps(filed) and "late-1" in json.dumps(filed)
    assert list(sealed_filings(get_settings(), INCIDENT)) == [1, 2, 3]  # rev2 keyed beside the planted, rev3 plain
    assert len(list((firestop_home / "records").glob(f"{INCIDENT}.r2-*.json"))) == 1
