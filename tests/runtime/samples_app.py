"""A small Function App with the Durable Functions Python samples' patterns (a test fixture).

Written from the patterns Microsoft Learn documents for Python (v2 programming
model, a Blueprint registered on a ``df.DFApp``): "Function chaining",
"Fan-out/fan-in", "Human interaction" (an external event raced with a durable
timer), "Monitor" (a timer loop until a condition or an expiry), "Eternal
orchestrations" (``continue_as_new``), "Sub-orchestrations", "Durable
entities" (the counter; function-based — the Python SDK has no class-based
entity syntax, so a plain class is dispatched from an entity function), and an
activity with output bindings (a queue message and a blob). Not copied from
the samples repository.
"""

from __future__ import annotations

import json
from datetime import timedelta

import azure.durable_functions as df
import azure.functions as func

bp = df.Blueprint()
MONITOR = {"ready_after_checks": 3}


# -- client (HTTP starter) -----------------------------------------------------
@bp.route(route="orchestrators/{name}", methods=["POST"], auth_level=func.AuthLevel.ANONYMOUS)
@bp.durable_client_input(client_name="client")
async def http_start(req: func.HttpRequest, client: df.DurableOrchestrationClient) -> func.HttpResponse:
    body = req.get_body()
    instance_id = await client.start_new(req.route_params["name"], None, json.loads(body) if body else None)
    return client.create_check_status_response(req, instance_id)


# -- chaining ------------------------------------------------------------------
@bp.orchestration_trigger(context_name="context")
def hello_sequence(context: df.DurableOrchestrationContext):
    first = yield context.call_activity("say_hello", "Tokyo")
    second = yield context.call_activity("say_hello", "Seattle")
    third = yield context.call_activity("say_hello", "London")
    return [first, second, third]


@bp.activity_trigger(input_name="city")
def say_hello(city: str) -> str:
    return f"Hello {city}!"


# -- fan-out / fan-in ----------------------------------------------------------
@bp.orchestration_trigger(context_name="context")
def backup_site(context: df.DurableOrchestrationContext):
    files = yield context.call_activity("list_files", context.get_input())
    sizes = yield context.task_all([context.call_activity("copy_file", name) for name in files])
    return sum(sizes)


@bp.activity_trigger(input_name="root")
def list_files(root: str) -> list:
    return [f"{root}/file-{k}.txt" for k in range(5)]


@bp.activity_trigger(input_name="path")
def copy_file(path: str) -> int:
    return len(path)


# -- human interaction ---------------------------------------------------------
@bp.orchestration_trigger(context_name="context")
def approval_workflow(context: df.DurableOrchestrationContext):
    yield context.call_activity("request_approval", context.get_input())
    deadline = context.current_utc_datetime + timedelta(hours=72)
    timeout = context.create_timer(deadline)
    approval = context.wait_for_external_event("ApprovalEvent")
    winner = yield context.task_any([approval, timeout])
    if winner is approval:
        timeout.cancel()
        return (yield context.call_activity("process_approval", approval.result))
    return (yield context.call_activity("escalate", context.get_input()))


@bp.activity_trigger(input_name="request")
def request_approval(request: str) -> str:
    return f"approval requested for {request}"


@bp.activity_trigger(input_name="answer")
def process_approval(answer) -> str:
    return f"approved by {answer['by']}"


@bp.activity_trigger(input_name="request")
def escalate(request: str) -> str:
    return f"escalated {request}"


# -- monitor -------------------------------------------------------------------
@bp.orchestration_trigger(context_name="context")
def job_monitor(context: df.DurableOrchestrationContext):
    job = context.get_input()
    expiry = context.current_utc_datetime + timedelta(hours=6)
    checks = 0
    while context.current_utc_datetime < expiry:
        checks += 1
        status = yield context.call_activity("get_job_status", {"job": job, "check": checks})
        if status == "Completed":
            yield context.call_activity("send_alert", job)
            return {"job": job, "checks": checks}
        yield context.create_timer(context.current_utc_datetime + timedelta(minutes=30))
    return {"job": job, "checks": checks, "expired": True}


@bp.activity_trigger(input_name="probe")
def get_job_status(probe: dict) -> str:
    return "Completed" if probe["check"] >= MONITOR["ready_after_checks"] else "Running"


@bp.activity_trigger(input_name="job")
def send_alert(job: str) -> str:
    return f"{job} is done"


# -- eternal -------------------------------------------------------------------
@bp.orchestration_trigger(context_name="context")
def periodic_cleanup(context: df.DurableOrchestrationContext):
    state = context.get_input() or {"round": 0, "removed": 0}
    removed = yield context.call_activity("cleanup", state["round"])
    state = {"round": state["round"] + 1, "removed": state["removed"] + removed}
    if state["round"] >= 3:  # a sample would loop forever; the test stops after three rounds
        return state
    yield context.create_timer(context.current_utc_datetime + timedelta(hours=1))
    context.continue_as_new(state)


@bp.activity_trigger(input_name="round_")
def cleanup(round_: int) -> int:
    return round_ + 1


# -- sub-orchestrations ----------------------------------------------------------
@bp.orchestration_trigger(context_name="context")
def provision_devices(context: df.DurableOrchestrationContext):
    devices = context.get_input()
    results = yield context.task_all([context.call_sub_orchestrator("device_provisioning", device)
                                      for device in devices])
    return results


@bp.orchestration_trigger(context_name="context")
def device_provisioning(context: df.DurableOrchestrationContext):
    device = context.get_input()
    key = yield context.call_activity("create_device_key", device)
    yield context.call_activity("install_key", {"device": device, "key": key})
    return {"device": device, "key": key}


@bp.activity_trigger(input_name="device")
def create_device_key(device: str) -> str:
    return f"key-{device}"


@bp.activity_trigger(input_name="request")
def install_key(request: dict) -> bool:
    return True


# -- entities ------------------------------------------------------------------
@bp.entity_trigger(context_name="context")
def Counter(context: df.DurableEntityContext):  # noqa: N802 - the entity's name as the samples spell it
    current = context.get_state(lambda: 0)
    operation = context.operation_name
    if operation == "add":
        current += context.get_input()
    elif operation == "reset":
        current = 0
    context.set_result(current)
    context.set_state(current)


class ShoppingCart:
    """Class-style entity state: methods are the operations (dispatched by ``cart``)."""

    def __init__(self, items: dict | None = None) -> None:
        self.items = dict(items or {})

    def add_item(self, item: dict) -> int:
        self.items[item["sku"]] = self.items.get(item["sku"], 0) + item["quantity"]
        return sum(self.items.values())

    def remove_item(self, sku: str) -> int:
        self.items.pop(sku, None)
        return sum(self.items.values())

    def count(self, _input=None) -> int:
        return sum(self.items.values())


@bp.entity_trigger(context_name="context", entity_name="Cart")
def cart(context: df.DurableEntityContext):
    instance = ShoppingCart(context.get_state(dict))
    operation = getattr(instance, context.operation_name, None)
    if operation is None or context.operation_name.startswith("_"):
        raise ValueError(f"Cart has no operation {context.operation_name!r}")
    context.set_result(operation(context.get_input()))
    context.set_state(instance.items)


@bp.orchestration_trigger(context_name="context")
def counter_orchestration(context: df.DurableOrchestrationContext):
    entity = df.EntityId("Counter", context.get_input())
    context.signal_entity(entity, "add", 1)
    state = yield context.call_entity(entity, "add", 10)
    return state


# -- an activity with output bindings ---------------------------------------------
@bp.orchestration_trigger(context_name="context")
def report_workflow(context: df.DurableOrchestrationContext):
    return (yield context.call_activity("write_report", context.get_input()))


@bp.activity_trigger(input_name="report")
@bp.queue_output(arg_name="notice", queue_name="report-notices", connection="AzureWebJobsStorage")
@bp.blob_output(arg_name="document", path="reports/{data.account}/{instanceId}.json", connection="AzureWebJobsStorage")
def write_report(report: dict, notice: func.Out[str], document: func.Out[str]) -> str:
    body = json.dumps(report, sort_keys=True)
    document.set(body)
    notice.set(f"report ready for {report['account']}")
    return f"{len(body)} bytes"


app = df.DFApp(http_auth_level=func.AuthLevel.ANONYMOUS)
app.register_functions(bp)
