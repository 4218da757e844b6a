"""Notification runbooks: tell the on-call channel what happened.

``notify.webhook`` POSTs one JSON message (``Content-Type: application/json``)
to the incoming webhook of ``FIRESTOP_NOTIFY_WEBHOOK_URL`` — a setting, never a
step or request parameter, so no caller can point it elsewhere (https only;
plain http only to a loopback address, for local tests). It runs only in an
incident's own orchestration (``incident_only``). Formats:

- ``text``: ``{"text": …}`` — Slack incoming webhooks
  (https://api.slack.com/messaging/webhooks) and Teams Office 365 connectors
  both accept it;
- ``slack``: ``text`` plus Block Kit ``blocks`` (header + mrkdwn section);
- ``teams``: ``{"type": "message", "attachments": [{"contentType":
  "application/vnd.microsoft.card.adaptive", "content": <Adaptive Card 1.4>}]}``,
  what Teams Workflows webhooks expect
  (https://learn.microsoft.com/microsoftteams/platform/webhooks-and-connectors/how-to/connectors-using);
- ``auto`` (default): ``slack`` for ``hooks.slack.com``, ``teams`` for
  ``*.webhook.office.com`` / ``*.logic.azure.com`` / Power Platform hosts, else ``text``.

The message holds the incident summary: incident ID, alert rule, fired time
and window (UTC), target, caller IPs and, when a ``record`` is given, its
status, reason, what holds and what does not, and MTTD/MTTC. Every string is
passed through :func:`runbooks.redact.redact` (registered secrets and
credential-shaped text removed). The webhook URL is a secret (it carries the
channel's token): it is registered, never returned; results name only its host.
Keep it an app setting (e.g. a Key Vault reference): it never travels in the
orchestration's input or history.

Idempotent: a copy of each message a step sent (the redacted payload, its
SHA-256, host, format, HTTP status, time) is kept once in the notifications
store (:func:`firestop.storage.stores_for`: ``notifications/`` in the records
blob container, else ``FIRESTOP_HOME/notifications``) as
``<incident>/<step>.<sha256 prefix>.json``; applying again with the same message
sends nothing. A retry after a crash between the POST and that copy may send
the message twice (webhooks have no idempotency key). Each send
is appended to the incident's ledger (kind ``notification``). Errors: no
answer / 5xx → ``transient``, 429 → ``throttled`` (``Retry-After`` honoured),
400 → ``invalid``, 401/403 → ``forbidden``, 404/410 → ``not_found``.
"""

from __future__ import annotations

import hashlib
import ipaddress
import json
from typing import Any, Literal
from urllib.parse import urlparse

from pydantic import BaseModel, ConfigDict, Field

from firestop.azure.errors import RunbookError
from runbooks.base import Applied, Check, Plan, RunContext, Runbook, Verification
from runbooks.common import append_ledger
from runbooks.redact import redact, redact_json
from runbooks.registry import register

TIMEOUT_S = (5.0, 15.0)  # connect, read (seconds)


class WebhookParams(BaseModel):
    """format: auto | text | slack | teams; title: first line (default "Firestop incident <id>");
    message: extra text; record: the post-incident record, to include its outcome.
    (No url: the webhook is FIRESTOP_NOTIFY_WEBHOOK_URL only.)"""

    model_config = ConfigDict(extra="forbid")

    format: Literal["auto", "text", "slack", "teams"] = "auto"
    title: str | None = Field(default=None, max_length=200)
    message: str = Field(default="", max_length=4000)
    record: dict[str, Any] | None = None
    #: A console path (``/api/console/...``) the message links to: made absolute with the app's public origin
    #: (``FIRESTOP_PUBLIC_URL``, else ``https://WEBSITE_HOSTNAME``), left as a path when neither is set.
    link: str | None = Field(default=None, max_length=300, pattern=r"^/api/console/[A-Za-z0-9._~/%-]*$")


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


#: Why a ``notify.webhook`` step is skipped when no webhook is configured (README, "Settings": the setting is optional).
NOT_CONFIGURED = "no webhook URL configured: set FIRESTOP_NOTIFY_WEBHOOK_URL (README, Settings)"


def configured(ctx: RunContext) -> bool:
    """True if ``FIRESTOP_NOTIFY_WEBHOOK_URL`` is set (non-empty)."""
    secret = ctx.settings.notify_webhook_url
    return bool(secret.get_secret_value() if secret is not None else "")


def webhook_url(ctx: RunContext, params: WebhookParams) -> tuple[str, str]:
    """(url, host) after validation; the URL is registered as a secret. ``RunbookError('invalid')`` naming the fix."""
    secret = ctx.settings.notify_webhook_url
    url = secret.get_secret_value() if secret is not None else ""
    if not url:
        raise RunbookError("invalid", "FIRESTOP_NOTIFY_WEBHOOK_URL: no webhook configured; set it to the channel's incoming-webhook URL")
    ctx.register_secret(url)
    parsed = urlparse(url)
    host = (parsed.hostname or "").lower()
    if not host or parsed.scheme not in ("https", "http") or (parsed.scheme == "http" and not _is_loopback(host)):
        raise RunbookError("invalid", "FIRESTOP_NOTIFY_WEBHOOK_URL: must be an https:// incoming-webhook URL (http only for loopback addresses)")
    if parsed.query:
        for part in parsed.query.split("&"):
            ctx.register_secret(part.partition("=")[2])
    return url, host


def _format_for(host: str, wanted: str) -> str:
    if wanted != "auto":
        return wanted
    if host == "hooks.slack.com":
        return "slack"
    if host.endswith((".webhook.office.com", ".logic.azure.com", ".api.powerplatform.com")):
        return "teams"
    return "text"


class OwnLink(str):
    """A URL Firestop built itself — :func:`console_url` of a pattern-checked console path on a checked https origin —
    so a Teams card shows it as a link, where every value from outside stays text (:func:`firestop.markup.md_text`)."""


def console_url(path: str, env: Any = None) -> str:
    """``path`` (a console path) on the app's public origin (see :class:`WebhookParams`), else ``path`` itself."""
    import os
    import re

    from firestop.settings import https_origin_problem

    env = os.environ if env is None else env
    origin = (env.get("FIRESTOP_PUBLIC_URL") or "").strip().rstrip("/")
    if https_origin_problem(origin) is not None:  # also a port outside 1-65535
        host = (env.get("WEBSITE_HOSTNAME") or "").strip()
        origin = f"https://{host}" if re.fullmatch(r"[A-Za-z0-9.-]{1,253}", host) else ""
    return origin + path


def summary_lines(ctx: RunContext, target: str | None, params: WebhookParams) -> tuple[str, list[tuple[str, str]], str]:
    """(title, facts as (name, value), body text) of the message, before redaction."""
    alert = ctx.alert
    title = params.title or f"Firestop incident {ctx.incident_id}"
    facts: list[tuple[str, str]] = [("Incident", ctx.incident_id)]
    if alert.rule_name:
        facts.append(("Alert rule", alert.rule_name))
    if alert.fired_at:
        facts.append(("Fired (UTC)", alert.fired_at.isoformat()))
    if alert.window_start and alert.window_end:
        facts.append(("Window (UTC)", f"{alert.window_start.isoformat()} → {alert.window_end.isoformat()}"))
    if target:
        facts.append(("Target", target))
    if alert.caller_ips:
        facts.append(("Caller IPs", ", ".join(alert.caller_ips)))
    if params.link:
        url = console_url(params.link)
        facts.append(("Console", OwnLink(url) if url.startswith("https://") else url))
    lines: list[str] = []
    record = params.record or {}
    if record:
        facts.append(("Status", str(record.get("status"))))
        if record.get("reason"):
            lines.append(str(record["reason"]))
        lines.extend(f"✔ {line}" for line in record.get("holds") or [])
        lines.extend(f"✘ {line}" for line in record.get("does_not_hold") or [])
        metrics = record.get("metrics") or {}
        for key, label in (("mttd_s", "MTTD"), ("mttc_s", "MTTC")):
            if metrics.get(key) is not None:
                facts.append((label, f"{float(metrics[key]):.1f} s"))
    if params.message:
        lines.append(params.message)
    return title, facts, "\n".join(lines)


def build_payload(fmt: str, title: str, facts: list[tuple[str, str]], body: str) -> dict[str, Any]:
    """The JSON body for ``fmt`` (text | slack | teams).

    Values come from outside (alert fields, resource ids, runbook messages) and are escaped for where they
    land (:mod:`firestop.markup`): Slack ``text``/``mrkdwn`` with :func:`~firestop.markup.slack_text` (no
    ``<link|…>``, no ``<!channel>``; the Block Kit section ``verbatim``, so a bare URL is not made a link), Adaptive Card TextBlock/FactSet markdown with
    :func:`~firestop.markup.md_text` (no links or images); each fact value stays on one line.
    """
    from firestop.markup import md_text, one_line, slack_text

    if fmt in ("text", "slack"):
        title_s = slack_text(one_line(title))
        facts_s = [(name, slack_text(one_line(value))) for name, value in facts]
        body_s = slack_text(body)
        fact_text = "\n".join(f"{name}: {value}" for name, value in facts_s)
        text = "\n".join(p for p in (title_s, fact_text, body_s) if p)
        if fmt == "text":
            return {"text": text}
        section = "\n".join(f"*{name}:* {value}" for name, value in facts_s) + (f"\n{body_s}" if body_s else "")
        return {
            "text": text,
            "blocks": [
                {"type": "header", "text": {"type": "plain_text", "text": one_line(title)[:150]}},
                # verbatim: Slack's default (false) turns bare URLs and domains into links ("Text object", Block Kit
                # reference, docs.slack.dev: "When set to false (as is default) URLs will be auto-converted into
                # links, conversation names will be link-ified, and certain mentions will be automatically parsed"):
                # a delivered value stays text, as md_text keeps it in a Teams card (RT17-04)
                {"type": "section", "text": {"type": "mrkdwn", "text": section[:3000], "verbatim": True}},
            ],
        }
    card_body: list[dict[str, Any]] = [
        {"type": "TextBlock", "text": md_text(title), "weight": "Bolder", "size": "Medium", "wrap": True},
        {"type": "FactSet", "facts": [{"title": name, "value": f"[{md_text(value)}]({value})" if isinstance(value, OwnLink) else md_text(value)}
                                      for name, value in facts]},
    ]
    if body:
        card_body.append({"type": "TextBlock", "text": "\n\n".join(md_text(line) for line in body.split("\n")), "wrap": True})
    return {
        "type": "message",
        "attachments": [
            {
                "contentType": "application/vnd.microsoft.card.adaptive",
                "contentUrl": None,
                "content": {
                    "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
                    "type": "AdaptiveCard",
                    "version": "1.4",
                    "body": card_body,
                },
            }
        ],
    }


def _marker_name(ctx: RunContext, digest: str) -> str:
    """The store name of the copy of the message with SHA-256 ``digest`` sent by this step."""
    from runbooks.ledger import _SAFE

    safe = lambda v: _SAFE.sub("-", v).strip("-.") or "x"  # noqa: E731
    return f"{safe(ctx.incident_id)}/{safe(ctx.step_id)}.{digest[:32]}.json"


def _sent(ctx: RunContext, digest: str) -> dict[str, Any]:
    """The kept copy of the message ``digest`` this step sent (``{}`` when not sent). RunbookError for a store error."""
    from firestop.storage import StoreError, stores_for

    try:
        data = stores_for(ctx.settings).notifications.read(_marker_name(ctx, digest))
    except StoreError as exc:
        raise RunbookError("transient" if exc.kind == "transient" else "failed", f"notifications: {exc}") from None
    sent = json.loads(data) if data else {}
    return sent if isinstance(sent, dict) and sent.get("sha256") == digest else {}


def _post(url: str, data: bytes) -> int:
    import requests

    try:
        response = requests.post(url, data=data, headers={"Content-Type": "application/json"}, timeout=TIMEOUT_S, allow_redirects=False)
    except requests.RequestException as exc:
        raise RunbookError("transient", f"webhook did not answer: {type(exc).__name__}") from None
    status = response.status_code
    if 200 <= status < 300:
        return status
    retry_after = None
    try:
        retry_after = float(response.headers.get("Retry-After") or "") or None
    except ValueError:
        retry_after = None
    kind = {429: "throttled", 400: "invalid", 401: "forbidden", 403: "forbidden", 404: "not_found", 410: "not_found"}.get(status)
    if kind is None:
        kind = "transient" if status >= 500 else "failed"
    raise RunbookError(kind, f"webhook answered HTTP {status}", retry_after=retry_after if kind == "throttled" else None)


@register
class NotifyWebhook(Runbook[WebhookParams]):
    name = "notify.webhook"
    summary = "Post the incident summary (secrets redacted) to a Teams or Slack incoming webhook."
    permissions = ()  # not an Azure call
    target_type = None
    Params = WebhookParams
    mutating = False
    reversible = False
    incident_only = True

    def _message(self, ctx: RunContext, target: str | None, params: WebhookParams) -> tuple[str, str, str, dict, bytes]:
        url, host = webhook_url(ctx, params)
        fmt = _format_for(host, params.format)
        title, facts, body = summary_lines(ctx, target, params)
        secrets = ctx.secrets
        payload = build_payload(fmt, redact(title, secrets), [(n, redact(v, secrets)) for n, v in facts], redact(body, secrets))
        payload = redact_json(payload, secrets)
        return url, host, fmt, payload, json.dumps(payload, ensure_ascii=False, sort_keys=True).encode("utf-8")

    def plan(self, ctx: RunContext, target: str | None, params: WebhookParams) -> Plan:
        if not configured(ctx):
            return Plan(runbook=self.name, target=target or "", before={"skipped": NOT_CONFIGURED},
                        notes=[f"would be skipped: {NOT_CONFIGURED}"])
        _, host, fmt, payload, data = self._message(ctx, target, params)
        already = bool(_sent(ctx, hashlib.sha256(data).hexdigest()))
        return Plan(
            runbook=self.name,
            target=target or "",
            before={"host": host, "format": fmt, "already_sent": already},
            notes=["this message was already sent by this step" if already else f"would POST {len(data)} bytes to {host}"],
        )

    def apply(self, ctx: RunContext, target: str | None, params: WebhookParams) -> Applied:
        """Post the message once (a marker per message digest). With no webhook configured nothing is sent and the
        answer says so: ``changed=False``, ``artifacts={"skipped": NOT_CONFIGURED}`` (the step is *skipped*, not
        failed: the setting is optional)."""
        if not configured(ctx):
            return Applied(runbook=self.name, target=target or "", changed=False, before={}, after={},
                           summary=f"not sent: {NOT_CONFIGURED}", artifacts={"skipped": NOT_CONFIGURED})
        url, host, fmt, payload, data = self._message(ctx, target, params)
        from firestop.storage import AlreadyExists, StoreError, stores_for

        digest = hashlib.sha256(data).hexdigest()
        if _sent(ctx, digest):
            return Applied(runbook=self.name, target=target or "", changed=False, before={}, after={},
                           summary=f"message already sent to {host}; not sent again",
                           artifacts={"host": host, "format": fmt, "sha256": digest})
        status = _post(url, data)
        copy = {"sha256": digest, "host": host, "format": fmt, "status": status, "sent_at": ctx.now().isoformat(), "payload": payload}
        try:
            stores_for(ctx.settings).notifications.create(
                _marker_name(ctx, digest), json.dumps(copy, ensure_ascii=False, sort_keys=True).encode("utf-8"), "application/json")
        except AlreadyExists:
            pass  # a concurrent try sent it too and kept its copy first
        except StoreError as exc:
            raise RunbookError("transient" if exc.kind == "transient" else "failed", f"notifications: {exc}") from None
        ledger = append_ledger(ctx, kind="notification", runbook=self.name, action="apply", target=target,
                               data={"host": host, "format": fmt, "status": status, "sha256": digest, "bytes": len(data)})
        return Applied(
            runbook=self.name,
            target=target or "",
            changed=True,
            before={},
            after={},
            summary=f"posted the incident summary to {host} ({fmt}, HTTP {status})",
            artifacts={"host": host, "format": fmt, "status": status, "sha256": digest, "ledger": ledger},
        )

    def verify(self, ctx: RunContext, target: str | None, params: WebhookParams, applied: Applied) -> Verification:
        if applied.artifacts.get("skipped"):
            return Verification(runbook=self.name, target=target or "",
                                 checks=[Check(name="nothing sent (skipped)", ok=True, detail=str(applied.artifacts["skipped"]))])
        sent = _sent(ctx, str(applied.artifacts.get("sha256") or ""))
        return Verification(
            runbook=self.name,
            target=target or "",
            checks=[Check(name="webhook accepted the message", ok=sent.get("sha256") == applied.artifacts.get("sha256")
                          and 200 <= int(sent.get("status") or 0) < 300, detail=f"{sent.get('host')} HTTP {sent.get('status')}")],
        )

    def undo(self, ctx: RunContext, target: str | None, params: WebhookParams, applied: Applied) -> Applied:
        raise RunbookError("invalid", "notify.webhook cannot be undone: a posted message cannot be recalled")
