"""keys.rotate regenerates exactly two keys per rotation whatever fault or crash falls between its calls.

The call sequence of a clean rotation is read from the sandbox's request log; then, for every call
in it, (a) a fault is injected on that call and the apply retried, (b) the process applying is killed
with SIGKILL right after the sandbox answered that call (the change is made, the answer never read)
and the apply retried by another process. Every run must end rotated and verified with exactly two
``regenerateKey`` requests that the sandbox answered 200 — one per key.
"""

from __future__ import annotations

import os
import signal

import pytest

from tests.runbooks.conftest import ACCOUNT, Sandbox

REGENERATE = "accounts.regenerateKey"


def _regenerations(tenant) -> int:
    return sum(1 for r in tenant.requests if r.operation == REGENERATE and r.status == 200)


def _clean_sequence(tmp_path) -> list[str]:
    box = Sandbox(tmp_path / "clean")
    start = len(box.tenant.requests)
    answer = box.run("keys.rotate", "apply")
    assert answer["ok"], answer
    ops = [r.operation for r in box.tenant.requests[start:] if r.status != 401]  # 401: Key Vault's auth challenge
    assert ops.count(REGENERATE) == 2 and "secrets.set" in ops, ops
    return ops


def _assert_rotated_once(box: Sandbox, old: dict[str, str], retry: dict) -> None:
    assert retry["ok"], retry
    new = box.tenant.account_keys(ACCOUNT)
    assert new["key1"] != old["key1"] and new["key2"] != old["key2"]
    assert _regenerations(box.tenant) == 2
    assert box.tenant.secret_versions("kv-contoso-ai", "openai-api-key")[-1]["value"] == new["key2"]
    assert box.run("keys.rotate", "verify", applied=retry["result"])["ok"]


def test_a_fault_at_any_call_then_a_retry_regenerates_each_key_once(tmp_path):
    ops = _clean_sequence(tmp_path)
    for index, op in enumerate(ops):
        box = Sandbox(tmp_path / f"fault-{index}")
        old = box.tenant.account_keys(ACCOUNT)
        box.tenant.inject_fault(op, status=403, nth=ops[:index + 1].count(op))
        first = box.run("keys.rotate", "apply")
        assert not first["ok"] and first["error"]["kind"] == "forbidden", (index, op, first)
        _assert_rotated_once(box, old, box.run("keys.rotate", "apply"))


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_a_kill_9_after_any_call_then_a_retry_regenerates_each_key_once(tmp_path):
    from firestop.azure.clients import ClientFactory
    from firestop.sandbox import SandboxTransport, Tenant

    class KillAfter(SandboxTransport):
        """Answers like the sandbox, then SIGKILLs this process after the ``n``-th answered request."""

        def __init__(self, tenant, n: int) -> None:
            super().__init__(tenant)
            self.left = n

        def send(self, request, **kwargs):
            response = super().send(request, **kwargs)
            self.left -= 1
            if self.left == 0:
                os.kill(os.getpid(), signal.SIGKILL)
            return response

    ops = _clean_sequence(tmp_path)
    answered = len(ops) + 1  # the child also gets Key Vault's 401 challenge answered
    for index in range(answered - 1):  # after the last call there is nothing left to resume
        state = tmp_path / f"kill-{index}" / "sandbox"
        box = Sandbox(tmp_path / f"kill-{index}")
        box.tenant.save(state)  # shared with the child through tenant.json
        old = box.tenant.account_keys(ACCOUNT)
        pid = os.fork()
        if pid == 0:  # child: apply until killed after call `index`
            try:
                tenant = Tenant.open(state)
                box.tenant = tenant
                box.clients = ClientFactory(credential=tenant.credential, transport=KillAfter(tenant, index + 1),
                                            clock=tenant.clock, sandbox=True)
                box.run("keys.rotate", "apply")
            finally:
                os._exit(0)  # not killed: the test below fails on the exit status
        _, status = os.waitpid(pid, 0)
        assert os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL, (index, status)
        box.tenant = Tenant.open(state)
        box.clients = ClientFactory(credential=box.tenant.credential, transport=box.tenant.transport,
                                    clock=box.tenant.clock, sandbox=True)
        _assert_rotated_once(box, old, box.run("keys.rotate", "apply"))
