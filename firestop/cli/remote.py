"""Remote mode: the responders' commands against a deployed Function App (``--app URL`` or ``FIRESTOP_APP_URL``).

The CLI calls the responders' API with the person's own Microsoft Entra access token for the app's API
(``Authorization: Bearer``), which App Service authentication validates and turns into the caller's identity;
the app then checks the role (:mod:`firestop.trust`). No function key is sent: people are App Service
authentication plus a role. The output and exit codes are the local commands' (``tests/cli/test_remote_parity.py``).

| command | calls (role) |
|---|---|
| ``incident list`` / ``show`` | ``GET /api/incidents[/{id}]`` (reader) |
| ``incident approve`` / ``reject`` | ``POST /api/incidents/{id}/approvals/{step}`` (approver), then polls the incident |
| ``incident stop`` | ``POST /api/incidents/{id}/stop`` (responder), then polls the incident until it has finished |
| ``incident undo`` | ``GET /api/incidents/{id}/undo`` (the preview, unless ``--yes``), ``POST`` the same (responder) |
| ``runbook plan`` / ``run`` | ``POST /api/runbooks/{name}`` ``mode: plan``, then for a run ``mode: run`` (apply + verify; responder) |
| ``runbook undo RUN_ID`` | ``GET /api/runbook-runs/{day}/{step}`` (preview), ``POST …/undo`` (responder) |
| ``ledger verify`` | ``GET /api/ledgers/{id}`` (reader) |
| ``audit run`` / ``show`` / ``controls`` | ``POST /api/audits`` (responder), ``GET /api/audits/latest|{id}``, ``GET /api/audits/controls`` (reader) |

``tabletop run --app`` is refused (:data:`firestop.cli.tabletop_cmd.REMOTE_REFUSAL`). With ``--app`` the identity
is the token's only: ``--as``/``--group``/``--azure``/``--tenant`` are refused (:func:`refuse_local_flags`).

**Token**: azure-identity, ``--auth`` (or ``FIRESTOP_APP_AUTH``): ``cli`` (default, ``AzureCliCredential``:
after ``az login``), ``device-code`` (``DeviceCodeCredential``) or ``browser``
(``InteractiveBrowserCredential``), for the scope ``FIRESTOP_APP_SCOPE`` (e.g. ``api://<app id>/.default``, the
app registration of README "Deploy to Azure" step 2). The token is never printed or logged.

**Address**: ``https://`` for a deployed app; ``http://`` only for a loopback address (``firestop serve``): the
request carries the person's token, so any other ``http://`` is refused (exit 2, naming ``--app`` or
``FIRESTOP_APP_URL`` and the fix).

**Redirects are never followed**: urllib's default redirect handler re-sends every header — the bearer token
included — to whatever the ``Location`` names (another origin, even plain http). Calls go through an opener
whose redirect handler declines every redirect, and a 3xx answer is a :class:`RemoteError` (exit 2: the
``--app`` address is not the app's API origin) naming the ``Location`` without its query or fragment.

Errors: :class:`RemoteError` with ``exit_code`` 2 (401/403/404/409/400 from the app, a redirect, a missing
setting — the message names it and the fix), 3 (a 409 whose ``code`` is in :data:`NEEDS_RESPONDER_CODES`: an undo
refused because a containment holds the resource or a later incident relies on it, as locally) or 1 (cannot reach the app, 5xx, an answer that is not JSON).
"""

from __future__ import annotations

import ipaddress
import json
import os
import urllib.error
import urllib.request
from typing import Any
from urllib.parse import quote, urlencode, urljoin, urlsplit

APP_ENV = "FIRESTOP_APP_URL"
SCOPE_ENV = "FIRESTOP_APP_SCOPE"
AUTH_ENV = "FIRESTOP_APP_AUTH"
AUTH_CHOICES = ("cli", "device-code", "browser")
#: Largest answer read (bytes) and seconds to wait for one.
MAX_ANSWER_BYTES = 16 * 1024 * 1024
TIMEOUT_SECONDS = 60
APP_HELP = ("Act on a deployed Function App (https://<app>.azurewebsites.net; default $FIRESTOP_APP_URL) as your "
            "Entra sign-in (see --auth) instead of the local store.")
AUTH_HELP = "Remote mode sign-in: cli (az login, default), device-code or browser (default $FIRESTOP_APP_AUTH)."


#: An answer's ``code`` (``{"error", "reason", "fix", "code"}``) that is the local command's exit 3 — a refusal a
#: responder must resolve (:data:`firestop.functions.http_responders.BUSY` / ``RELIED_ON``); any other 4xx is exit 2.
NEEDS_RESPONDER_CODES = frozenset({"busy", "relied_on"})

#: Longest ``Location`` quoted in the error for a redirect (characters).
MAX_LOCATION_CHARS = 200


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """Declines every redirect, so urllib raises the 3xx as an HTTPError instead of re-sending the request —
    ``Authorization`` included — to the ``Location`` (module docstring)."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):  # noqa: PLR0913 — urllib's signature
        return None


#: The opener for every remote call: urllib's defaults with the redirect handler replaced by :class:`_NoRedirect`.
_OPENER = urllib.request.build_opener(_NoRedirect)


def _location(url: str, location: str | None) -> str:
    """``location`` (relative to ``url``) as ``scheme://host[:port]/path``: no user info, query or fragment (a
    redirect's query may carry codes or tokens), control characters escaped, at most MAX_LOCATION_CHARS."""
    if not location:
        return "(no Location)"
    try:
        parts = urlsplit(urljoin(url, location.strip()))
        host = parts.hostname or ""
        port = f":{parts.port}" if parts.port else ""
    except ValueError:
        return "(an unreadable Location)"
    shown = f"{parts.scheme}://{host}{port}{parts.path}"
    shown = "".join(c if c.isprintable() else repr(c)[1:-1] for c in shown)
    return shown if len(shown) <= MAX_LOCATION_CHARS else shown[:MAX_LOCATION_CHARS] + "…"


def _text(answer: Any, key: str) -> str | None:
    """``answer[key]`` when it is a string, else None: whatever answers at ``--app`` (a gateway, a wrong origin)
    chooses the error body, so a list or an object where a string belongs is ignored, never a TypeError."""
    value = answer.get(key) if isinstance(answer, dict) else None
    return value if isinstance(value, str) else None


class RemoteError(Exception):
    """A remote call that failed: ``exit_code`` 2 (refused / bad input) or 1 (the app or network failed)."""

    def __init__(self, message: str, exit_code: int, *, status: int | None = None, field: str | None = None) -> None:
        super().__init__(message)
        self.exit_code = exit_code
        self.status, self.field = status, field  # a 4xx answer's HTTP status and its "error" (the field refused)


def app_url(option: str | None) -> str | None:
    """The app's origin from ``--app`` or ``FIRESTOP_APP_URL``; None for local mode. RemoteError for a bad one."""
    raw = (option or os.environ.get(APP_ENV) or "").strip()
    if not raw:
        return None
    where = "--app" if option else APP_ENV
    try:
        parts = urlsplit(raw)
        host = parts.hostname or ""
        parts.port  # noqa: B018 — raises ValueError for a bad port
    except ValueError:
        raise RemoteError(f"{where}: {raw!r} is not a URL; use https://<app>.azurewebsites.net", 2) from None
    loopback = host == "localhost"
    try:
        loopback = loopback or ipaddress.ip_address(host).is_loopback
    except ValueError:
        pass
    if parts.scheme != "https" and not (parts.scheme == "http" and loopback):
        raise RemoteError(f"{where}: {raw!r} must be https://<app>.azurewebsites.net (http:// only for a loopback "
                          "firestop serve): the request carries your access token", 2)
    if not host or parts.path.strip("/") or parts.query or parts.username:
        raise RemoteError(f"{where}: give the app's origin only, e.g. https://<app>.azurewebsites.net", 2)
    return f"{parts.scheme}://{parts.netloc}"


def credential(auth: str | None):
    """The azure-identity credential for ``--auth`` (module docstring)."""
    choice = (auth or os.environ.get(AUTH_ENV) or "cli").strip()
    if choice not in AUTH_CHOICES:
        raise RemoteError(f"--auth: {choice!r} is not a sign-in method; use one of: {', '.join(AUTH_CHOICES)}", 2)
    import azure.identity as identity

    if choice == "device-code":
        return identity.DeviceCodeCredential()
    if choice == "browser":
        return identity.InteractiveBrowserCredential()
    return identity.AzureCliCredential()


class RemoteApp:
    """The responders' API of one deployed app, called with the person's token."""

    def __init__(self, origin: str, *, auth: str | None = None, scope: str | None = None) -> None:
        self.origin = origin
        self._credential = credential(auth)  # a bad --auth first: it is on the command line being fixed (newuser10)
        self.scope = (scope or os.environ.get(SCOPE_ENV) or "").strip()
        if not self.scope:
            raise RemoteError(f"{SCOPE_ENV} is not set: the scope of the app's API to sign in for; set it, e.g. "
                              f"export {SCOPE_ENV}=api://<app registration client id>/.default (README, Remote mode, "
                              "Recipe: the app registration must expose that scope to the Azure CLI's client)", 2)
        self._token: str | None = None
        self.last_continuation: str | None = None  # the last answer's X-Firestop-Continuation (incidents())

    def _bearer(self) -> str:
        if self._token is None:
            try:
                self._token = self._credential.get_token(self.scope).token
            except Exception as exc:  # noqa: BLE001 — azure-identity raises CredentialUnavailableError, ClientAuthenticationError …
                raise RemoteError(f"no Entra sign-in for {self.scope} ({type(exc).__name__}): run az login "
                                  "(or use --auth device-code / --auth browser)", 2) from None
        return self._token

    def call(self, method: str, path: str, body: Any = None, *, query: dict[str, str] | None = None,
             answers: tuple[int, ...] = ()) -> tuple[int, Any]:
        """(status, JSON answer) of one call; RemoteError for anything but 2xx and ``answers``."""
        url = f"{self.origin}/api/{path}" + (f"?{urlencode(query)}" if query else "")
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(url, data=data, method=method, headers={
            "Authorization": f"Bearer {self._bearer()}", "Accept": "application/json",
            **({"Content-Type": "application/json"} if data is not None else {})})
        try:
            with _OPENER.open(request, timeout=TIMEOUT_SECONDS) as response:  # noqa: S310 — https or loopback only
                status, raw = response.status, response.read(MAX_ANSWER_BYTES + 1)
                self.last_continuation = response.headers.get("X-Firestop-Continuation")  # GET /api/incidents' next page
        except urllib.error.HTTPError as exc:
            if 300 <= exc.code < 400:  # never followed: the request carries the person's token
                exc.close()
                raise RemoteError(f"{self.origin} answered HTTP {exc.code} redirecting to "
                                  f"{_location(url, exc.headers.get('Location'))}, which Firestop does not follow "
                                  "(your access token would go with it): give --app (or "
                                  f"{APP_ENV}) the app's own https origin, e.g. https://<app>.azurewebsites.net", 2) from None
            status, raw = exc.code, exc.read(MAX_ANSWER_BYTES + 1)
        except (urllib.error.URLError, OSError) as exc:
            raise RemoteError(f"cannot reach {self.origin} ({getattr(exc, 'reason', exc)})", 1) from None
        if len(raw) > MAX_ANSWER_BYTES:
            raise RemoteError(f"{self.origin} answered more than {MAX_ANSWER_BYTES} bytes", 1)
        try:
            answer = json.loads(raw) if raw else None
        except ValueError:
            raise RemoteError(f"{self.origin} answered {status} without JSON (is it a Firestop app?)", 1) from None
        if 200 <= status < 300 or status in answers:
            return status, answer
        reason, fix, code = (_text(answer, key) for key in ("reason", "fix", "code"))
        if status == 401:
            raise RemoteError(f"{self.origin} did not accept your sign-in: {reason or 'unauthenticated'}; "
                              f"{fix or 'run az login and check ' + SCOPE_ENV}", 2)
        if 400 <= status < 500:
            said = f"{reason or f'HTTP {status}'}" + (f"; {fix}" if fix and fix not in (reason or "") else "")
            raise RemoteError(self._on_app(said), 3 if code in NEEDS_RESPONDER_CODES else 2, status=status,
                              field=_text(answer, "error"))
        raise RemoteError(f"{self.origin} failed with HTTP {status}" + (f": {reason}" if reason else ""), 1)

    def _on_app(self, message: str) -> str:
        """``message`` with ``--app ORIGIN`` added to each undo/release command it names (the app's refusals share
        their words with the local ones: ``python -m firestop incident undo LATER --step S``, ``… runbook undo RUN``),
        so that the command, run as typed, acts on this app and not on the local store."""
        import re

        return re.sub(r"(python -m firestop (?:incident undo [\w.-]+(?: --step [\w.-]+)?|runbook undo [\w./-]+))(?![\w./-]| --step| --app)",
                      lambda m: f"{m.group(1)} --app {self.origin}", message)

    # -- the responders' API ----------------------------------------------------------------------------
    #: Pages of ``GET /api/incidents`` one ``incident list --app`` reads (LIST_PAGE_SIZE rows each), following the
    #: ``X-Firestop-Continuation`` header; past them the list ends there (the app pages so that no call reads every
    #: record: firestop.functions.http_api.page_views).
    LIST_PAGES = 50
    LIST_PAGE_SIZE = 500

    def incidents(self, status: str | None = None) -> list[dict[str, Any]]:
        """Every incident view (``?status=`` filter), newest first: the app's pages in order, at most
        :data:`LIST_PAGES` of them."""
        rows: list[dict[str, Any]] = []
        token: str | None = None
        for _ in range(self.LIST_PAGES):
            query = {"top": str(self.LIST_PAGE_SIZE), **({"status": status} if status else {}),
                     **({"continuation": token} if token else {})}
            self.last_continuation = None
            _, answer = self.call("GET", "incidents", query=query)
            if not isinstance(answer, list):
                raise RemoteError(f"{self.origin}: GET /api/incidents did not answer a list", 1)
            rows.extend(answer)
            token = self.last_continuation
            if not token:
                break
        return rows

    def _on_incident(self, incident_id: str, method: str, path: str, body: Any = None, *, query: dict[str, str] | None = None,
                     what: str = "incident") -> Any:
        """``self.call(method, path, body)``'s answer for a route of one incident; an unknown incident (the app's 404
        on ``incident_id``) is the local command's refusal (exit 2) with the CLI command (with ``--app``) as its hint,
        not the API route the app's 404 names. ``what``: ``incident``, or ``ledger`` (ledger verify's wording)."""
        try:
            _, answer = self.call(method, path, body, query=query)
        except RemoteError as exc:
            if exc.status == 404 and exc.field == "incident_id":
                said = (f"INCIDENT: no ledger for {incident_id!r} in the app's ledger store; check the incident ID"
                        if what == "ledger" else f"ID: no incident {incident_id!r}; list them with")
                raise RemoteError(f"{said}: python -m firestop incident list --app {self.origin}", 2, status=404,
                                  field="incident_id") from None
            raise
        return answer

    def incident(self, incident_id: str) -> dict[str, Any]:
        """One incident view; an unknown one: :meth:`_on_incident`."""
        answer = self._on_incident(incident_id, "GET", f"incidents/{quote(incident_id, safe='')}")
        if not isinstance(answer, dict):
            raise RemoteError(f"{self.origin}: GET /api/incidents/{{id}} did not answer an object", 1)
        return answer

    def decide(self, incident_id: str, step: str, decision: str, comment: str | None) -> dict[str, Any]:
        body = {"decision": decision, **({"comment": comment} if comment else {})}
        answer = self._on_incident(incident_id, "POST", f"incidents/{quote(incident_id, safe='')}/approvals/{quote(step, safe='')}", body)
        return answer

    def stop(self, incident_id: str, reason: str) -> dict[str, Any]:
        """``{"incident_id", "stopping": True, "by"}`` (202): the stop is sent, sealed for the incident, as the signed-in caller."""
        answer = self._on_incident(incident_id, "POST", f"incidents/{quote(incident_id, safe='')}/stop", {"reason": reason})
        return self._object(answer, "POST /api/incidents/{id}/stop")

    def runbook(self, name: str, target: str, params: dict[str, Any], mode: str) -> dict[str, Any]:
        """The runbook's answer (``{"ok", "result" | "error", ...}``; a failed run is answered 422 with it)."""
        _, answer = self.call("POST", f"runbooks/{quote(name, safe='')}", {"target": target, "params": params, "mode": mode},
                              answers=(422,))
        return answer

    def run(self, name: str, target: str | None, params: dict[str, Any]) -> dict[str, Any]:
        """``runbook run``'s apply then verify under one run id (``mode: run``): ``{"ok", "apply", "verify",
        "incident_id", "step_id", "run_id", "requested_by"}`` (a failed apply is answered 422 with it)."""
        _, answer = self.call("POST", f"runbooks/{quote(name, safe='')}", {"target": target, "params": params, "mode": "run"},
                              answers=(422,))
        return self._object(answer, "POST /api/runbooks/{name}")

    def undo_preview(self, incident_id: str, step: str | None) -> dict[str, Any]:
        """``{"incident_id", "actions": [{"step_id", "runbook", "target", "before"}], "stays": [...]}``."""
        answer = self._on_incident(incident_id, "GET", f"incidents/{quote(incident_id, safe='')}/undo",
                                   query={"step": step} if step else None)
        return self._object(answer, "GET /api/incidents/{id}/undo")

    def undo(self, incident_id: str, step: str | None) -> dict[str, Any]:
        """``{"incident_id", "undone": [{"step_id", "runbook", "ok", "detail"}]}``, recorded as the signed-in caller."""
        answer = self._on_incident(incident_id, "POST", f"incidents/{quote(incident_id, safe='')}/undo", {"step": step} if step else {})
        return self._object(answer, "POST /api/incidents/{id}/undo")

    @staticmethod
    def _run_path(run_id: str) -> str:
        day, _, step = run_id.partition("/")
        return f"runbook-runs/{quote(day, safe='')}/{quote(step, safe='')}"

    def manual_run(self, run_id: str) -> dict[str, Any]:
        """``{"run_id", "runbook", "target", "before"}`` of a manual run (``manual-<date>/<step>``)."""
        _, answer = self.call("GET", self._run_path(run_id))
        return self._object(answer, "GET /api/runbook-runs/{day}/{step}")

    def manual_undo(self, run_id: str) -> dict[str, Any]:
        """``{"run_id", "undo": <the runbook's answer>, "requested_by"}`` (a failed undo is answered 422 with it)."""
        _, answer = self.call("POST", self._run_path(run_id) + "/undo", {}, answers=(422,))
        return self._object(answer, "POST /api/runbook-runs/{day}/{step}/undo")

    def ledger(self, incident_id: str) -> dict[str, Any]:
        """``{"incident_id", "ok", "verdict", "entries", "verified", "sealed", "head", "problems", "path"}`` (the app's check of the ledger)."""
        answer = self._on_incident(incident_id, "GET", f"ledgers/{quote(incident_id, safe='')}", what="ledger")
        return self._object(answer, "GET /api/ledgers/{id}")

    def audit_controls(self) -> list[dict[str, Any]]:
        _, answer = self.call("GET", "audits/controls")
        if not isinstance(answer, list):
            raise RemoteError(f"{self.origin}: GET /api/audits/controls did not answer a list", 1)
        return answer

    def audit(self, audit_id: str | None) -> dict[str, Any]:
        """A stored audit as JSON (the newest when ``audit_id`` is None). None kept (the app's 404 on ``audit_id``) is
        the local command's refusal (exit 2) with the CLI commands (with ``--app``) as its hint, not the API route the
        app's 404 names."""
        try:
            _, answer = self.call("GET", f"audits/{quote(audit_id, safe='') if audit_id else 'latest'}", query={"format": "json"})
        except RemoteError as exc:
            if exc.status == 404 and exc.field == "audit_id":
                hint = (f"omit AUDIT_ID for the app's latest: python -m firestop audit show --app {self.origin}" if audit_id
                        else f"run one: python -m firestop audit run --app {self.origin} (or wait for the app's weekly audit_timer)")
                raise RemoteError(f"AUDIT_ID: no stored audit{' ' + audit_id if audit_id else ''} in the app; {hint}", 2,
                                  status=404, field="audit_id") from None
            raise
        return self._object(answer, "GET /api/audits/{id}")

    def run_audit(self, resource_groups: list[str], accounts: list[str], fix: bool) -> dict[str, Any]:
        """Run an audit of the app's scope (narrowed by ``resource_groups`` / ``accounts``): the audit with
        ``exit_code``, ``files`` and, with ``fix``, ``fixes``."""
        body: dict[str, Any] = {"fix": fix}
        if resource_groups:
            body["resource_groups"] = resource_groups
        if accounts:
            body["accounts"] = accounts
        _, answer = self.call("POST", "audits", body)
        return self._object(answer, "POST /api/audits")

    def _object(self, answer: Any, route: str) -> dict[str, Any]:
        if not isinstance(answer, dict):
            raise RemoteError(f"{self.origin}: {route} did not answer an object", 1)
        return answer

    def wait_decided(self, incident_id: str, step: str, *, timeout: float = 120.0, poll: float = 0.5) -> dict[str, Any]:
        """The incident once it no longer waits on ``step`` and has settled (not running), or as it stands after
        ``timeout`` seconds — the remote counterpart of the local host driving the incident on."""
        import time

        deadline = time.monotonic() + timeout
        while True:
            incident = self.incident(incident_id)
            pending = (incident.get("pending_approval") or {}).get("step")
            if (pending != step and incident.get("status") != "running") or time.monotonic() >= deadline:
                return incident
            time.sleep(poll)  # the orchestration runs in the app: poll, bounded by the deadline


    def wait_finished(self, incident_id: str, *, timeout: float = 120.0, poll: float = 0.5) -> dict[str, Any]:
        """The incident once it is neither running nor waiting for an approval (a stop has been handled), or as it
        stands after ``timeout`` seconds."""
        import time

        deadline = time.monotonic() + timeout
        while True:
            incident = self.incident(incident_id)
            if incident.get("status") not in ("running", "awaiting_approval") or time.monotonic() >= deadline:
                return incident
            time.sleep(poll)  # the orchestration runs in the app: poll, bounded by the deadline


def connect(option: str | None, auth: str | None, *, as_json: bool) -> RemoteApp | None:
    """The deployed app a command acts on (``--app`` or ``FIRESTOP_APP_URL``), or None for local mode; a bad address,
    sign-in method or scope exits 2 naming it (:func:`firestop.cli.output.fail`)."""
    from firestop.cli.output import fail

    try:
        origin = app_url(option)
        return RemoteApp(origin, auth=auth) if origin else None
    except RemoteError as exc:
        fail(str(exc), exc.exit_code, as_json=as_json)


def calling(as_json: bool, call, *args, **kwargs):
    """``call(*args, **kwargs)``; a :class:`RemoteError` exits with its code and its one line."""
    from firestop.cli.output import fail

    try:
        return call(*args, **kwargs)
    except RemoteError as exc:
        fail(str(exc), exc.exit_code, as_json=as_json)


def refuse_local_flags(as_json: bool, **flags: Any) -> None:
    """Exit 2 when a local-only option (``--as``, ``--azure``, ``--tenant`` …) is given with ``--app``: remote mode acts
    as the signed-in person on the app's own tenant. ``flags``: option name (``as_`` → ``--as``) → its value."""
    from firestop.cli.output import fail

    given = [("--" + name.rstrip("_").replace("_", "-")) for name, value in flags.items() if value]
    if given:
        fail(f"{'/'.join(given)}: not with --app (or {APP_ENV}): remote mode acts as your Entra sign-in (--auth) on the "
             "app's own tenant and store; drop " + ("it" if len(given) == 1 else "them"), 2, as_json=as_json)
