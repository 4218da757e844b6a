"""Shared set-up of the aftermath PoCs (RT5-03, RT6-01): the shipped anomalous-usage alert through the webhook,
its incident driven until it is filed contained."""

from __future__ import annotations

import json
from typing import Any

from firestop.settings import REPO_ROOT

#: examples/alerts/anomalous-usage.json, the shipped example (Common Alert Schema, log alert).
USAGE = json.loads((REPO_ROOT / "examples" / "alerts" / "anomalous-usage.json").read_text())


def contained_usage_incident(endpoint: Any) -> tuple[Any, Any, dict[str, Any]]:
    """Post :data:`USAGE`, run its incident to the end (timers advanced) and return ``(env, call, record)``:
    the endpoint's environment and call, and the filed record, asserted ``contained``."""
    from firestop.records.store import filed_record
    from tests.e2e.test_webhook import what_intake_did

    env, call = endpoint
    first = call("post_alert", "alerts", USAGE)
    incident = what_intake_did(first)["id"]
    env.host.run_until_idle(incident, advance_timers=True)
    record = filed_record(env.settings, incident)
    assert record["status"] == "contained"
    return env, call, record
