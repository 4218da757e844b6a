"""``defender.resolve_alert``: resolve the Defender for Cloud alert an incident contained.

Target: the alerted resource (an Azure OpenAI account ARM id — the alert's
``resourceIdentifiers[].azureResourceId``). Param ``system_alert_id``: the alert's
``systemAlertId`` (its ARM ``name``; ``${{ alert.context.systemAlertId }}`` in a playbook).
The alert is found with ``alerts.list_by_resource_group`` (REST 2022-01-01
``Alerts_ListByResourceGroup``: the location in the alert's id is Defender's, not the
resource's), then ``Alerts_UpdateResourceGroupLevelStateToResolve`` (POST ``…/resolve``, 204).

- refused (``invalid``, nothing changed) unless the alert as Azure has it names the target in its
  ``resourceIdentifiers`` and, in an incident, has the ``alertType`` that routed the playbook
  (``ctx.alert.rule_name``): the id comes from the delivered payload, which must not choose the alert.
- plan: the alert's status now; the change ``status`` → ``Resolved`` (none when already resolved).
- apply: records the before-state (status), resolves. Idempotent: resolving a resolved alert
  changes nothing. **Marker**: a retried apply that finds the alert already Resolved takes the
  before-state from the delivered alert (the incident's sealed input: ``ctx.alert.alert_id`` is
  ``Microsoft.Security/alerts/<systemAlertId>`` of an alert delivered *Active*), so a crash between
  the POST and the step's record never turns the before-state into "Resolved".
- verify: reads the alert back (retrying transient errors as the SDK's RetryPolicy does): status Resolved.
- undo: back to the before status (``activate`` for Active, ``inProgress`` for InProgress),
  refusing (``conflict``) when someone changed the alert since (status not Resolved).

No secrets: alert payloads and states hold ids and status only. Defender's alert API has no
comments: "leave it active with a comment" is done on the Sentinel incident holding it.
"""

from __future__ import annotations

import re

from pydantic import BaseModel, ConfigDict, field_validator

from firestop.azure.errors import RunbookError, map_azure_error
from firestop.resource_id import resource_id_key
from runbooks.base import Applied, Change, Check, Plan, RunContext, Runbook, Verification
from runbooks.registry import register
from runbooks.targets import ACCOUNT_TYPE, account_ref

READ_ALERTS = "Microsoft.Security/locations/alerts/read"
RESOLVE_ALERT = "Microsoft.Security/locations/alerts/resolve/action"
ACTIVATE_ALERT = "Microsoft.Security/locations/alerts/activate/action"
_NAME = re.compile(r"^[A-Za-z0-9_.\-]{1,256}$")


class ResolveParams(BaseModel):
    """system_alert_id: the Defender alert's ``systemAlertId`` (letters, digits, ``_ . -``; ≤ 256 chars)."""

    model_config = ConfigDict(extra="forbid")

    system_alert_id: str

    @field_validator("system_alert_id")
    @classmethod
    def _valid(cls, value: str) -> str:
        value = value.strip()
        if not _NAME.match(value) or set(value) == {"."}:  # '..' would address the alerts' parent (RT8-08)
            raise ValueError("system_alert_id must be the alert's systemAlertId, e.g. 2516935104399999999_5f0c2e8a-…")
        return value


def _key(resource_id: str) -> str:
    try:
        return resource_id_key(resource_id)
    except ValueError:
        return ""


def _find(ctx: RunContext, target: str, system_alert_id: str) -> dict:
    """The alert as Azure has it now: ``{"alert", "name", "location", "status", "alert_type", "resources"}``.

    ``resources``: the alert's ``resourceIdentifiers[].azureResourceId`` (REST 2022-01-01
    ``AzureResourceIdentifier``). Raises ``RunbookError("not_found")`` when the resource group has no such alert.
    """
    ref = account_ref(target)
    client = ctx.clients.security(ref.subscription_id)
    try:
        for alert in client.alerts.list_by_resource_group(ref.resource_group):
            if (alert.name or "").lower() == system_alert_id.lower() or (alert.system_alert_id or "").lower() == system_alert_id.lower():
                location = alert.id.split("/locations/", 1)[1].split("/", 1)[0]
                resources = [r.azure_resource_id for r in alert.resource_identifiers or []
                             if isinstance(getattr(r, "azure_resource_id", None), str)]
                return {"alert": alert.id, "name": alert.name, "location": location, "status": alert.status,
                        "alert_type": alert.alert_type, "resources": resources}
    except Exception as exc:  # azure-core errors → RunbookError
        raise map_azure_error(exc, permission=READ_ALERTS) from None
    raise RunbookError("not_found", f"no Defender alert {system_alert_id!r} in resource group {ref.resource_group!r}")


def _owned(ctx: RunContext, target: str, system_alert_id: str) -> dict:
    """:func:`_find`, refused (``RunbookError("invalid")``, nothing changed) unless the alert, as re-read from
    Azure, is about ``target`` (one of its ``resourceIdentifiers``) and — in an incident — is of the alert type
    that routed the playbook (``ctx.alert.rule_name``, the delivered ``alertType``). The alert id comes from the
    delivered payload, so a forged body must not choose which real alert Firestop resolves (RT3-02)."""
    found = _find(ctx, target, system_alert_id)
    if _key(target) not in {_key(r) for r in found["resources"]}:
        raise RunbookError("invalid", f"Defender alert {found['name']!r} is not about {target!r} "
                                      f"(its resources: {found['resources'][:3]!r}); left as is")
    routed = (ctx.alert.rule_name or "").strip().lower()
    if routed and (found["alert_type"] or "").strip().lower() != routed:
        raise RunbookError("invalid", f"Defender alert {found['name']!r} is a {found['alert_type']!r} alert, not the "
                                      f"{ctx.alert.rule_name!r} alert this incident handles; left as is")
    return found


@register
class ResolveDefenderAlert(Runbook[ResolveParams]):
    name = "defender.resolve_alert"
    summary = "Resolve the Defender for Cloud alert of a contained incident (undo: reactivate it)"
    permissions = (READ_ALERTS, RESOLVE_ALERT, ACTIVATE_ALERT)
    write_back = True
    target_type = ACCOUNT_TYPE
    Params = ResolveParams

    def plan(self, ctx: RunContext, target: str, params: ResolveParams) -> Plan:
        found = _owned(ctx, target, params.system_alert_id)
        changes = [] if found["status"] == "Resolved" else [Change(field="status", before=found["status"], after="Resolved")]
        return Plan(runbook=self.name, target=target, before=found, changes=changes,
                    notes=[f"Defender alert {found['alert_type']} ({found['name']})"])

    def _delivered_active(self, ctx: RunContext, params: ResolveParams) -> bool:
        return (ctx.alert.alert_id or "").lower() == "microsoft.security/alerts/" + params.system_alert_id.lower()

    def apply(self, ctx: RunContext, target: str, params: ResolveParams) -> Applied:
        before = _owned(ctx, target, params.system_alert_id)
        if before["status"] == "Resolved":
            if self._delivered_active(ctx, params):  # marker: a retry after our own POST
                before = {**before, "status": "Active", "before_from": "delivered alert (retried apply)"}
            return Applied(runbook=self.name, target=target, changed=False, before=before,
                           after={**before, "status": "Resolved"}, summary=f"Defender alert {before['name']} already resolved")
        ref = account_ref(target)
        try:
            ctx.clients.security(ref.subscription_id).alerts.update_resource_group_level_state_to_resolve(
                ref.resource_group, before["location"], before["name"])
        except Exception as exc:
            raise map_azure_error(exc, permission=RESOLVE_ALERT) from None
        return Applied(runbook=self.name, target=target, changed=True, before=before,
                       after={**before, "status": "Resolved"},
                       summary=f"resolved Defender alert {before['alert_type']} ({before['status']} → Resolved)")

    def verify(self, ctx: RunContext, target: str, params: ResolveParams, applied: Applied) -> Verification:
        now = _find(ctx, target, params.system_alert_id)
        return Verification(runbook=self.name, target=target, checks=[
            Check(name="alert resolved", ok=now["status"] == "Resolved", detail=f"status {now['status']}")])

    def undo(self, ctx: RunContext, target: str, params: ResolveParams, applied: Applied) -> Applied:
        now = _find(ctx, target, params.system_alert_id)
        wanted = applied.before.get("status") or "Active"
        if wanted == "Resolved":
            return Applied(runbook=self.name, target=target, changed=False, before=now, after=now, summary="was resolved before: nothing to undo")
        if now["status"] != "Resolved":
            raise RunbookError("conflict", f"Defender alert {now['name']} is {now['status']} now, not Resolved: changed since; left as is")
        ref = account_ref(target)
        ops = ctx.clients.security(ref.subscription_id).alerts
        try:
            if wanted == "InProgress":
                ops.update_resource_group_level_state_to_in_progress(ref.resource_group, now["location"], now["name"])
            else:
                ops.update_resource_group_level_state_to_activate(ref.resource_group, now["location"], now["name"])
        except Exception as exc:
            raise map_azure_error(exc, permission=ACTIVATE_ALERT) from None
        return Applied(runbook=self.name, target=target, changed=True, before=now, after={**now, "status": wanted},
                       summary=f"reactivated Defender alert {now['name']} ({wanted})")
