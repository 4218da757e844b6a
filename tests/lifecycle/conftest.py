from __future__ import annotations

import json
import uuid
from typing import Any

import pytest

from firestop.settings import REPO_ROOT

EXAMPLE = REPO_ROOT / "examples" / "alerts" / "leaked-key.json"
ACCOUNT = "/subscriptions/11111111-2222-3333-4444-555555555555/resourceGroups/rg-ai-prod/providers/Microsoft.CognitiveServices/accounts/contoso-openai-prod"
ALICE, BOB, MALLORY = "oid-alice", "oid-bob", "oid-mallory"


class Lab:
    """The sandbox environment plus helpers to run one incident with a pinned playbook."""

    def __init__(self) -> None:
        from firestop.cli.wiring import sandbox_environment

        self.env = sandbox_environment()
        self.host = self.env.host
        self.tenant = self.env.tenant

    def alert(self, **changes: Any):
        from firestop.alerts import parse_alert

        payload = json.loads(EXAMPLE.read_text())
        essentials = payload["data"]["essentials"]
        for key, value in changes.items():
            if key == "custom":
                payload["data"]["customProperties"] = value
            else:
                essentials[key] = value
        return parse_alert(payload)

    def start(self, playbook: dict, *, alert=None, requested_by: str | None = None) -> str:
        from firestop.lifecycle import ORCHESTRATOR_NAME
        from firestop.lifecycle.start import incident_input
        from firestop.playbooks import Playbook

        alert = alert or self.alert()
        inp = incident_input(alert, received_at=self.tenant.clock.now(), sandbox=True)
        inp["playbook"] = Playbook.model_validate(playbook).model_dump(mode="json", by_alias=True)
        if requested_by:
            inp["requested_by"] = requested_by
        return self.host.start_new(ORCHESTRATOR_NAME, inp["incident_id"], self.sealed(inp))

    @staticmethod
    def sealed(inp: dict, instance_id: str | None = None) -> dict:
        """The input sealed as intake seals it (the test is a trusted in-process starter)."""
        from firestop.trust.seal import Purpose, seal

        return seal(Purpose.INCIDENT, inp, binding=instance_id or inp["incident_id"])

    def run(self, instance: str, *, advance_timers: bool = False):
        self.host.run_until_idle(instance, advance_timers=advance_timers)
        return self.host.get_status(instance)

    def decide(self, instance: str, step: str, decision: str, by: str, *, as_text: bool = False, **extra: Any) -> None:
        """A decision as the responders' API sends it: for the pending request, sealed."""
        from firestop.lifecycle.approvals import decision_event
        from firestop.trust.seal import seal_decision

        custom = self.host.get_status(instance).custom_status
        pending = (custom or {}).get("pending_approval") or {"step": step, "requested_at": None}  # not asked yet
        assert pending["step"] == step, pending
        event = decision_event(instance, pending, decision=decision, by=by, groups=extra.pop("groups", []),
                               comment=extra.pop("comment", None), decision_id=extra.pop("decision_id", uuid.uuid4().hex),
                               at=self.tenant.clock.now().isoformat())
        sealed = seal_decision({**event, **extra})
        name = pending.get("event") or f"approval:{step}"  # the name the gate publishes, as the API raises it
        self.host.raise_event(instance, name, json.dumps(sealed) if as_text else sealed)

    def acls(self) -> dict:
        return self.tenant.resource(ACCOUNT)["properties"]["networkAcls"]


@pytest.fixture
def lab(firestop_home):
    lab = Lab()
    yield lab
    lab.env.close()


def playbook(*contain: dict, resolve: list | None = None, name: str = "test-playbook") -> dict:
    return {"name": name, "match": {"rule_names": ["x"]}, "contain": list(contain), "resolve": resolve or []}


LOCK = {"id": "lock-network", "runbook": "network.lock"}
ROTATE = {"id": "rotate-keys", "runbook": "keys.rotate"}
