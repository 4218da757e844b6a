"""Microsoft Sentinel write-back: ``sentinel.comment`` (one comment per phase) and ``sentinel.close_incident``.

Which Sentinel incidents (all of ``FIRESTOP_SENTINEL_WORKSPACE_ID``, param ``workspace`` overrides it; none
configured: nothing to do, a no-op, not an error). Everything is re-read from Sentinel before acting; nothing in
the delivered payload chooses an incident (RT3-01/RT3-02):

- **owned** — the incident that started this Firestop incident (its ``alert_id`` is
  ``Microsoft.SecurityInsights/incidents/<ARM id>``, :mod:`firestop.alerts.sources.sentinel`) when it lies in the
  workspace, its entities or alerts name the step's target and it holds an alert of the type that routed the
  playbook (``ctx.alert.rule_name``); and the incidents holding the Defender alert that started it (an alert
  whose ``systemAlertId`` or ``providerAlertId`` — REST ``SecurityAlertProperties``: "the identifier of the
  alert inside the product which generated the alert" — is the Defender ``systemAlertId``, of the routed type,
  naming the target);
- **related** — other open (New/Active) incidents whose entities name the target (an ``AzureResource``
  entity's ``resourceId``): the same account, maybe another attack.

``sentinel.close_incident`` and the ``contain``/``resolve`` comments touch owned incidents only; ``analyze``
and ``learn`` comments also go to related ones (a comment never closes or reassigns anything). A Closed
incident counts only when this Firestop incident already commented on it (a retry). At most
:data:`MAX_CANDIDATES` newest incidents are examined; at most :data:`MAX_INCIDENTS` are written back.

REST: Sentinel 2024-03-01 through :class:`firestop.azure.sentinel.SentinelClient`.

``sentinel.comment`` — params ``phase`` (analyze|contain|resolve|learn), ``message`` (≤ 2,000
characters; HTML- and Markdown-escaped, :func:`shown_as_text`, since Sentinel renders comments as both; an alert not
confirmed at its source has its delivered values withheld from the message by the orchestrator,
``firestop.lifecycle.incident._write_back_scope``). Comment id
``firestop-<incident>-<phase>``: a retried apply writes the same comment again (idempotent). Text:
the phase, the message, the Firestop incident id and the record's location. Not reversible (the
comments are the audit trail Sentinel keeps).

``sentinel.close_incident`` — params ``classification`` (TruePositive default), ``reason``
(SuspiciousActivity default), ``comment``. Before-state per incident: status, owner, classification.
**Marker**: the comment ``firestop-<incident>-close`` is written *before* the PUT and holds the
before-state as JSON, so a retried apply that finds the incident already Closed reads it back
instead of recording "Closed" as the before-state. Owner becomes Firestop's identity
(``FIRESTOP_AUTOMATION_PRINCIPAL_ID``, else the caller's object id) with ``assignedTo: "Firestop"``.
Verify: status Closed with the classification. Undo: the before status/owner back (refused with
``conflict`` when the incident changed since: not Closed any more).
"""

from __future__ import annotations

import html
import json
import re
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from firestop.azure.errors import RunbookError, map_azure_error
from firestop.azure.sentinel import check_incident_id
from runbooks.base import Applied, Change, Check, Plan, RunContext, Runbook, Verification
from runbooks.registry import register
from runbooks.targets import ACCOUNT_TYPE

READ = "Microsoft.SecurityInsights/incidents/read"
WRITE = "Microsoft.SecurityInsights/incidents/write"
COMMENT = "Microsoft.SecurityInsights/incidents/comments/write"
#: Incidents - List Alerts / List Entities (POST …/incidents/{id}/alerts, …/entities), which choose the incidents to
#: write back to (module doc); provider operations "Gets Incident Alerts" / "Gets Sentinel Incident Entities".
LIST_ALERTS = "Microsoft.SecurityInsights/incidents/alerts/read"
LIST_ENTITIES = "Microsoft.SecurityInsights/incidents/entities/read"
#: Incident Comments - List: a retried comment or close finds its own earlier one (module doc).
READ_COMMENTS = "Microsoft.SecurityInsights/incidents/comments/read"
MAX_CANDIDATES = 50
MAX_INCIDENTS = 5
_SENTINEL_ALERT = "microsoft.securityinsights/incidents/"
_DEFENDER_ALERT = "microsoft.security/alerts/"
_INCIDENTS = "/providers/microsoft.securityinsights/incidents/"
#: comment phases that claim Firestop acted on the attack: written only on the incidents this attack owns
_OWNED_PHASES = frozenset({"contain", "resolve"})
_MARKER = re.compile(r"<!--firestop-before:(\{.*\})-->", re.DOTALL)


def _client(ctx: RunContext):
    return ctx.clients.sentinel()


def _names_target(target: str, alerts: list[dict], entities: list[dict]) -> bool:
    """True when an ``AzureResource`` entity's ``resourceId`` or an alert's ``resourceIdentifiers[]``
    (``resourceId`` / ``azureResourceId``) is ``target`` (compared case-insensitively)."""
    want = target.strip().lower()
    ids = [(e.get("properties") or {}).get("resourceId") for e in entities if str(e.get("kind") or "").lower() == "azureresource"]
    for a in alerts:
        idents = (a.get("properties") or {}).get("resourceIdentifiers")
        for ident in idents if isinstance(idents, list) else []:
            if isinstance(ident, dict):
                ids += [ident.get("resourceId"), ident.get("azureResourceId")]
    return any(isinstance(i, str) and i.strip().lower() == want for i in ids)


def _alert_types(alerts: list[dict]) -> set[str]:
    return {str((a.get("properties") or {}).get("alertType") or "").strip().lower() for a in alerts}


def find_incidents(ctx: RunContext, target: str | None, workspace: str | None, *, owned_only: bool) -> list[str]:
    """Sentinel incident ids this Firestop incident writes back to (see the module docstring).

    Owned incidents first (the one the alert came from; those holding the Defender alert), then — unless
    ``owned_only`` — open incidents that merely name ``target``. Everything is read back from Sentinel:
    nothing in the delivered payload is trusted to choose an incident. Raises RunbookError (mapped Azure error).
    """
    workspace = workspace or ctx.settings.sentinel_workspace_id
    if not workspace or not target:
        return []
    prefix = workspace.strip().rstrip("/").lower() + _INCIDENTS
    alert_id = (ctx.alert.alert_id or "").strip()
    routed = (ctx.alert.rule_name or "").strip().lower()
    defender_id = alert_id[len(_DEFENDER_ALERT):].lower() if alert_id.lower().startswith(_DEFENDER_ALERT) else None
    client = _client(ctx)
    owned: list[str] = []
    related: list[str] = []
    try:
        if alert_id.lower().startswith(_SENTINEL_ALERT):
            delivered = alert_id[len(_SENTINEL_ALERT):]
            # the incident the alert came from: only in the configured workspace, and only when Sentinel's own
            # copy names the target and holds an alert of the type that routed the playbook (RT3-02)
            if delivered.lower().startswith(prefix) and _valid_incident_id(delivered):
                incident = client.get_incident(delivered)
                alerts = client.list_alerts(incident["id"])
                if (_names_target(target, alerts, client.list_entities(incident["id"]))
                        and (not routed or routed in _alert_types(alerts))):
                    owned.append(incident["id"])
        for incident in client.list_incidents(workspace, top=MAX_CANDIDATES):
            iid = incident["id"]
            if len(owned) + len(related) >= MAX_INCIDENTS or any(iid.lower() == f.lower() for f in owned + related):
                continue
            if not iid.lower().startswith(prefix):
                continue
            if incident["properties"].get("status") == "Closed":
                # a closed incident counts only when this Firestop incident wrote to it (a retried close)
                mine = _comment_id(iid, ctx, "")
                if not any(c["name"].startswith(mine) for c in client.list_comments(iid)):
                    continue
            entities = client.list_entities(iid)
            if defender_id:
                alerts = client.list_alerts(iid)
                holds = [a for a in alerts if defender_id in {
                    str((a.get("properties") or {}).get(k) or "").strip().lower() for k in ("systemAlertId", "providerAlertId")}]
                if holds and (not routed or routed in _alert_types(holds)) and _names_target(target, alerts, entities):
                    owned.append(iid)
                    continue
            if not owned_only and _names_target(target, [], entities):
                related.append(iid)
    except RunbookError:
        raise
    except Exception as exc:
        raise map_azure_error(exc, permission=READ) from None
    return (owned + ([] if owned_only else related))[:MAX_INCIDENTS]


def _valid_incident_id(value: str) -> bool:
    try:
        check_incident_id(value)
    except ValueError:
        return False
    return True


def _record_location(ctx: RunContext) -> str:
    if ctx.settings.storage_blob_url:  # records go to Blob Storage when configured (FIRESTOP_STORAGE_BLOB_URL)
        return f"{ctx.settings.storage_blob_url.rstrip('/')}/{ctx.settings.records_container}/{ctx.incident_id}.json"
    return str(ctx.settings.records_dir / f"{ctx.incident_id}.json")


def _comment_id(incident_id: str, ctx: RunContext, what: str) -> str:
    return re.sub(r"[^A-Za-z0-9-]", "-", f"firestop-{ctx.incident_id}-{what}")[:128]


class CommentParams(BaseModel):
    """phase: the lifecycle phase the comment reports; message: what happened (≤ 2,000 chars, escaped)."""

    model_config = ConfigDict(extra="forbid")

    phase: Literal["analyze", "contain", "resolve", "learn"]
    message: str = Field(min_length=1, max_length=2000)
    workspace: str | None = None


#: Characters HTML and Markdown give a meaning to (markup, entities; links, images, emphasis, code, headings, tables,
#: autolinks' ``:`` and ``www.``'s ``.``; ``-``, ``+`` and ``=`` mean something only at a line's start, and the text
#: never starts one: Firestop's prefix comes first and line breaks become spaces), written as numeric character references in one pass (never escaped twice)
#: so Sentinel shows them and does not act on them.
_MARKDOWN = str.maketrans({c: f"&#{ord(c)};" for c in "&<>\"'\\`*_{}[]()#.!|~:"})
#: Longest comment text Firestop writes (characters). Sentinel accepts 30,000 per comment (the sandbox's
#: MAX_COMMENT_CHARS); 2,000 characters of message escaped at worst 6 for 1 stay far below (the cut is for a longer one).
MAX_COMMENT_TEXT = 15_000


def shown_as_text(value: str) -> str:
    """``value`` as text in a Sentinel comment, which renders HTML *and* Markdown ("What's new: HTML and Markdown
    support for incident comment", Microsoft Sentinel blog, techcommunity.microsoft.com): HTML-escaped, then every
    Markdown character a character reference, line breaks and other control characters a space — a delivered
    ``[text](url)``, ``![](beacon)`` or ``<img>`` reads as the characters, never as a link, an image or markup."""
    flat = "".join(" " if not ch.isprintable() else ch for ch in value)
    return flat.translate(_MARKDOWN)


def comment_text(ctx: RunContext, phase: str, message: str) -> str:
    """The comment's HTML: the phase and ``message`` shown as text (:func:`shown_as_text`), then Firestop's own
    paragraph (incident id, record location), at most :data:`MAX_COMMENT_TEXT` characters — a message too long is
    cut (at a character reference's start, never inside one, ending "…"), Firestop's paragraph never."""
    head = f"<p><b>Firestop — {shown_as_text(phase)}</b>: "
    # Firestop's own id and record location (never the delivery's): HTML-escaped only, so they read as typed
    own = f"</p><p>Firestop incident {html.escape(ctx.incident_id)} · record: {html.escape(_record_location(ctx))}</p>"
    shown, room = shown_as_text(message), MAX_COMMENT_TEXT - len(head) - len(own)
    if len(shown) > room:
        shown = shown[:max(0, room - 2)].rsplit("&", 1)[0] + " …"
    return head + shown + own


@register
class SentinelComment(Runbook[CommentParams]):
    name = "sentinel.comment"
    summary = "Comment on the Sentinel incident(s) of this attack: what the phase did and where the record is"
    permissions = (READ, LIST_ALERTS, LIST_ENTITIES, READ_COMMENTS, COMMENT)
    Params = CommentParams
    write_back = True
    target_type = ACCOUNT_TYPE  # the attacked account; the Sentinel incidents are found from it
    reversible = False

    def plan(self, ctx: RunContext, target: str, params: CommentParams) -> Plan:
        ids = find_incidents(ctx, target, params.workspace, owned_only=params.phase in _OWNED_PHASES)
        return Plan(runbook=self.name, target=target, before={"incidents": ids},
                    changes=[Change(field=f"comment {_comment_id(i, ctx, params.phase)}", before=None, after=params.phase) for i in ids],
                    notes=[] if ids else ["no Sentinel incident found for this attack: nothing to comment on"])

    def apply(self, ctx: RunContext, target: str, params: CommentParams) -> Applied:
        ids = find_incidents(ctx, target, params.workspace, owned_only=params.phase in _OWNED_PHASES)
        text = comment_text(ctx, params.phase, params.message)
        client = _client(ctx)
        for incident_id in ids:
            try:
                client.put_comment(incident_id, _comment_id(incident_id, ctx, params.phase), text)
            except Exception as exc:
                raise map_azure_error(exc, permission=COMMENT) from None
        return Applied(runbook=self.name, target=target, changed=bool(ids), before={"incidents": ids},
                       after={"incidents": ids, "phase": params.phase},
                       summary=f"commented ({params.phase}) on {len(ids)} Sentinel incident(s)" if ids else "no Sentinel incident to comment on")

    def verify(self, ctx: RunContext, target: str, params: CommentParams, applied: Applied) -> Verification:
        checks = []
        for incident_id in applied.after.get("incidents", []):
            names = {c["name"] for c in _client(ctx).list_comments(incident_id)}
            checks.append(Check(name=f"comment on {incident_id.rsplit('/', 1)[-1]}",
                                ok=_comment_id(incident_id, ctx, params.phase) in names))
        return Verification(runbook=self.name, target=target, checks=checks or [Check(name="nothing to comment on", ok=True)])

    def undo(self, ctx: RunContext, target: str, params: CommentParams, applied: Applied) -> Applied:
        raise RunbookError("invalid", "sentinel.comment cannot be undone: comments are Sentinel's audit trail")


class CloseParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    classification: Literal["TruePositive", "BenignPositive", "FalsePositive", "Undetermined"] = "TruePositive"
    reason: Literal["SuspiciousActivity", "SuspiciousButExpected", "IncorrectAlertLogic", "InaccurateData"] | None = "SuspiciousActivity"
    comment: str = Field(default="Contained by Firestop", max_length=1000)
    workspace: str | None = None


def _state(incident: dict) -> dict[str, Any]:
    p = incident["properties"]
    return {"status": p.get("status"), "owner": p.get("owner"), "classification": p.get("classification"),
            "classificationReason": p.get("classificationReason")}


@register
class SentinelCloseIncident(Runbook[CloseParams]):
    name = "sentinel.close_incident"
    summary = "Close the Sentinel incident(s) of a contained attack: owner Firestop, status Closed, classification"
    permissions = (READ, LIST_ALERTS, LIST_ENTITIES, READ_COMMENTS, WRITE, COMMENT)
    Params = CloseParams
    write_back = True
    target_type = ACCOUNT_TYPE

    def plan(self, ctx: RunContext, target: str, params: CloseParams) -> Plan:
        ids = find_incidents(ctx, target, params.workspace, owned_only=True)
        before = {i: _state(_client(ctx).get_incident(i)) for i in ids}
        changes = [Change(field=f"{i.rsplit('/', 1)[-1]}.status", before=s["status"], after="Closed") for i, s in before.items() if s["status"] != "Closed"]
        return Plan(runbook=self.name, target=target, before={"incidents": before}, changes=changes)

    def _owner(self, ctx: RunContext) -> dict:
        oid = ctx.settings.automation_principal_id or ctx.clients.caller_object_id()
        return {"objectId": oid, "assignedTo": "Firestop", "email": None, "userPrincipalName": None}

    def apply(self, ctx: RunContext, target: str, params: CloseParams) -> Applied:
        client = _client(ctx)
        before_all: dict[str, dict] = {}
        changed = False
        for incident_id in find_incidents(ctx, target, params.workspace, owned_only=True):
            try:
                incident = client.get_incident(incident_id)
                marker_id = _comment_id(incident_id, ctx, "close")
                before = _state(incident)
                if before["status"] == "Closed":
                    for c in client.list_comments(incident_id):  # a retry after our own close: the marker knows
                        match = _MARKER.search(c["properties"].get("message", "")) if c["name"] == marker_id else None
                        if match:
                            before = json.loads(match.group(1))
                    before_all[incident_id] = before
                    continue
                marker = json.dumps(before, separators=(",", ":")).replace("--", "- -")
                client.put_comment(incident_id, marker_id, comment_text(ctx, "learn", params.comment) + f"<!--firestop-before:{marker}-->")
                props = {**incident["properties"], "status": "Closed", "owner": self._owner(ctx),
                         "classification": params.classification, "classificationComment": params.comment[:1000]}
                if params.reason:
                    props["classificationReason"] = params.reason
                client.put_incident(incident_id, {"etag": incident.get("etag"), "properties": props})
            except RunbookError:
                raise
            except Exception as exc:
                raise map_azure_error(exc, permission=WRITE) from None
            before_all[incident_id] = before
            changed = True
        return Applied(runbook=self.name, target=target, changed=changed, before={"incidents": before_all},
                       after={"incidents": {i: {"status": "Closed", "classification": params.classification} for i in before_all}},
                       summary=f"closed {len(before_all)} Sentinel incident(s) as {params.classification}" if before_all else "no Sentinel incident to close")

    def verify(self, ctx: RunContext, target: str, params: CloseParams, applied: Applied) -> Verification:
        checks = []
        for incident_id in applied.after.get("incidents", {}):
            p = _client(ctx).get_incident(incident_id)["properties"]
            checks.append(Check(name=f"incident {p.get('incidentNumber')} closed",
                                ok=p.get("status") == "Closed" and p.get("classification") == params.classification,
                                detail=f"status {p.get('status')}, classification {p.get('classification')}"))
        return Verification(runbook=self.name, target=target, checks=checks or [Check(name="nothing to close", ok=True)])

    def undo(self, ctx: RunContext, target: str, params: CloseParams, applied: Applied) -> Applied:
        client = _client(ctx)
        restored = {}
        for incident_id, before in applied.before.get("incidents", {}).items():
            if before.get("status") == "Closed":
                continue
            incident = client.get_incident(incident_id)
            if incident["properties"].get("status") != "Closed":
                raise RunbookError("conflict", f"Sentinel incident {incident_id.rsplit('/', 1)[-1]} is not Closed any more: changed since; left as is")
            props = {k: v for k, v in incident["properties"].items() if k not in ("classification", "classificationReason", "classificationComment")}
            props.update({"status": before.get("status") or "Active", "owner": before.get("owner")})
            try:
                client.put_incident(incident_id, {"etag": incident.get("etag"), "properties": props})
            except Exception as exc:
                raise map_azure_error(exc, permission=WRITE) from None
            restored[incident_id] = before
        return Applied(runbook=self.name, target=target, changed=bool(restored), before=applied.after, after={"incidents": restored},
                       summary=f"reopened {len(restored)} Sentinel incident(s)")
