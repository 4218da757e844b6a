"""variants14 item 4: rehearsing the forged path with ``alert handle``.

With the source check on, ``alert handle`` has the sandbox's Azure Monitor fire every payload first (README: so an
edited payload is confirmed there), so a forged delivery could not be rehearsed locally: it confirmed. Now
``--unregistered`` leaves that registration out — the sandbox's Alerts Management then answers 404 as it would for a
forged delivery, and the incident waits for the ``alert.genuine`` decision. It changes the sandbox's set-up only:
with ``--azure`` it is refused before anything is read or built (it must never be a way to skip a check against
Azure), and the incident's input carries the same source check either way.
"""

from __future__ import annotations

import json

from typer.testing import CliRunner

from firestop.cli.main import app
from tests.cli.test_waiting_summary import forged_leaked_key


def _cli(*args: str):
    return CliRunner().invoke(app, list(args))


def test_unregistered_rehearses_the_forged_path(firestop_home, monkeypatch):
    monkeypatch.setenv("FIRESTOP_ALERT_SOURCE_CHECK", "on")
    genuine, _ = forged_leaked_key(firestop_home)
    handled = _cli("alert", "handle", str(genuine), "--unregistered", "--json")
    assert handled.exit_code == 3, handled.output  # waits for a responder: not confirmed at its source
    view = json.loads(handled.stdout)
    checks = [e for e in view["timeline_so_far"] if e.get("step") == "confirm alert at source"]
    assert [e["outcome"] for e in checks] == ["not confirmed"] and "404" in checks[0]["detail"], checks
    assert view["pending_approval"]["step"] == "alert.genuine", view["pending_approval"]
    from firestop.cli.wiring import sandbox_environment

    env = sandbox_environment()
    try:  # the same input as without the flag: the check is asked for, only the sandbox was not told of the alert
        inp = env.host.get_status(view["incident_id"]).input
    finally:
        env.close()
    assert inp["source_check"] == "azure-monitor", inp


def test_without_the_flag_the_same_payload_confirms(firestop_home, monkeypatch):
    monkeypatch.setenv("FIRESTOP_ALERT_SOURCE_CHECK", "on")
    genuine, _ = forged_leaked_key(firestop_home)
    handled = _cli("alert", "handle", str(genuine), "--json")
    assert handled.exit_code == 0 and json.loads(handled.stdout)["status"] == "contained", handled.output


def test_unregistered_is_refused_with_azure_before_anything_is_built(firestop_home, monkeypatch):
    monkeypatch.setenv("FIRESTOP_ALERT_SOURCE_CHECK", "on")
    genuine, _ = forged_leaked_key(firestop_home)
    import firestop.cli.wiring as wiring

    def never(*args, **kwargs):
        raise AssertionError("no environment may be built")

    monkeypatch.setattr(wiring, "environment", never)
    for extra in ([], ["--json"]):
        refused = _cli("alert", "handle", str(genuine), "--azure", "--yes", "--unregistered", *extra)
        assert refused.exit_code == 2, refused.output
        assert "--unregistered" in refused.output and "drop one of them" in refused.output, refused.output
