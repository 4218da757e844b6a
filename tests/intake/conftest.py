"""A Durable client stand-in with the SDK's observable behaviour, for intake unit tests.

``FakeDurableClient`` answers like ``DurableOrchestrationClient`` over the
extension's HTTP API: ``get_status`` returns a falsy status for a 404 and a
falsy status carrying ``Message``/``ExceptionMessage`` for a 500;
``get_status_by`` lists without inputs; ``start_new`` refuses a Pending/Running
id (as host.json ``NonRunningStates`` makes Azure do); ``raise_event`` raises
for 404/410; ``signal_entity`` records the signal (``signals``) and, like the extension, never asks
whether an instance of that name exists. ``fail`` makes a method fail like a store outage; ``on_start``
runs just before ``start_new`` (a racing worker).
"""

from __future__ import annotations

import asyncio
import copy
import json
from datetime import datetime, timedelta, timezone
from typing import Any, Callable

import pytest
from azure.durable_functions.models.DurableOrchestrationStatus import DurableOrchestrationStatus

from firestop.alerts import parse_alert

NOW = datetime(2026, 11, 29, 3, 20, tzinfo=timezone.utc)
SUB = "/subscriptions/11111111-2222-3333-4444-555555555555"
ACCOUNT = f"{SUB}/resourcegroups/rg-ai-prod/providers/microsoft.cognitiveservices/accounts/contoso-openai-prod"
OTHER = f"{SUB}/resourcegroups/rg-ai-prod/providers/microsoft.cognitiveservices/accounts/contoso-openai-dr"
ORCH = "incident_orchestrator"


def _fmt(when: datetime) -> str:
    return when.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


class FakeDurableClient:
    def __init__(self) -> None:
        self.instances: dict[str, dict[str, Any]] = {}
        self.events: list[tuple[str, str, Any]] = []
        self.signals: list[tuple[str, str, str, Any]] = []  # (entity name, key, operation, input)
        self.calls: list[str] = []
        self.fail: dict[str, str] = {}  # method -> "raise" | "error-body"
        self.on_start: Callable[[str], None] | None = None
        self.task_hub_name = "FakeHub"

    # helpers --------------------------------------------------------------
    def add(self, instance_id: str, *targets: str, status: str = "Pending", age_s: float = 60,
            name: str = ORCH, input_as_text: bool = False, ended_s: float | None = None,
            output: Any = None, part_of: str | None = None) -> None:
        """``ended_s``: seconds ago it last changed (default: when created); ``output``: its record."""
        value: Any = {"incident_id": instance_id, "alert": {"target_ids": list(targets)}}
        if part_of:
            value["part_of"] = part_of
        self.instances[instance_id] = {
            "name": name, "runtimeStatus": status, "createdTime": _fmt(NOW - timedelta(seconds=age_s)),
            "lastUpdatedTime": _fmt(NOW - timedelta(seconds=age_s if ended_s is None else ended_s)),
            "input": json.dumps(value) if input_as_text else value, "output": output,
        }

    def _payload(self, iid: str, show_input: bool) -> dict[str, Any]:
        inst = self.instances[iid]
        return {"name": inst["name"], "instanceId": iid, "runtimeStatus": inst["runtimeStatus"],
                "createdTime": inst["createdTime"], "lastUpdatedTime": inst.get("lastUpdatedTime", inst["createdTime"]),
                "input": inst["input"] if show_input else None, "output": inst.get("output") if show_input else None}

    def _maybe_fail(self, method: str) -> Any:
        self.calls.append(method)
        mode = self.fail.get(method)
        if mode == "raise":
            raise ConnectionError(f"{method}: connection refused")
        return mode

    # the SDK surface ------------------------------------------------------
    async def get_status(self, instance_id, show_history=False, show_history_output=False, show_input=False):
        await asyncio.sleep(0)
        if self._maybe_fail("get_status") == "error-body":
            return DurableOrchestrationStatus.from_json({"Message": "boom", "ExceptionMessage": "database is locked"})
        if instance_id not in self.instances:
            return DurableOrchestrationStatus.from_json("")
        return DurableOrchestrationStatus.from_json(self._payload(instance_id, show_input))

    async def get_status_by(self, created_time_from=None, created_time_to=None, runtime_status=None, instance_id_prefix=None):
        await asyncio.sleep(0)
        self._maybe_fail("get_status_by")
        wanted = {s.value for s in runtime_status} if runtime_status else None
        out = []
        for iid, inst in self.instances.items():
            created = datetime.strptime(inst["createdTime"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc)
            if wanted is not None and inst["runtimeStatus"] not in wanted:
                continue
            if created_time_from is not None and created < created_time_from:
                continue
            out.append(DurableOrchestrationStatus.from_json(self._payload(iid, False)))
        return out

    async def start_new(self, orchestration_function_name, instance_id=None, client_input=None, version=None):
        await asyncio.sleep(0)
        self._maybe_fail("start_new")
        if self.on_start is not None:
            self.on_start(instance_id)
        existing = self.instances.get(instance_id)
        if existing is not None and existing["runtimeStatus"] in ("Pending", "Running"):
            raise Exception({"Message": "already exists", "ExceptionMessage": "already exists"})
        json.dumps(client_input)
        self.instances[instance_id] = {"name": orchestration_function_name, "runtimeStatus": "Pending",
                                       "createdTime": _fmt(NOW), "input": copy.deepcopy(client_input)}
        return instance_id

    async def raise_event(self, instance_id, event_name, event_data=None, task_hub_name=None, connection_name=None):
        await asyncio.sleep(0)
        self._maybe_fail("raise_event")
        inst = self.instances.get(instance_id)
        if inst is None:
            raise Exception(f"No instance with ID {instance_id} found.")
        if inst["runtimeStatus"] not in ("Pending", "Running"):
            raise Exception(f"Instance with ID {instance_id} is gone: either completed or failed")
        self.events.append((instance_id, event_name, json.loads(json.dumps(event_data))))

    async def signal_entity(self, entityId, operation_name, operation_input=None, task_hub_name=None,
                            connection_name=None):
        await asyncio.sleep(0)
        self._maybe_fail("signal_entity")
        self.signals.append((entityId.name, entityId.key, operation_name, json.loads(json.dumps(operation_input))))


@pytest.fixture
def fake() -> FakeDurableClient:
    from firestop.intake.accept import clear_caches

    clear_caches()
    return FakeDurableClient()


def make_alert(alert_id: str = "a1", *, targets: tuple[str, ...] = (ACCOUNT,), condition: str = "Fired",
               resolved: str | None = None):
    essentials: dict[str, Any] = {
        "alertId": f"{SUB}/providers/Microsoft.AlertsManagement/alerts/{alert_id}",
        "alertRule": "aoai-leaked-key-usage",
        "severity": "Sev1",
        "signalType": "Log",
        "monitorCondition": condition,
        "monitoringService": "Log Alerts V2",
        "alertTargetIDs": list(targets),
        "firedDateTime": "2026-11-29T03:14:02.184Z",
    }
    if resolved:
        essentials["resolvedDateTime"] = resolved
    return parse_alert({"schemaId": "azureMonitorCommonAlertSchema",
                        "data": {"essentials": essentials, "alertContext": {"secret": "raw context"}}})
