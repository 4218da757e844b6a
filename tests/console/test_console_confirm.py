"""The console asks before it changes anything that matters, without script: Undo containment and Stop each open a
confirmation page (GET, responders only) holding the POST form; the incident page's buttons never post (the
new-user trial: one click on "Undo containment" undid it, and a running incident had no Stop at all)."""

from __future__ import annotations

import re
import shutil

from firestop.settings import REPO_ROOT
from tests.console.test_console_routes import INCIDENT, call, token_of

ANOMALOUS = REPO_ROOT / "examples" / "alerts" / "anomalous-usage.json"
STEP = "snapshot-logs"  # its first step: gated here on oid-alice's approval


def _waiting(api, tmp_path) -> str:
    """The anomalous-usage alert handled with its first step gated on oid-alice's approval: it waits."""
    from firestop.alerts import parse_alert
    from firestop.cli.incidents import handle_alert

    folder = tmp_path / "pb"
    shutil.copytree(REPO_ROOT / "playbooks", folder)
    text = (folder / "anomalous-usage.yaml").read_text()
    (folder / "anomalous-usage.yaml").write_text(text.replace(
        f"  - id: {STEP}\n", f"  - id: {STEP}\n    approval: {{mode: required, approvers: [\"oid-alice\"]}}\n", 1))
    from firestop.settings import configure_settings, get_settings

    configure_settings(get_settings().model_copy(update={"playbooks_dir": folder}))  # the settings are read once
    incident, _ = handle_alert(parse_alert(ANOMALOUS.read_bytes()), env=api.env)
    assert incident["status"] == "awaiting_approval", incident
    return incident["incident_id"]


def _page(api, incident, who="oid-bob", function="console_incident", suffix=""):
    status, _, page = call(api, function, f"console/incidents/{incident}{suffix}", who=who, route={"incident_id": incident})
    return status, page


def _post(api, incident, what, form, who="oid-bob"):
    return call(api, f"console_{what}", f"console/incidents/{incident}/{what}", who=who, method="POST", form=form,
                route={"incident_id": incident}, headers={"Origin": api.server.base_url})


def test_undo_containment_asks_first_on_a_page_of_its_own(api):
    status, page = _page(api, INCIDENT)
    assert status == 200 and "Undo containment" in page
    form = re.search(r'<form method="([a-z]+)" action="([^"]+)"><div class="buttons"><button class="undo" type="submit">Undo containment',
                     page)
    assert form and form.group(1) == "get" and form.group(2).endswith(f"/console/incidents/{INCIDENT}/undo"), page
    status, confirm = _page(api, INCIDENT, function="console_undo_confirm", suffix="/undo")
    assert status == 200 and "Undo containment of" in confirm and "Yes, undo containment" in confirm
    assert "<code>lock-network</code>" in confirm and f'href="/api/console/incidents/{INCIDENT}"' in confirm  # what, and a way back
    assert "<script" not in confirm
    assert api.env.tenant.resource(_account())["properties"]["networkAcls"]["defaultAction"] == "Deny"  # nothing changed yet
    status, headers, _ = _post(api, INCIDENT, "undo", {"csrf": token_of(confirm), "confirm": "undo"})
    assert status == 303 and headers["Location"].endswith("?done=undo")
    status, page = _page(api, INCIDENT, function="console_undo_confirm", suffix="/undo")
    assert status == 409 and "nothing left" in page


def test_an_undo_or_release_posted_without_its_confirmation_is_refused(api):
    """The confirmation was page flow only: a POST with a valid token and no confirmation undid at once, and Release
    acted in one click. The POST now needs the field its confirmation page sets (``confirm=undo``, or
    ``confirm=release`` with the step); without it: 400 naming the fix, nothing done. The CSRF check comes first."""
    _, confirm = _page(api, INCIDENT, function="console_undo_confirm", suffix="/undo")
    assert 'name="confirm" value="undo"' in confirm
    token = token_of(confirm)
    for form in ({"csrf": token}, {"csrf": token, "confirm": "yes"}, {"csrf": token, "confirm": "release"},
                 {"csrf": token, "step": "lock-network"}, {"csrf": token, "step": "lock-network", "confirm": "undo"}):
        status, _, answer = call(api, "console_undo", f"console/incidents/{INCIDENT}/undo", who="oid-bob", method="POST",
                                 form=form, route={"incident_id": INCIDENT},
                                 headers={"Origin": api.server.base_url, "Accept": "application/json"})
        assert status == 400 and "not confirmed" in answer and "confirm=" in answer, (form, answer)
    assert api.env.tenant.resource(_account())["properties"]["networkAcls"]["defaultAction"] == "Deny"  # nothing undone
    status, _, answer = call(api, "console_undo", f"console/incidents/{INCIDENT}/undo", who="oid-bob", method="POST",
                             form={"confirm": "undo"}, route={"incident_id": INCIDENT},
                             headers={"Origin": api.server.base_url, "Accept": "application/json"})
    assert status == 403 and "anti-forgery" in answer  # CSRF as before, checked first


def test_the_confirmation_pages_take_the_responder_role(api, tmp_path):
    waiting = _waiting(api, tmp_path)
    for incident, function, suffix in ((INCIDENT, "console_undo_confirm", "/undo"), (waiting, "console_stop_confirm", "/stop")):
        status, page = _page(api, incident, who="oid-mallory", function=function, suffix=suffix)  # a reader
        assert status == 403 and "csrf" not in page, page
    _, page = _page(api, waiting, who="oid-mallory")
    assert "Stop incident" not in page and "incident stop" in page  # the card and its CLI, no button


def test_stop_from_the_console_asks_then_stops_a_waiting_incident(api, tmp_path):
    waiting = _waiting(api, tmp_path)
    status, page = _page(api, waiting)
    assert status == 200 and "Stop incident" in page and f"python -m firestop incident stop {waiting}" in page
    assert re.search(rf'<form method="get" action="[^"]*/console/incidents/{waiting}/stop">', page), page
    status, confirm = _page(api, waiting, function="console_stop_confirm", suffix="/stop")
    assert status == 200 and "Yes, stop incident" in confirm and 'name="reason" required maxlength="500"' in confirm
    assert f"waiting for approval of <code>{STEP}</code>" in confirm
    token = token_of(confirm)
    status, _, answer = _post(api, waiting, "stop", {"csrf": token, "reason": "  "})
    assert status == 400 and "reason" in answer
    status, _, answer = _post(api, waiting, "stop", {"reason": "drill"})  # no anti-forgery token
    assert status == 403
    status, headers, _ = _post(api, waiting, "stop", {"csrf": token, "reason": "false positive: planned load test"})
    assert status == 303 and headers["Location"].endswith(f"/console/incidents/{waiting}?done=stop"), headers
    api.env.host.run_until_idle(waiting)  # the orchestrator handles the stop (firestop serve's workers do this)
    status, page = _page(api, waiting)
    assert status == 200 and "stopped" in page and "planned load test" in page and "Stop incident" not in page
    status, page = _page(api, waiting, function="console_stop_confirm", suffix="/stop")
    assert status == 409 and "already finished" in page


def _account() -> str:
    from tests.trust.conftest import ACCOUNT

    return ACCOUNT
