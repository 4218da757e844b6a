"""variants13 item 4 (low): ``alert handle`` did not give a differing delivery its own incident as POST /api/alerts does.

With the source check on, a forged delivery of an alert id handled first (not confirmed, waiting for
``alert.genuine``), then the genuine delivery of the same id: ``alert handle`` resumed the forged incident's wait and
only said to add ``--rerun`` (newuser11), where the webhook gives it an incident of its own, checked on its own
(``firestop.intake.accept._variant``). Fixed: both take one decision (``firestop.intake.accept.takes_variant``) and
key the variant alike (``variant_id``); ``alert handle`` starts (or resumes, or shows) that variant. They stay two
drivers — the CLI keys incidents by alert id and drives the local host in-process, intake by correlation slot
through the Durable client — so the decision is what is shared.
"""

from __future__ import annotations

import json

from typer.testing import CliRunner

from firestop.cli.main import app
from tests.cli.test_waiting_summary import forged_leaked_key


def _cli(*args: str):
    return CliRunner().invoke(app, list(args))


def test_alert_handle_checks_the_genuine_delivery_after_a_forged_one_on_its_own(firestop_home, monkeypatch):
    from firestop.alerts import parse_alert
    from firestop.intake.accept import delivery_digest, variant_id

    monkeypatch.setenv("FIRESTOP_ALERT_SOURCE_CHECK", "on")
    genuine, forged = forged_leaked_key(firestop_home)
    assert _cli("alert", "handle", str(forged)).exit_code == 3  # not confirmed: waits for alert.genuine
    handled = _cli("alert", "handle", str(genuine), "--json")
    assert handled.exit_code == 0, handled.output
    view = json.loads(handled.stdout)
    alert = parse_alert(genuine.read_bytes())
    assert view["status"] == "contained" and view["incident_id"] == variant_id(alert, delivery_digest(alert)), view
    assert "handled as incident" in view["note"] and "with its own source check" in view["note"]
    again = _cli("alert", "handle", str(genuine), "--json")  # the same delivery again: its record, nothing new
    assert again.exit_code == 0 and json.loads(again.stdout)["incident_id"] == view["incident_id"], again.output


def test_alert_handle_of_the_resolved_delivery_goes_to_the_confirmed_variant(firestop_home, monkeypatch):
    """Item 3 on the CLI: the Resolved delivery of the genuine alert reaches the incident that confirmed it, not the
    forged incident still waiting under the alert's own id."""
    monkeypatch.setenv("FIRESTOP_ALERT_SOURCE_CHECK", "on")
    genuine, forged = forged_leaked_key(firestop_home)
    assert _cli("alert", "handle", str(forged)).exit_code == 3
    contained = json.loads(_cli("alert", "handle", str(genuine), "--json").stdout)
    resolved = json.loads(genuine.read_text())
    resolved["data"]["essentials"]["monitorCondition"] = "Resolved"
    resolved["data"]["essentials"]["resolvedDateTime"] = resolved["data"]["essentials"]["firedDateTime"]
    path = firestop_home.parent / "resolved.json"
    path.write_text(json.dumps(resolved))
    answer = _cli("alert", "handle", str(path), "--json")
    assert json.loads(answer.stdout)["incident_id"] == contained["incident_id"], answer.output
