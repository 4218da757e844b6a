"""Authentication runbooks: turn off key authentication on an Azure OpenAI account.

``auth.disable_local_auth`` sets ``properties.disableLocalAuth: true`` (account
PATCH, REST API 2025-09-01 via azure-mgmt-cognitiveservices 14.1; property per
the ``AccountProperties`` swagger and
https://learn.microsoft.com/azure/ai-services/disable-local-auth): API keys stop
working at once, whichever leaked, and callers must use Microsoft Entra ID.
The PATCH is an ARM long-running operation (202 + ``Azure-AsyncOperation``).

Undo writes back exactly the value that was there (``false``, or removes the
property when the account had none), refusing when someone changed it since.
"""

from __future__ import annotations

import json
from typing import Any

from firestop.azure.errors import RunbookError
from runbooks.arm import READ_ACCOUNT, READ_OPERATION_RESULTS, WRITE_ACCOUNT, get_account, patch_account
from runbooks.base import Applied, Change, Check, NoParams, Plan, RunContext, Runbook, Verification
from runbooks.registry import register
from runbooks.targets import ACCOUNT_TYPE, account_ref

_ABSENT = "(absent)"


def _shown(value: Any) -> str:
    """The property as ARM JSON spells it (``true``/``false``/``null``), as plans and undo previews show it; ``(absent)`` as is."""
    return value if isinstance(value, str) else json.dumps(value)


def _state(account: dict[str, Any]) -> dict[str, Any]:
    props = account.get("properties") or {}
    return {
        "disableLocalAuth": props.get("disableLocalAuth") if "disableLocalAuth" in props else _ABSENT,
        "etag": account.get("etag"),
    }


@register
class DisableLocalAuth(Runbook[NoParams]):
    name = "auth.disable_local_auth"
    summary = "Turn off API-key authentication (disableLocalAuth: true): only Microsoft Entra ID callers get in."
    permissions = (READ_ACCOUNT, WRITE_ACCOUNT, READ_OPERATION_RESULTS)
    target_type = ACCOUNT_TYPE
    Params = NoParams

    def plan(self, ctx: RunContext, target: str, params: NoParams) -> Plan:
        before = _state(get_account(ctx, account_ref(target)))
        done = before["disableLocalAuth"] is True
        return Plan(
            runbook=self.name,
            target=target,
            before=before,
            changes=[] if done else [Change(field="properties.disableLocalAuth", before=before["disableLocalAuth"], after=True)],
            notes=["local auth already disabled"] if done else ["every API key stops working; callers need Microsoft Entra ID tokens"],
        )

    def apply(self, ctx: RunContext, target: str, params: NoParams) -> Applied:
        ref = account_ref(target)
        before = _state(get_account(ctx, ref))
        changed = before["disableLocalAuth"] is not True
        if changed:
            patch_account(ctx, ref, {"disableLocalAuth": True}, etag=before["etag"])
        after = _state(get_account(ctx, ref))
        return Applied(
            runbook=self.name,
            target=target,
            changed=changed,
            before=before,
            after=after,
            summary="disabled local (key) authentication" if changed else "local auth already disabled; nothing changed",
        )

    def verify(self, ctx: RunContext, target: str, params: NoParams, applied: Applied) -> Verification:
        now = _state(get_account(ctx, account_ref(target)))
        return Verification(
            runbook=self.name,
            target=target,
            checks=[Check(name="disableLocalAuth is true", ok=now["disableLocalAuth"] is True, detail=f"disableLocalAuth = {_shown(now['disableLocalAuth'])}")],
        )

    def undo(self, ctx: RunContext, target: str, params: NoParams, applied: Applied) -> Applied:
        ref = account_ref(target)
        now = _state(get_account(ctx, ref))
        was = applied.before.get("disableLocalAuth")
        if now["disableLocalAuth"] == was:
            return Applied(runbook=self.name, target=target, changed=False, before=now, after=now, summary="already as before; nothing changed")
        if now["disableLocalAuth"] is not True:
            raise RunbookError(
                "conflict",
                f"auth.disable_local_auth undo refused: disableLocalAuth changed after the step (now {now['disableLocalAuth']}); "
                "review it and restore by hand",
            )
        patch_account(ctx, ref, {"disableLocalAuth": None if was == _ABSENT else was}, etag=now["etag"])
        after = _state(get_account(ctx, ref))
        return Applied(runbook=self.name, target=target, changed=True, before=now, after=after, summary=f"restored disableLocalAuth = {_shown(was)}")
