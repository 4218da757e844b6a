"""The Durable extension's HTTP management API, served locally over a LocalDurableHost.

The SDK's ``DurableOrchestrationClient`` (what ``@app.durable_client_input``
gives an HTTP function) talks HTTP to the extension, using the URLs of the
client binding JSON (``taskHubName``, ``creationUrls``, ``managementUrls``,
``rpcBaseUrl``). :class:`ManagementServer` is a loopback ``http.server`` in a
thread implementing the subset of routes the client's ``start_new``,
``get_status``, ``get_status_all``/``get_status_by``, ``raise_event``,
``terminate``, ``purge_instance_history`` and ``create_check_status_response``
links use, with the extension's status codes (``HttpApiHandler.cs``):

* ``POST orchestrators/{functionName}[/{instanceId}]`` → 202 + management
  payload (``Location`` = statusQueryGetUri); 400 ``{"ExceptionMessage"}`` for
  an unknown orchestrator, bad JSON or an instance id starting with ``@``
  (reserved for entities); 409 if the id is Pending/Running.
* ``GET instances/{id}[?showHistory=true&showInput=false&returnInternalServerErrorOnFailure=true]``
  → 202 (Pending/Running, ``Location`` + ``Retry-After: 5``), 200 otherwise
  (500 for Failed with ``returnInternalServerErrorOnFailure``), 404 unknown.
* ``GET instances/`` with ``runtimeStatus`` (comma-separated), ``createdTimeFrom``,
  ``createdTimeTo`` (both inclusive), ``instanceIdPrefix``, ``showInput`` (default
  true) → 200 and one page of at most ``top`` instances (default 100), in
  instance-id order; every answer carries the ``x-ms-continuation-token`` header,
  empty on the last page, and the next page is asked for with that token as a
  request header (:mod:`firestop.instance_listing`). 400 for a ``top`` that is not
  a positive integer, a runtime status it does not know or a token this server
  did not issue (the extension ignores the first two). Checked against the
  extension's ``HttpApiHandler.HandleGetStatusRequestAsync`` and the Azure Storage
  backend it calls (see :func:`ManagementServer._list`). Entity instances are
  listed too, as the extension lists them (``@name@key``, name the same id,
  Running, ``LocalDurableHost.list_entity_instances``): ``HandleGetStatusRequestAsync``
  at Azure/azure-functions-durable-extension v3.x 92fecfc sets no ``ExcludeEntities``.
* ``POST instances/{id}/raiseEvent/{eventName}`` (``application/json`` only,
  else 400) → 202; 404 unknown; 410 finished.
* ``POST instances/{id}/terminate?reason=`` → 202; 404; 410 finished.
* ``DELETE instances/{id}`` → 200 ``{"instancesDeleted": 1}``; 404; 412 if
  not finished.
* ``POST entities/{name}/{key}?op=NAME`` (the SDK client's ``signal_entity``)
  → 202; 400 for an entity name the app does not declare, a bad name/key, a
  missing ``op`` or a body that is not JSON; 413 for a body over
  :data:`MAX_ENTITY_INPUT` bytes.
* ``GET entities/{name}/{key}`` (``read_entity_state``) → 200 with the state
  as JSON; 404 if the entity does not exist (never ran or was deleted).

Routes are served under both ``/durabletask/`` (the ``rpcBaseUrl``) and
``/runtime/webhooks/durabletask/`` (the public webhook links).
``firestop serve`` (``serve.py``) keeps this server as the loopback RPC
endpoint and answers the public webhook links on its own port through
:meth:`ManagementServer.handle` with its own ``base_url`` and the function
key appended to every link (``extra_query``).

Payload encoding, as the real pieces do it: the SDK client JSON-encodes the
input/event data and then posts it with aiohttp's ``json=``, i.e. encoded
twice. For a start, the extension stores the body and the SDK's
``get_input()`` decodes twice, so the orchestrator sees the value. For an
event, the extension parses the body once (``ConvertToJToken``) and stores
that token as the EventRaised input, so **the orchestrator receives JSON text
(a ``str``)** for data raised through the SDK client
(azure-functions-durable-python#295); the local server does the same.
``LocalDurableHost.raise_event`` (in-process) delivers the value itself.

The server does not run orchestrations: drive them with
``host.run_until_idle()`` as usual.
"""

from __future__ import annotations

import asyncio
import atexit
import base64
import concurrent.futures
import json
import logging
import socket
import threading
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable
from urllib.parse import parse_qs, quote, unquote, urlsplit, urlunsplit

import azure.functions as func
from orjson import JSONDecodeError as _OrjsonDecodeError
from orjson import loads as _orjson_loads

from . import inprocess
from .errors import FunctionNotFound, InstanceAlreadyExists, InstanceNotFound
from .functions import DURABLE_CLIENT, HTTP_TRIGGER, index_app
from .history import parse_timestamp
from .status import TERMINAL_STATUSES, OrchestrationStatus
from .wakeup import PromptShutdownMixin

log = logging.getLogger("firestop.runtime")

RPC_PREFIX = "/durabletask"
WEBHOOK_PREFIX = "/runtime/webhooks/durabletask"
DEFAULT_TASK_HUB = "FirestopLocal"
DEFAULT_CONNECTION = "Storage"
#: Largest operation input accepted by ``POST entities/...`` (bytes; Durable
#: messages larger than a queue message go through blobs on Azure, locally a
#: signal this size is already unreasonable).
MAX_ENTITY_INPUT = 1 << 20


def client_binding(base_url: str, *, task_hub: str = DEFAULT_TASK_HUB,
                   connection: str = DEFAULT_CONNECTION, rpc_base_url: str | None = None,
                   extra_query: str = "") -> dict[str, Any]:
    """The durable client binding data for a server at ``base_url`` (``http://host:port``).

    Same keys and URL templates the extension passes (see the SDK's
    ``tests/conftest.py`` binding fixture): ``taskHubName``, ``creationUrls``
    (``{functionName}[/{instanceId}]`` templates), ``managementUrls`` (with the
    ``INSTANCEID`` placeholder) and ``rpcBaseUrl``. ``rpc_base_url``: origin of
    the RPC endpoint the SDK client calls, if not ``base_url``;
    ``extra_query``: appended to every public link (e.g. ``code=<key>``, as
    Azure appends the system key).
    """
    base = base_url.rstrip("/")
    hooks = base + WEBHOOK_PREFIX
    query = f"taskHub={quote(task_hub)}&connection={quote(connection)}"
    if extra_query:
        query += "&" + extra_query.lstrip("&")
    instance = f"{hooks}/instances/INSTANCEID"
    return {
        "taskHubName": task_hub,
        "creationUrls": {
            "createNewInstancePostUri": f"{hooks}/orchestrators/{{functionName}}[/{{instanceId}}]?{query}",
            "createAndWaitOnNewInstancePostUri": (
                f"{hooks}/orchestrators/{{functionName}}[/{{instanceId}}]"
                f"?timeout={{timeoutInSeconds}}&pollingInterval={{intervalInSeconds}}&{query}"),
        },
        "managementUrls": _management_urls(instance, "INSTANCEID", query),
        "rpcBaseUrl": f"{(rpc_base_url or base).rstrip('/')}{RPC_PREFIX}/",
        "httpBaseUrl": hooks,
        "requiredQueryStringParameters": query,
    }


def _management_urls(instance_prefix: str, instance_id: str, query: str) -> dict[str, str]:
    return {
        "id": instance_id,
        "statusQueryGetUri": f"{instance_prefix}?{query}",
        "sendEventPostUri": f"{instance_prefix}/raiseEvent/{{eventName}}?{query}",
        "terminatePostUri": f"{instance_prefix}/terminate?reason={{text}}&{query}",
        "rewindPostUri": f"{instance_prefix}/rewind?reason={{text}}&{query}",
        "purgeHistoryDeleteUri": f"{instance_prefix}?{query}",
        "restartPostUri": f"{instance_prefix}/restart?{query}",
        "suspendPostUri": f"{instance_prefix}/suspend?reason={{text}}&{query}",
        "resumePostUri": f"{instance_prefix}/resume?reason={{text}}&{query}",
    }


def _dotnet_time(when: datetime) -> str:
    """``DateTime.ToString("s") + "Z"`` as the extension writes status times."""
    return when.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def status_payload(status: OrchestrationStatus, *, show_input: bool = True) -> dict[str, Any]:
    """The extension's ``StatusResponsePayload`` for one instance."""
    payload: dict[str, Any] = {
        "name": status.name,
        "instanceId": status.instance_id,
        "runtimeStatus": status.runtime_status,
        "input": status.input if show_input else None,
        "customStatus": status.custom_status,
        "output": status.output,
        "createdTime": _dotnet_time(status.created_time),
        "lastUpdatedTime": _dotnet_time(status.last_updated_time),
    }
    if status.history is not None:
        payload["historyEvents"] = status.history
    return payload


class _NoDelayServer(PromptShutdownMixin, ThreadingHTTPServer):
    """TCP_NODELAY on accepted sockets: the handler writes headers and body in two sends, and with Nagle's
    algorithm the body of a kept-alive connection (the SDK's aiohttp session) waits ~40 ms for the client's
    delayed ACK — on every Durable client call a function makes. ``shutdown()`` returns at once
    (:mod:`firestop.runtime.wakeup`), not after the loop's next 0.05 s poll."""

    request_queue_size = 128

    def get_request(self):  # type: ignore[override]
        conn, address = super().get_request()
        try:
            conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        except OSError:
            pass
        return conn, address


class ManagementServer:
    """Loopback server of the management API for ``host`` (a LocalDurableHost).

    ``port=0`` picks a free port; :attr:`base_url` tells which. Use as a
    context manager or call :meth:`start` / :meth:`stop`. ``on_change``: called
    (no arguments, on the server thread) after every accepted start, event,
    terminate or purge — ``firestop serve`` wakes its driver with it.
    """

    def __init__(self, host: Any, *, address: str = "127.0.0.1", port: int = 0,
                 task_hub: str = DEFAULT_TASK_HUB, connection: str = DEFAULT_CONNECTION,
                 on_change: Callable[[], None] | None = None, path_secret: str | None = None,
                 in_process: bool = True) -> None:
        self.host = host
        #: the SDK client in this process reaches the server in memory (:mod:`firestop.runtime.inprocess`)
        self.in_process = in_process
        #: when set, the loopback listener answers only paths under ``/<path_secret>/`` (:attr:`rpc_url`): any local
        #: process can reach a loopback port, and these routes start, raise, terminate and purge without a key
        self.path_secret = path_secret
        self.task_hub = task_hub
        self.connection = connection
        #: ((base URL, task hub, connection, RPC URL), binding JSON): :meth:`client_binding_json`'s last answer
        self._binding_json: tuple[tuple[str, str, str, str], str] | None = None
        self.on_change = on_change
        self._httpd = _NoDelayServer((address, port), _make_handler(self))
        self._httpd.daemon_threads = True
        self._thread: threading.Thread | None = None

    @property
    def base_url(self) -> str:
        address, port = self._httpd.server_address[:2]
        return f"http://{address}:{port}"

    @property
    def rpc_url(self) -> str:
        """Where the SDK client reaches this listener: :attr:`base_url`, plus ``/<path_secret>`` when one is set."""
        return self.base_url + (f"/{self.path_secret}" if self.path_secret else "")

    def client_binding_json(self) -> str:
        """The JSON string a ``durableClient`` binding receives for this server.

        Built once per (base URL, task hub, connection, RPC URL) and reused: every HTTP function invocation asks
        for it (:func:`invoke_http_function`), and building the URL templates and encoding them cost ~110 us a
        call (``python bench/intake.py hot``: ~0.11 s of CPU for 1,000 correlated webhooks). A changed
        ``task_hub``, ``connection`` or ``path_secret`` builds it again."""
        rpc_url = self.rpc_url
        stamp = (self.base_url, self.task_hub, self.connection, rpc_url)
        cached = self._binding_json
        if cached is None or cached[0] != stamp:
            cached = self._binding_json = (stamp, json.dumps(client_binding(
                stamp[0], task_hub=self.task_hub, connection=self.connection, rpc_base_url=rpc_url)))
        return cached[1]

    def start(self) -> "ManagementServer":
        if self._thread is None:
            self._thread = threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05},
                                            name="firestop-durable-http", daemon=True)
            self._thread.start()
            if self.in_process:
                address, port = self._httpd.server_address[:2]
                inprocess.register(str(address), int(port), self.answer_bytes, self.answer_now)
            if getattr(self.host, "activity_client", False) is None:  # activities with a client binding reach us
                self._activity_client = (self.client_binding_json, _WorkerLoop.run)
                self.host.activity_client = self._activity_client
        return self

    def stop(self) -> None:
        mine = getattr(self, "_activity_client", None)
        if mine is not None and getattr(self.host, "activity_client", None) is mine:
            self.host.activity_client = None
        if self._thread is not None:
            address, port = self._httpd.server_address[:2]
            inprocess.unregister(str(address), int(port))
            self._httpd.shutdown()
            self._thread.join()
            self._thread = None
        self._httpd.server_close()

    def __enter__(self) -> "ManagementServer":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- request handling (called on server threads) ---------------------------
    def answer_bytes(self, method: str, raw_path: str, headers: Any, body: bytes) -> tuple[int, dict[str, str], bytes]:
        """One request to the RPC listener as its HTTP handler answers it: ``(status, headers, JSON body bytes)``.

        ``raw_path`` must start with ``/<path_secret>/`` when a secret is set (else 404); an exception is a 500
        with the extension's error shape. Used by the socket handler and by :mod:`~firestop.runtime.inprocess`.
        """
        if self.path_secret:
            prefix = f"/{self.path_secret}/"
            if not raw_path.startswith(prefix):
                return 404, {}, b""
            raw_path = raw_path[len(prefix) - 1:]
        try:
            code, headers, payload = self.handle(method, raw_path, headers, body)
        except Exception as exc:  # noqa: BLE001 - report, like the extension's 500
            code, headers, payload = 500, {}, {"Message": "Something went wrong while processing your request",
                                               "ExceptionMessage": str(exc)}
        return code, headers, b"" if payload is None else json.dumps(payload).encode("utf-8")

    def handle(self, method: str, raw_path: str, headers: Any, body: bytes, *,
               base_url: str | None = None, extra_query: str = "") -> tuple[int, dict[str, str], Any]:
        """Answer one request: ``(status, headers, JSON-able payload or None)``.

        ``base_url`` (default this server's) and ``extra_query`` shape the
        links in answers (``Location``, the management payload).
        """
        code, out_headers, payload = self._route(method, raw_path, headers, body,
                                                 base_url or self.base_url, extra_query)
        if self.on_change is not None and method in ("POST", "DELETE") and 200 <= code < 300:
            self.on_change()
        return code, out_headers, payload

    def answer_now(self, method: str, raw_path: str, headers: Any, body: bytes) -> tuple[int, dict[str, str], bytes] | None:
        """:meth:`answer_bytes` for a read (``GET``) when the host's store lock is free right now, else None.

        Called on the worker event loop by :mod:`~firestop.runtime.inprocess` to spare a thread hop: a GET only
        reads (WAL readers never wait for another process's writer), and the lock is only tried, so the loop
        never waits behind a writer of this process (the driver, a write waiting on SQLite's busy timeout).
        """
        lock = getattr(self.host, "store_lock", None)
        if method != "GET" or lock is None or not lock.acquire(blocking=False):
            return None
        try:
            return self.answer_bytes(method, raw_path, headers, body)
        finally:
            lock.release()

    def _route(self, method: str, raw_path: str, headers: Any, body: bytes, base_url: str,
               extra_query: str) -> tuple[int, dict[str, str], Any]:
        parts = urlsplit(raw_path)
        path = parts.path
        for prefix in (WEBHOOK_PREFIX, RPC_PREFIX):
            if path == prefix or path.startswith(prefix + "/"):
                path = path[len(prefix):]
                break
        else:
            return 404, {}, "Not a durable task route"
        segments = [unquote(s) for s in path.strip("/").split("/") if s != ""]
        query = {k: v[-1] for k, v in parse_qs(parts.query, keep_blank_values=True).items()}
        request_url = f"{base_url}{raw_path}"

        if segments[:1] == ["orchestrators"] and len(segments) in (2, 3) and method == "POST":
            return self._start(segments[1], segments[2] if len(segments) == 3 else None, body,
                               base_url, extra_query)
        if segments[:1] == ["instances"]:
            if len(segments) == 1 and method == "GET":
                return self._list(query, headers)
            if len(segments) == 2 and method == "GET":
                return self._status(segments[1], query, request_url)
            if len(segments) == 2 and method == "DELETE":
                return self._purge(segments[1])
            if len(segments) == 3 and segments[2].lower() == "terminate" and method == "POST":
                return self._terminate(segments[1], query.get("reason", ""))
            if len(segments) == 4 and segments[2] == "raiseEvent" and method == "POST":
                return self._raise(segments[1], segments[3], headers, body)
        if segments[:1] == ["entities"] and len(segments) == 3:
            if method == "POST":
                return self._signal(segments[1], segments[2], query, body)
            if method == "GET":
                return self._entity_state(segments[1], segments[2])
        return 404, {}, None

    def _payload_for(self, instance_id: str, base_url: str | None = None, extra_query: str = "") -> dict[str, str]:
        query = f"taskHub={quote(self.task_hub)}&connection={quote(self.connection)}"
        if extra_query:
            query += "&" + extra_query.lstrip("&")
        prefix = f"{base_url or self.base_url}{WEBHOOK_PREFIX}/instances/{quote(instance_id, safe='')}"
        return _management_urls(prefix, instance_id, query)

    def _start(self, name: str, instance_id: str | None, body: bytes, base_url: str | None = None,
               extra_query: str = "") -> tuple[int, dict[str, str], Any]:
        input_json = None
        text = body.decode("utf-8") if body else ""
        if text.strip():
            try:
                token = json.loads(text)
            except ValueError:
                return 400, {}, {"Message": "Invalid JSON content", "ExceptionMessage": "Invalid JSON content"}
            input_json = _unwrap_json_text(token)
        try:
            new_id = self.host.start_new_json(name, instance_id, input_json)
        except (FunctionNotFound, ValueError) as exc:  # ValueError: an instance id reserved for entities
            return 400, {}, {"Message": str(exc), "ExceptionMessage": str(exc)}
        except InstanceAlreadyExists as exc:
            return 409, {}, {"Message": str(exc), "ExceptionMessage": str(exc)}
        payload = self._payload_for(new_id, base_url, extra_query)
        return 202, {"Location": payload["statusQueryGetUri"], "Retry-After": "10"}, payload

    def _status(self, instance_id: str, query: dict[str, str], request_url: str) -> tuple[int, dict[str, str], Any]:
        show_history = query.get("showHistory", "").lower() == "true"
        show_input = query.get("showInput", "true").lower() != "false"
        try:
            status = self.host.get_status(instance_id, show_history=show_history)
        except InstanceNotFound as exc:
            return 404, {}, str(exc)
        payload = status_payload(status, show_input=show_input)
        if status.runtime_status in ("Pending", "Running"):
            return 202, {"Location": request_url, "Retry-After": "5"}, payload
        if status.runtime_status == "Failed" and query.get("returnInternalServerErrorOnFailure", "").lower() == "true":
            return 500, {}, payload
        return 200, {}, payload

    def _list(self, query: dict[str, str], headers: Any = None) -> tuple[int, dict[str, str], Any]:
        """``GET instances/``: one page of the filtered listing, as the extension's
        ``HandleGetStatusRequestAsync`` answers it (see :data:`LIST_PAGE_SIZE`, :func:`_page_key`,
        :data:`CONTINUATION_HEADER`). Stricter than the extension on malformed paging and filters (400 where it
        silently ignores a ``top`` that is not an integer or a runtime status it cannot parse)."""
        statuses = [s for s in query.get("runtimeStatus", "").split(",") if s]
        unknown = [s for s in statuses if s not in RUNTIME_STATUS_NAMES]
        if unknown:
            return 400, {}, {"Message": f"runtimeStatus: {unknown[0][:40]!r} is not a runtime status"}
        created_from = _query_time(query.get("createdTimeFrom"))
        created_to = _query_time(query.get("createdTimeTo"))
        prefix = query.get("instanceIdPrefix")
        top, after = LIST_PAGE_SIZE, None
        if query.get("top") is not None:
            top = int(query["top"]) if query["top"].isascii() and query["top"].isdigit() and 0 < len(query["top"]) <= 6 else 0
            if top < 1:
                return 400, {}, {"Message": "top: a positive integer (instances per page)"}
        token = (headers.get(CONTINUATION_HEADER) if headers is not None else None) or None
        if token is not None:
            after = _read_token(token)
            if after is None:
                return 400, {}, {"Message": f"{CONTINUATION_HEADER}: not a continuation token this server issued"}
        found = self.host.list_instances(runtime_status=statuses or None, created_from=created_from,
                                         created_to=created_to, id_prefix=prefix)
        if not statuses or "Running" in statuses:  # entity instances, Running for good: the extension lists them too
            found += self.host.list_entity_instances(created_from=created_from, created_to=created_to, id_prefix=prefix,
                                                     after=after, limit=top + 1)
        found.sort(key=_page_key)
        if after is not None:
            found = [s for s in found if _page_key(s) > after]
        next_token = ""  # the extension always sends the header; empty (its null token) on the last page
        if len(found) > top:
            found = found[:top]
            next_token = _make_token(_page_key(found[-1]))
        show_input = query.get("showInput", "true").lower() != "false"  # bool.TryParse; the default is true
        return 200, {CONTINUATION_HEADER: next_token}, [status_payload(s, show_input=show_input) for s in found]

    def _raise(self, instance_id: str, event_name: str, headers: Any, body: bytes) -> tuple[int, dict[str, str], Any]:
        try:
            status = self.host.get_status(instance_id)
        except InstanceNotFound:
            return 404, {}, None
        if status.runtime_status in TERMINAL_STATUSES:
            return 410, {}, None
        media = (headers.get("Content-Type") or "").split(";")[0].strip().lower()
        if media != "application/json":
            return 400, {}, {"Message": "Only application/json request content is supported"}
        text = body.decode("utf-8") if body else ""
        try:
            token = json.loads(text) if text.strip() else None
        except ValueError:
            return 400, {}, {"Message": "Invalid JSON content"}
        self.host.raise_event(instance_id, event_name, token)
        return 202, {}, None

    def _terminate(self, instance_id: str, reason: str) -> tuple[int, dict[str, str], Any]:
        try:
            status = self.host.get_status(instance_id)
        except InstanceNotFound:
            return 404, {}, None
        if status.runtime_status in TERMINAL_STATUSES:
            return 410, {}, None
        self.host.terminate(instance_id, reason)
        return 202, {}, None

    def _purge(self, instance_id: str) -> tuple[int, dict[str, str], Any]:
        try:
            status = self.host.get_status(instance_id)
        except InstanceNotFound:
            return 404, {}, None
        if status.runtime_status not in TERMINAL_STATUSES:
            return 412, {}, (f"Only orchestrations in a terminal state can be purged, but the orchestration "
                             f"with instance ID {instance_id} has status {status.runtime_status}")
        self.host.purge(instance_id)
        return 200, {}, {"instancesDeleted": 1}


    def _signal(self, name: str, key: str, query: dict[str, str], body: bytes) -> tuple[int, dict[str, str], Any]:
        operation = query.get("op")
        if not operation:
            return 400, {}, {"Message": "The 'op' query parameter (the operation name) is required."}
        if len(body) > MAX_ENTITY_INPUT:
            return 413, {}, {"Message": f"Operation input over {MAX_ENTITY_INPUT} bytes."}
        input_json = None
        text = body.decode("utf-8", errors="replace") if body else ""
        if text.strip():
            try:
                input_json = _signal_input(text)
            except ValueError:
                return 400, {}, {"Message": "Invalid JSON content"}
        try:
            self.host.signal_entity_json((name, key), operation, input_json)
        except (FunctionNotFound, ValueError) as exc:
            return 400, {}, {"Message": str(exc), "ExceptionMessage": str(exc)}
        return 202, {}, None

    def _entity_state(self, name: str, key: str) -> tuple[int, dict[str, str], Any]:
        try:
            exists, state = self.host.read_entity_state_json((name, key))
        except ValueError as exc:
            return 400, {}, {"Message": str(exc)}
        if not exists:
            return 404, {}, None
        return 200, {}, json.loads(state) if state is not None else None


def _signal_input(text: str) -> str:
    """``_unwrap_json_text(json.loads(text))`` of a signal's body, read with orjson where that gives the same: the SDK
    client posts the operation input as JSON text inside a JSON string, so this is two passes over the whole batch of
    a hot incident's tally signal (~8 KB for 20 joined alerts). orjson's answer is used only when it is a string
    (exact whatever the numbers; orjson reads integers beyond 64 bits as floats), and orjson accepts only JSON the
    json module accepts (not ``NaN``, ``Infinity``, escaped lone surrogates): anything else takes the json path,
    which raises ValueError for what is not JSON."""
    try:
        token = _orjson_loads(text)
    except _OrjsonDecodeError:
        return _unwrap_json_text(json.loads(text))
    if not isinstance(token, str):
        return _unwrap_json_text(json.loads(text))
    try:
        _orjson_loads(token)
    except _OrjsonDecodeError:
        return _unwrap_json_text(token)
    return token


def _unwrap_json_text(token: Any) -> str:
    """Input JSON text from a start body: the SDK client posts JSON text as a JSON string."""
    if isinstance(token, str):
        try:
            json.loads(token)
            return token
        except ValueError:
            pass
    return json.dumps(token)


#: The Durable extension's paging header on ``GET instances/``: read from the request
#: (``request.Headers.TryGetValues("x-ms-continuation-token", ...)``, the first value) and always added to the
#: answer (``response.Headers.Add("x-ms-continuation-token", nextContinuationToken)``, a null token sent as an
#: empty value) — ``HttpApiHandler.HandleGetStatusRequestAsync`` in Azure/azure-functions-durable-extension
#: (v3.x 92fecfc, dev a7c6d69: the same code).
CONTINUATION_HEADER = "x-ms-continuation-token"
#: Instances per page when the request has no ``top``: ``OrchestrationStatusQueryCondition.PageSize`` defaults
#: to 100 (extension v3.x 92fecfc, ``src/WebJobs.Extensions.DurableTask/OrchestrationStatusQueryCondition.cs``).
LIST_PAGE_SIZE = 100
#: The runtime status names the extension parses (``OrchestrationRuntimeStatus``; ``runtimeStatus`` is split on
#: commas and each parsed with ``Enum.TryParse``, case-sensitive).
RUNTIME_STATUS_NAMES = frozenset({"Running", "Completed", "ContinuedAsNew", "Failed", "Canceled", "Terminated",
                                  "Pending", "Suspended"})


def _page_key(status: OrchestrationStatus) -> str:
    """Listing order: instance id, ascending. The Azure Storage backend reads the Instances table, whose rows
    Azure Tables returns in PartitionKey order, and the PartitionKey is the (escaped) instance id
    (Azure/durabletask ``AzureTableTrackingStore.QueryStateAsync``, durabletask.azurestorage-v2.0.1 2795981):
    not creation order. Callers that need an order sort the listing themselves."""
    return status.instance_id


def _make_token(key: str) -> str:
    """An opaque continuation token: base64url of ``[instance_id]`` of the last instance sent."""
    return base64.urlsafe_b64encode(json.dumps([key]).encode("utf-8")).decode("ascii")


def _read_token(token: str) -> str | None:
    """The key :func:`_make_token` encoded, or None for anything else (bounded: at most 4 KiB)."""
    if len(token) > 4096:
        return None
    try:
        key = json.loads(base64.urlsafe_b64decode(token.encode("ascii")))
    except (ValueError, UnicodeError):
        return None
    if isinstance(key, list) and len(key) == 1 and isinstance(key[0], str):
        return key[0]
    return None


def _query_time(value: str | None) -> datetime | None:
    return parse_timestamp(value) if value else None


def _make_handler(server: ManagementServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _serve(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            code, headers, data = server.answer_bytes(self.command, self.path, self.headers, body)
            self.send_response(code)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            for key, value in headers.items():
                self.send_header(key, value)
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_POST = do_DELETE = _serve

        def log_message(self, format: str, *args: Any) -> None:  # quiet
            return

    return Handler


# -- invoking HTTP functions ---------------------------------------------------
class _WorkerLoop:
    """One long-lived event loop thread, like the Python worker's.

    The SDK keeps a module-global aiohttp session (``http_utils``) bound to the
    loop of its first use, so every async function invocation must run on the
    same loop.
    """

    _lock = threading.Lock()
    _loop: asyncio.AbstractEventLoop | None = None

    @classmethod
    def run(cls, coro: Any) -> Any:
        loop = cls._loop
        if loop is None:
            with cls._lock:
                if cls._loop is None:
                    loop = asyncio.new_event_loop()
                    threading.Thread(target=loop.run_forever, name="firestop-functions-worker", daemon=True).start()
                    cls._loop = loop
                    atexit.register(cls._close_session, loop)
                loop = cls._loop
        return run_on(loop, _in_session(coro))

    @staticmethod
    def _close_session(loop: asyncio.AbstractEventLoop) -> None:
        """At exit: close the SDK's shared session on its loop, so aiohttp does not print "Unclosed connector"."""
        from .sdk_http import deferred, module

        if deferred():
            return  # the SDK's HTTP helpers were never loaded: no session to close
        http_utils = module()
        session = getattr(http_utils, "_client_session", None)
        if session is None or session.closed or not loop.is_running():
            return
        try:
            asyncio.run_coroutine_threadsafe(session.close(), loop).result(timeout=2)
        except Exception:  # noqa: BLE001 - best effort at exit
            log.debug("closing the Durable SDK's session at exit failed", exc_info=True)


def run_on(loop: asyncio.AbstractEventLoop, coro: Any) -> Any:
    """``asyncio.run_coroutine_threadsafe(coro, loop).result()`` from a thread other than ``loop``'s, with a lighter
    hand-off: a task created on the loop (in a copy of the caller's context, as there), and a plain lock the caller
    waits on, released by the task's done callback — instead of a ``concurrent.futures.Future`` (a Condition per
    wait) chained to the task by two more callbacks. Every webhook goes through here: ~145 -> ~80 µs of CPU per
    hand-off, caller and loop together (5,000 no-op coroutines, ``time.thread_time`` on both threads, load ~12).

    Returns what ``coro`` returns, raises what it raises; a cancelled task raises
    ``concurrent.futures.CancelledError`` (as ``Future.result``); a task that could not be created raises why.
    Blocks until the coroutine is done, like ``result()`` without a timeout."""
    if not asyncio.iscoroutine(coro):
        raise TypeError("A coroutine object is required")  # as run_coroutine_threadsafe, before any hand-off
    done = threading.Lock()
    done.acquire()
    outcome: list[Any] = []

    def finished(task: "asyncio.Task[Any]") -> None:
        done.release()

    def start() -> None:
        try:
            task = loop.create_task(coro)
        except BaseException as exc:  # noqa: BLE001 - handed to the caller, who raises it
            coro.close()
            outcome.append(exc)
            done.release()
            return
        outcome.append(task)
        task.add_done_callback(finished)

    loop.call_soon_threadsafe(start)
    done.acquire()
    task = outcome[0]
    if isinstance(task, BaseException):
        raise task
    if task.cancelled():
        raise concurrent.futures.CancelledError()
    return task.result()


async def _in_session(coro: Any) -> Any:
    """Run ``coro`` with the SDK's shared session reaching in-process management servers in memory."""
    await inprocess.ensure_session()
    return await coro


#: (request URL, base URL) -> the request URL on the base's origin: a server's webhooks come in on a few URLs, and
#: splitting both and joining them again was a third of :func:`_rebase` (bounded: cleared past 256 entries).
_rebased: dict[tuple[str, str], str] = {}


def _rebase(request: func.HttpRequest, base_url: str) -> func.HttpRequest:
    """``request`` with its URL's origin replaced by ``base_url``'s (path, query and fragment kept). The new request
    copies the headers (``HttpRequestHeaders`` copies what it is given) and wraps the same read-only params."""
    key = (request.url, base_url)
    url = _rebased.get(key)
    if url is None:
        parts, base = urlsplit(request.url), urlsplit(base_url)
        url = urlunsplit((base.scheme, base.netloc, parts.path, parts.query, parts.fragment))
        if len(_rebased) >= 256:
            _rebased.clear()
        _rebased[key] = url
    return func.HttpRequest(request.method, url, headers=request.headers, params=request.params,
                            route_params=request.route_params, body=request.get_body())


def invoke_http_function(app: Any, name: str, request: func.HttpRequest, *,
                         server: ManagementServer | None = None,
                         client_binding_json: str | None = None) -> Any:
    """Call the HTTP-triggered function ``name`` of ``app`` with ``request``.

    The trigger parameter gets ``request``; a ``durableClient`` binding gets
    the client binding JSON of ``server`` (or ``client_binding_json``), which
    the SDK turns into a ``DurableOrchestrationClient``. With ``server``, the
    request URL's origin is replaced by the server's, as if one Functions host
    served both the function and the webhooks (so the links of
    ``create_check_status_response`` point at the server). Async functions run
    on a single shared worker loop. Returns what the function returns
    (normally an ``azure.functions.HttpResponse``). Raises FunctionNotFound.
    """
    entry = index_app(app).function(name)
    binding_json = client_binding_json
    if server is not None:
        binding_json = binding_json or server.client_binding_json()
        request = _rebase(request, server.base_url)
    kwargs: dict[str, Any] = {}
    for binding in entry.function.get_bindings():
        kind = binding.get_binding_name() if hasattr(binding, "get_binding_name") else binding.type
        if kind == HTTP_TRIGGER:
            kwargs[binding.name] = request
        elif kind == DURABLE_CLIENT:
            if binding_json is None:
                raise ValueError(f"function {name!r} has a durable client binding: pass server= or client_binding_json=")
            kwargs[binding.name] = binding_json
    result = entry.fn(**kwargs)
    if asyncio.iscoroutine(result):
        return _WorkerLoop.run(result)
    return result
