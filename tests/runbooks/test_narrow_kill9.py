"""kill -9 between any two calls of apply never loses the before-state (issue 15).

For each runbook below, the calls of a clean apply are read from the request log; then, after its first
call and after every write it makes, a child process applies and is killed with SIGKILL right after the
sandbox answered that call (the change is made, the answer never read), and a fresh process retries the apply on the same tenant and FIRESTOP_HOME.
The retry must report the original before-state, verify, and undo must restore the state exactly.
The kill sits in the tenant's request handling, so ARM (azure-core) and Graph (httpx) calls count alike.
"""

from __future__ import annotations

import json
import os
import signal

import pytest

from tests.runbooks.conftest import Sandbox
from tests.runbooks.narrow_cases import CASES

KILLED = ["deployment.suspend", "deployment.content_filter", "identity.disable_service_principal", "apim.suspend_subscription"]


def _text(value) -> str:
    return json.dumps(value, sort_keys=True)


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
@pytest.mark.parametrize("name", KILLED)
def test_a_kill_9_after_any_call_then_a_retry_keeps_the_before_state(tmp_path, name):
    from firestop.azure.clients import ClientFactory
    from firestop.sandbox import Tenant

    case = CASES[name]
    clean = Sandbox(tmp_path / "clean")
    case.get("prepare", lambda t: None)(clean.tenant)
    start = len(clean.tenant.requests)
    first = clean.run(name, "apply", target=case["target"], params=case["params"])
    assert first["ok"], first
    calls = clean.tenant.requests[start:]
    # kill after the first answer (nothing changed yet) and right after every answered write (the change made,
    # its answer lost) — the points where a before-state can be lost; not after the last call (nothing to resume)
    points = sorted({0} | {i for i, r in enumerate(calls[:-1]) if r.method in ("PUT", "PATCH", "POST", "DELETE")
                           and r.operation not in ("apimSubscriptions.listSecrets",)})
    assert len(points) >= 2, calls
    for index in points:
        box = Sandbox(tmp_path / f"kill-{index}")
        case.get("prepare", lambda t: None)(box.tenant)
        state = tmp_path / f"kill-{index}" / "sandbox"
        box.tenant.save(state)
        original = _text(case["state"](box.tenant))
        pid = os.fork()
        if pid == 0:  # child: apply until killed right after answer number index + 1
            try:
                tenant = Tenant.open(state)
                handle, left = tenant.handle, [index + 1]

                def handle_then_die(request, _handle=handle):
                    response = _handle(request)
                    left[0] -= 1
                    if left[0] == 0:
                        os.kill(os.getpid(), signal.SIGKILL)
                    return response

                tenant.handle = handle_then_die
                box.tenant = tenant
                box.clients = ClientFactory(credential=tenant.credential, transport=tenant.transport, clock=tenant.clock, sandbox=True)
                box.run(name, "apply", target=case["target"], params=case["params"])
            finally:
                os._exit(0)
        _, status = os.waitpid(pid, 0)
        assert os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL, (name, index, status)
        box.tenant = Tenant.open(state)
        box.tenant.clock.advance(30)  # an LRO the child started has finished by the time the step is retried
        box.clients = ClientFactory(credential=box.tenant.credential, transport=box.tenant.transport, clock=box.tenant.clock, sandbox=True)
        retry = box.run(name, "apply", target=case["target"], params=case["params"])
        assert retry["ok"], (name, index, retry)
        assert _text(retry["result"]["before"]) == _text(first["result"]["before"]), (name, index)
        assert box.run(name, "verify", target=case["target"], params=case["params"], applied=retry["result"])["ok"], (name, index)
        undo = box.run(name, "undo", target=case["target"], params=case["params"], applied=retry["result"])
        assert undo["ok"], (name, index, undo)
        assert _text(case["state"](box.tenant)) == original, (name, index)
