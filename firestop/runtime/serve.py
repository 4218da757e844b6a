"""``firestop serve``: the Function App over HTTP on the local durable host — ``func start`` without Core Tools.

:class:`FunctionsServer` does what the Functions host does for ``function_app.py``:

* **HTTP triggers** at ``/{routePrefix}/{route}`` (prefix from ``host.json``,
  default ``api``) with the methods and auth level each declares. ``function``
  and ``admin`` levels need the function key in the ``x-functions-key`` header
  or the ``code`` query parameter, else **401** (empty body, as Azure answers).
  Route templates: literals (case-insensitive), ``{name}``, ``{name?}`` (last
  segment), ``{name:int|long|bool|guid|alpha|double|float|decimal|datetime}``,
  catch-all ``{*name}``. No route or a method the route does not declare →
  404. An exception in a function → 500 (traceback on stderr). A path with
  a dot segment (``/api/incidents/.``, ``%2e``) or a segment that decodes to
  ``/``, ``\\`` or a control character → **400** JSON, before routing.
* **Durable client bindings** get binding JSON whose ``rpcBaseUrl`` is a
  loopback-only :class:`~firestop.runtime.management.ManagementServer` (the
  extension's local RPC endpoint), so the SDK's own
  ``DurableOrchestrationClient`` code runs unchanged; the links
  ``create_check_status_response`` hands out point at this server's public
  ``/runtime/webhooks/durabletask/…`` routes and carry ``code=<system key>``,
  as Azure's carry the Durable extension's system key. Those routes take the
  **system key** only (``x-functions-key`` or ``code``; else 401): a separate
  admin secret (:func:`system_key`), never the function key — the function
  key is what alert senders hold, and these routes start orchestrators, raise
  events, terminate and purge. The in-process client binding does not need
  it: the SDK client talks to the loopback RPC endpoint.
* A **driver thread** runs orchestrations in the background: woken whenever a
  request may have created work (a start, an event, a termination, any HTTP
  function), and otherwise every ``poll_interval`` seconds (work started by
  another process on the same database, e.g. ``firestop alert handle``) and
  when the next durable timer or timer trigger falls due. It calls
  ``host.run_until_idle``; instance leases keep it from running what another
  process is running.
* **Timer triggers** on their NCRONTAB/TimeSpan schedule (``schedule.py``),
  evaluated on the host's clock; ``run_on_startup``; with ``use_monitor``
  (the default unless ``use_monitor=False``) the schedule status is kept in
  the durable database, so an occurrence missed while no server ran fires
  once at start with ``past_due=True``, and two servers on one database fire
  an occurrence once (compare-and-set on the stored next occurrence).
  ``POST /admin/functions/{name}`` (system key required: the master key on Azure; never the function key) runs any timer function now,
  as on the Functions host. Timer functions run on their own worker threads
  (a long one — the weekly tabletop run — never stalls orchestrations), one
  run at a time per function: an occurrence that falls due while the
  previous run is still going runs when it ends.

**Time.** The sandbox tenant's clock is virtual. ``realtime_factor`` (wall
seconds per simulated second, the sandbox's own meaning) decides how it flows
while serving: with ``f > 0`` simulated time advances by ``elapsed / f``
(``1.0`` = real time, the default; ``0.1`` = ten times faster) on top of what
simulated work moves it, so durable timers and timer triggers fall due as
wall time passes. With ``0`` it only moves through simulated work (sandbox
latencies, SDK back-off); durable timers then fire only if ``advance_timers``
is set, which jumps the clock to the next timer whenever nothing else is
runnable (instant, like ``alert handle`` — an approval that races a timer
times out at once). With a real (non-virtual) clock neither applies.

**Why the standard library server.** ``http.server`` with a bounded worker
pool (:mod:`firestop.runtime.httpserver`: pool, backlog, read deadlines,
TCP_NODELAY, JSON 4xx for protocol errors) runs requests on worker threads,
as the Python worker runs sync functions on a thread pool: a sync function
that blocks (a runbook waiting on the sandbox's real-time latency) never
stalls other requests, and async functions still all run on the one worker
event loop ``invoke_http_function`` keeps (the SDK's aiohttp session is bound
to it). aiohttp would add a second event loop in front of that one for no
gain. Loopback only by default; it is a development server.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import hmac
import json
import logging
import os
import re
import secrets
import sys
import threading
import time
import traceback
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Callable
from urllib.parse import parse_qs, quote, unquote, urlsplit

import azure.functions as func
from azure.functions.timer import TimerRequest

from firestop.clock import is_virtual
from firestop.telemetry.requests import note
from firestop.trust.peer import is_loopback, stamp_peer

from .functions import DURABLE_CLIENT, HTTP_TRIGGER, index_app
from .httpserver import BoundedHTTPServer, Limits, make_handler
from .management import RPC_PREFIX, WEBHOOK_PREFIX, ManagementServer, client_binding, invoke_http_function
from .schedule import Schedule, parse_schedule
from .store import Store, from_text, to_text
from firestop.private import private_dirs

log = logging.getLogger("firestop.serve")

TIMER_TRIGGER = "timerTrigger"
#: The Functions host calls its ``warmupTrigger`` function when an instance starts, before traffic (Microsoft Learn,
#: "Azure Functions warmup trigger"); :meth:`FunctionsServer.start` does the same once, before it listens.
WARMUP_TRIGGER = "warmupTrigger"
KEY_ENV = "FIRESTOP_FUNCTION_KEY"
KEY_FILE = "function-key"
KEY_HEADER = "x-functions-key"
SYSTEM_KEY_ENV = "FIRESTOP_SYSTEM_KEY"
SYSTEM_KEY_FILE = "system-key"
DEFAULT_PORT = 7071
#: Output bindings the local server can satisfy (the HTTP response).
_HTTP_OUTPUTS = {"http"}


# ---------------------------------------------------------------- function key
def function_key(home: str | os.PathLike[str], env: dict[str, str] | None = None) -> tuple[str, str]:
    """``(key, origin)``: the key from ``FIRESTOP_FUNCTION_KEY``, else the one stored in
    ``home/function-key``, else a new random one stored there (mode 0600).

    ``origin`` is ``"environment"``, ``"stored in <path>"`` or
    ``"generated, stored in <path>"``. Raises ValueError for an empty or
    whitespace-containing key.
    """
    return _stored_key(home, env, KEY_ENV, KEY_FILE)


def system_key(home: str | os.PathLike[str], env: dict[str, str] | None = None) -> tuple[str, str]:
    """``(key, origin)`` of the key the ``/runtime/webhooks/durabletask`` routes take (the Durable
    extension's system key on Azure): ``FIRESTOP_SYSTEM_KEY``, else ``home/system-key``, else a new
    random one stored there (0600) — as :func:`function_key`. Raises ValueError for a bad key."""
    return _stored_key(home, env, SYSTEM_KEY_ENV, SYSTEM_KEY_FILE)


def _stored_key(home: str | os.PathLike[str], env: dict[str, str] | None, env_name: str, file_name: str) -> tuple[str, str]:
    env = os.environ if env is None else env
    value = env.get(env_name)
    if value is not None:
        _check_key(value, env_name)
        return value, "environment"
    path = Path(home) / file_name
    if path.exists():
        value = path.read_text().strip()
        _check_key(value, str(path))
        return value, f"stored in {path}"
    private_dirs(path.parent)
    value = secrets.token_urlsafe(32)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as out:
        out.write(value + "\n")
    return value, f"generated, stored in {path}"


def _check_key(value: str, where: str) -> None:
    if not value or any(c.isspace() for c in value):
        raise ValueError(f"{where}: the function key must be non-empty and contain no whitespace")


# ---------------------------------------------------------------- routes
_CONSTRAINTS = {
    "int": r"-?\d+", "long": r"-?\d+", "bool": r"(?:true|false)", "alpha": r"[A-Za-z]+",
    "guid": r"\{?[0-9A-Fa-f]{8}-?[0-9A-Fa-f]{4}-?[0-9A-Fa-f]{4}-?[0-9A-Fa-f]{4}-?[0-9A-Fa-f]{12}\}?",
    "double": r"-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?", "float": r"-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?",
    "decimal": r"-?\d+(?:\.\d+)?", "datetime": r"[^/]+",
}
_PARAM = re.compile(r"\{(?P<star>\*{1,2})?(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?::(?P<constraint>[^}?=]+))?"
                    r"(?P<optional>\?)?(?:=(?P<default>[^}]*))?\}")


@dataclass(frozen=True)
class HttpRoute:
    """One HTTP-triggered function: ``methods`` None = any; ``auth_level`` anonymous|function|admin."""

    function: str
    template: str
    methods: frozenset[str] | None
    auth_level: str
    pattern: re.Pattern[str]
    params: tuple[str, ...]
    literal_segments: int
    catch_all: bool

    def match(self, path: str) -> dict[str, str] | None:
        """Route values (percent-decoded) if ``path`` (after the prefix, no leading '/') matches."""
        found = self.pattern.fullmatch(path)
        if found is None:
            return None
        return {k: unquote(v) for k, v in found.groupdict().items() if v is not None}


def compile_route(function: str, template: str, methods: frozenset[str] | None, auth_level: str) -> HttpRoute:
    """Compile an Azure Functions route template (see the module docstring). Raises ValueError."""
    template = template.strip("/")
    segments = template.split("/") if template else []
    regex, params, literals, catch_all = "", [], 0, False
    for index, segment in enumerate(segments):
        last = index == len(segments) - 1
        sep = "/" if index else ""
        pieces, pos, optional = [], 0, False
        for found in _PARAM.finditer(segment):
            pieces.append(re.escape(segment[pos:found.start()]))
            name = found["name"]
            params.append(name)
            if found["star"]:
                if not last or found.start() != 0 or found.end() != len(segment):
                    raise ValueError(f"route {template!r}: a catch-all parameter must be the whole last segment")
                catch_all = True
                pieces.append(f"(?P<{name}>.*)")
                optional = True
            else:
                constraint = (found["constraint"] or "").split("(")[0].strip().lower()
                body = _CONSTRAINTS.get(constraint, r"[^/]+")
                pieces.append(f"(?P<{name}>{body})")
                if found["optional"] or found["default"] is not None:
                    if not last or found.start() != 0 or found.end() != len(segment):
                        raise ValueError(f"route {template!r}: only a whole last segment may be optional")
                    optional = True
            pos = found.end()
        pieces.append(re.escape(segment[pos:]))
        piece = "".join(pieces)
        if pos == 0:
            literals += 1
        regex += f"(?:{sep}{piece})?" if optional else sep + piece
    return HttpRoute(function, template, methods, auth_level, re.compile(regex, re.IGNORECASE),
                     tuple(params), literals, catch_all)


def http_routes(app: Any) -> list[HttpRoute]:
    """The app's HTTP-triggered functions, most specific route first."""
    routes = []
    for entry in index_app(app).others.values():
        if entry.kind != HTTP_TRIGGER:
            continue
        trigger = entry.function.get_trigger()
        methods = getattr(trigger, "methods", None)
        level = getattr(trigger, "auth_level", None)
        routes.append(compile_route(
            entry.name,
            getattr(trigger, "route", None) or entry.name,
            frozenset(str(getattr(m, "value", m)).upper() for m in methods) if methods else None,
            str(getattr(level, "value", level) or "function").lower(),
        ))
    routes.sort(key=lambda r: (r.catch_all, -r.literal_segments, len(r.params), r.template))
    return routes


# ---------------------------------------------------------------- timer triggers
@dataclass(frozen=True)
class TimerFunction:
    function: str
    schedule: Schedule
    parameter: str
    run_on_startup: bool
    use_monitor: bool


def timer_functions(app: Any) -> list[TimerFunction]:
    """The app's timer-triggered functions. Raises ValueError for a bad schedule (naming the function)."""
    out = []
    for entry in index_app(app).others.values():
        if entry.kind != TIMER_TRIGGER:
            continue
        trigger = entry.function.get_trigger()
        try:
            schedule = parse_schedule(getattr(trigger, "schedule", "") or "")
        except ValueError as exc:
            raise ValueError(f"timer function {entry.name!r}: {exc}") from None
        use_monitor = getattr(trigger, "use_monitor", None)
        out.append(TimerFunction(entry.name, schedule, entry.parameter, bool(getattr(trigger, "run_on_startup", False)),
                                 True if use_monitor is None else bool(use_monitor)))
    return out


# ---------------------------------------------------------------- the clock
class Pacer:
    """Lets a virtual clock flow with wall time while serving.

    ``factor``: wall seconds per simulated second (> 0), or 0 for "never".
    Simulated time is kept at least ``start + wall elapsed / factor``
    (:meth:`sync` moves the clock forward to that, never back). Simulated work
    that runs ahead of it — sandbox latencies, which ``firestop serve`` has
    the sandbox really sleep at the same factor, or a timer jump — is not
    added a second time: the projection catches up with the clock instead.
    A real clock is left alone.
    """

    def __init__(self, clock: Any, factor: float, wall: Callable[[], float] = time.monotonic) -> None:
        if not factor >= 0 or factor == float("inf"):
            raise ValueError(f"realtime factor must be a finite number >= 0, got {factor!r}")
        self.clock = clock
        self.factor = float(factor)
        self.virtual = is_virtual(clock)
        self._wall = wall
        self._lock = threading.Lock()
        self._start = (wall(), clock.now())

    @property
    def flows(self) -> bool:
        """True if time passes by itself (a real clock, or a virtual one with factor > 0)."""
        return not self.virtual or self.factor > 0

    def _projection(self) -> datetime:
        wall0, virtual0 = self._start
        return virtual0 + timedelta(seconds=(self._wall() - wall0) / self.factor)

    def projected_now(self) -> datetime:
        """What the clock reads after :meth:`sync`, without moving it."""
        now = self.clock.now()
        if not self.virtual or self.factor == 0:
            return now
        return max(now, self._projection())

    def sync(self) -> None:
        """Advance a virtual clock to the projection if it is behind (no-op for a real clock or factor 0)."""
        if not self.virtual or self.factor == 0:
            return
        with self._lock:
            behind = self._projection() - self.clock.now()
            if behind > timedelta(milliseconds=1):
                self.clock.advance(behind.total_seconds())

    def wall_seconds_until(self, when: datetime) -> float | None:
        """Wall seconds until the clock reaches ``when`` (0 if it has), or None if it never will by itself."""
        now = self.clock.now()
        if now >= when:
            return 0.0
        if not self.virtual:
            return (when - now).total_seconds()
        if self.factor == 0:
            return None
        return max(0.0, (when - self._projection()).total_seconds() * self.factor)


# ---------------------------------------------------------------- the driver
class Driver:
    """Background orchestration driver and timer-trigger scheduler (one thread).

    :meth:`step` does one round (usable without the thread, e.g. in tests):
    fire due timer triggers, then ``run_until_idle`` if anything is runnable
    or a durable timer is due. Returns the wall seconds until something falls
    due (capped by ``poll_interval``).
    """

    def __init__(self, server: "FunctionsServer", *, poll_interval: float, advance_timers: bool) -> None:
        self.server = server
        self.host = server.host
        self.pacer = server.pacer
        self.poll_interval = poll_interval
        self.advance_timers = advance_timers
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._timers_started = False
        self.errors = 0

    def wake(self) -> None:
        self._wake.set()

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="firestop-driver", daemon=True)
        self._thread.start()

    def stop(self, timeout: float | None = None) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    def _run(self) -> None:
        while not self._stop.is_set():
            wait = self.step()
            self._wake.wait(wait)
            self._wake.clear()

    def step(self) -> float:
        try:
            if not self._timers_started:
                self._timers_started = True
                self.server._start_timers()
            self.server._fire_due_timers()
            if self._runnable():
                self.pacer.sync()
                self.host.run_until_idle(advance_timers=self.advance_timers)
            return self._next_wait()
        except Exception:  # noqa: BLE001 - keep serving; the next round retries
            self.errors += 1
            log.exception("driver round failed")
            traceback.print_exc(file=sys.stderr)
            return self.poll_interval

    def _runnable(self) -> bool:
        if self.host.has_runnable_work():
            return True
        due = self.host.next_timer_due()
        if due is None:
            return False
        if self.advance_timers and self.pacer.virtual:
            return True
        return due <= self.pacer.projected_now()

    def _next_wait(self) -> float:
        """Wall seconds until the next durable timer or timer trigger, at most ``poll_interval``.

        Something already due was just run, or cannot run here yet (another
        process holds its instance, the timer function is still running):
        that is looked at again after ``poll_interval``, not in a busy loop.
        """
        wait = self.poll_interval
        for due in (self.host.next_timer_due(), self.server._next_timer_trigger()):
            if due is not None:
                seconds = self.pacer.wall_seconds_until(due)
                if seconds is not None and seconds > 0:
                    wait = min(wait, seconds)
        return wait


# ---------------------------------------------------------------- the server
@dataclass
class Response:
    status: int
    headers: dict[str, str]
    body: bytes


def _json_response(status: int, payload: Any, headers: dict[str, str] | None = None) -> Response:
    body = b"" if payload is None else json.dumps(payload).encode()
    return Response(status, {"Content-Type": "application/json; charset=utf-8", **(headers or {})}, body)


#: App Service authentication's principal header (firestop.trust.HEADER), lower-cased for lookups.
PRINCIPAL_HEADER_LOWER = "x-ms-client-principal"


class FunctionsServer:
    """Serve ``app``'s functions with ``host`` (a LocalDurableHost) — see the module docstring.

    ``address``/``port``: where to listen (``port=0`` picks a free port; see
    :attr:`base_url`). ``function_key``: the key FUNCTION/ADMIN routes require;
    ``system_key``: the key the durable webhooks require (default: a random one
    nobody holds). ``route_prefix``: ``host.json``'s
    ``extensions.http.routePrefix``. ``realtime_factor``, ``advance_timers``:
    how simulated time flows (module docstring). ``poll_interval``: seconds
    between driver rounds when nothing wakes it. Start with :meth:`start` or
    as a context manager; :meth:`stop` ends the server and the driver (the
    host stays open: close it yourself). ``limits``: worker pool, backlog, read timeouts and body
    size of the HTTP layer (:class:`~firestop.runtime.httpserver.Limits`). Raises OSError if the port is taken.
    """

    def __init__(self, app: Any, host: Any, *, function_key: str, system_key: str | None = None,
                 address: str = "127.0.0.1",
                 port: int = DEFAULT_PORT, route_prefix: str = "api", realtime_factor: float = 1.0,
                 advance_timers: bool = False, poll_interval: float = 0.5,
                 task_hub: str = "FirestopLocal", connection: str = "Storage", limits: Limits | None = None,
                 authenticator: Any = None) -> None:
        _check_key(function_key, "function_key")
        if system_key is None:
            system_key = secrets.token_urlsafe(32)  # nobody holds it: the durable webhooks stay shut
        _check_key(system_key, "system_key")
        if hmac.compare_digest(system_key.encode(), function_key.encode()):
            raise ValueError("system_key: must differ from the function key (it opens the durable webhooks)")
        self.system_key = system_key
        if poll_interval <= 0:
            raise ValueError("poll_interval must be > 0 seconds")
        self.app = app
        self.host = host
        #: App Service authentication's stand-in (:class:`firestop.trust.bearer.BearerAuthenticator`), or None:
        #: then a client's principal header reaches the functions (believed from loopback peers only).
        self.authenticator = authenticator
        self.function_key = function_key
        self.route_prefix = route_prefix.strip("/")
        self.routes = http_routes(app)
        # (method, path below the prefix) -> (route, its values) or None: the first route that takes it. Routes are
        # fixed once built, so a path resolves the same every time; bounded (cleared when full).
        self._resolved: dict[tuple[str, str], tuple[HttpRoute, dict[str, str]] | None] = {}
        self.timers = timer_functions(app)
        self._timer_by_name = {t.function: t for t in self.timers}
        self._local_next: dict[str, datetime | None] = {}
        self.pacer = Pacer(host.clock, realtime_factor)
        self.driver = Driver(self, poll_interval=poll_interval, advance_timers=advance_timers)
        self._httpd = BoundedHTTPServer((address, port), make_handler(self.answer, precheck=self.precheck), limits)  # OSError if taken
        self.rpc = ManagementServer(host, address="127.0.0.1", port=0, task_hub=task_hub, connection=connection,
                                    on_change=self.driver.wake, path_secret=secrets.token_urlsafe(24))
        self._rpc_lock = threading.Lock()
        self._binding_json: str | None = None
        self._timer_pool = concurrent.futures.ThreadPoolExecutor(max_workers=max(1, len(self.timers)),
                                                                 thread_name_prefix="firestop-timer")
        self._timer_runs: dict[str, concurrent.futures.Future] = {}
        self._timer_lock = threading.Lock()
        self._timer_store: Store | None = Store(host.db_path) if self.timers else None
        self._thread: threading.Thread | None = None
        self._warmed = False

    # -- lifecycle ----------------------------------------------------------
    @property
    def base_url(self) -> str:
        address, port = self._httpd.server_address[:2]
        return f"http://{address}:{port}"

    def url_for(self, route: HttpRoute) -> str:
        prefix = f"/{self.route_prefix}" if self.route_prefix else ""
        return f"{self.base_url}{prefix}/{route.template}"

    def start(self) -> "FunctionsServer":
        if self._thread is None:
            self._warm_up()
            with self._rpc_lock:
                self.rpc.start()
            self._thread = threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.1},
                                            name="firestop-serve-http", daemon=True)
            self._thread.start()
            self.driver.start()
        return self

    def _warm_up(self) -> None:
        """Call the app's ``warmupTrigger`` functions (the trigger gets a ``WarmUpContext``), once, before listening:
        the first requests then find what they load lazily already loaded. A failing one is logged, never fatal."""
        if self._warmed:
            return
        self._warmed = True
        from azure.functions.warmup import WarmUpContext

        for entry in index_app(self.app).others.values():
            if entry.kind != WARMUP_TRIGGER:
                continue
            try:
                invoke_function(self.app, entry.name, WarmUpContext())
            except Exception:  # noqa: BLE001 - an optimisation: the functions still load everything lazily
                log.exception("warmup function %s failed", entry.name)

    def stop(self, driver_grace: float = 10.0) -> None:
        """Stop accepting requests, then stop the driver and let running timer functions end
        (waiting up to ``driver_grace`` s for each), then close the RPC endpoint."""
        if self._thread is not None:
            self._httpd.shutdown()
            self._thread.join()
            self._thread = None
        self._httpd.server_close()
        self.driver.stop(driver_grace)
        self.drain_timers(driver_grace)
        self._timer_pool.shutdown(wait=False, cancel_futures=True)
        with self._rpc_lock:
            self.rpc.stop()
            self._binding_json = None
        if self._timer_store is not None:
            self._timer_store.close()
            self._timer_store = None

    def __enter__(self) -> "FunctionsServer":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def client_binding_json(self) -> str:
        """The durableClient binding JSON functions get (public links with the key, loopback RPC).

        Starts the loopback RPC server if it is not running yet (a function may
        run before :meth:`start`, e.g. a timer through ``driver.step()``).
        """
        binding = self._binding_json
        if binding is None:  # the same for every invocation (fixed ports, keys and hub): built once
            with self._rpc_lock:
                self.rpc.start()
                binding = self._binding_json = json.dumps(client_binding(
                    self.base_url, task_hub=self.rpc.task_hub, connection=self.rpc.connection,
                    rpc_base_url=self.rpc.rpc_url, extra_query=self._key_query()))
        return binding

    def _key_query(self) -> str:
        """The query durable webhook links carry: the system key, as Azure's do."""
        return f"code={quote(self.system_key, safe='')}"

    # -- requests -----------------------------------------------------------
    def origin_of(self, headers: Any) -> str:
        """The origin links in answers use: ``http://<Host header>`` only when the Host names a loopback address
        (``localhost``, 127.0.0.0/8, ``::1``) or this server's bind address, on this server's port — the origin
        the client called — else :attr:`base_url`. A ``Host: evil.example`` never becomes a link."""
        host = (headers.get("Host") or "").strip()
        if not host or not _HOST_HEADER.fullmatch(host):
            return self.base_url
        try:
            named = urlsplit(f"//{host}")
            name, port = (named.hostname or "").lower(), named.port
        except ValueError:
            return self.base_url
        address, own_port = self._httpd.server_address[:2]
        if port != own_port or not (name == "localhost" or name == str(address).lower() or is_loopback(name)):
            return self.base_url
        return f"http://{host}"

    def authorized(self, headers: Any, query: dict[str, list[str]], *, system: bool = False) -> bool:
        """Does the request carry the function key (``system``: the system key) in the header or ``code``?"""
        offered = headers.get(KEY_HEADER) or (query.get("code") or [None])[-1]
        expected = self.system_key if system else self.function_key
        return bool(offered) and hmac.compare_digest(str(offered).encode(), expected.encode())

    def answer(self, method: str, raw_path: str, headers: Any, body: bytes,
               peer: str | None = None) -> tuple[int, dict[str, str], bytes]:
        """:meth:`handle` as the HTTP layer wants it (``(status, headers, body)``); never raises."""
        try:
            response = self.handle(method, raw_path, headers, body, peer=peer)
        except Exception:  # noqa: BLE001 - like the Functions host: log it, answer 500
            log.exception("request %r %r failed", method, raw_path)
            response = Response(500, {}, b"")
        return response.status, response.headers, response.body

    def precheck(self, method: str, raw_path: str, headers: Any,
                 peer: str | None = None) -> tuple[int, dict[str, str], bytes] | None:
        """The answer to a request that needs no body — a bad path (400), an unknown route or a method the route does
        not take (404, as the Functions host), a missing or wrong key (401), a non-POST admin call (405) — or None
        when the request goes on. The HTTP layer calls it before reading the body
        (:func:`~firestop.runtime.httpserver.make_handler`), so a caller without a key cannot hold a worker by
        announcing a body it never sends."""
        target = self._resolve(method, raw_path, headers)
        if isinstance(target, Response):
            return target.status, target.headers, target.body
        return None

    def _resolve(self, method: str, raw_path: str, headers: Any) -> Any:
        """A :class:`Response` (the request is answered without its body), else ``(kind, value)``: ``("webhook",
        None)``, ``("admin", function name)`` or ``("route", (route, route values))``."""
        try:
            parts = urlsplit(raw_path)
        except ValueError:  # "http://[/api/…": an unclosed IPv6 bracket in an absolute-form target (red team 2)
            parts = None
        path = parts.path if parts is not None else ""
        problem = path_problem(path) if path.startswith("/") else "the request target is not an absolute path"
        if problem is not None:
            return _json_response(400, {"error": "path", "reason": problem,
                                        "fix": "request the resource by its plain path, without '.'/'..' segments or "
                                               "percent-encoded '/', '\\' or control characters", "status": 400})
        query = parse_qs(parts.query, keep_blank_values=True)
        if path.startswith(WEBHOOK_PREFIX + "/") or path == WEBHOOK_PREFIX:
            if not self.authorized(headers, query, system=True):  # never the function key
                return Response(401, {}, b"")
            note(caller="system-key", route="durable-webhook")
            return ("webhook", None)
        if path.startswith(RPC_PREFIX + "/"):
            return Response(404, {}, b"")  # the RPC endpoint is loopback-only, on its own port
        admin = re.fullmatch(r"/admin/functions/([^/]+)", path)
        if admin:  # the admin API takes the master key on Azure, never a function key: here the system key
            if not self.authorized(headers, query, system=True):
                return Response(401, {}, b"")
            if method != "POST":
                return Response(405, {"Allow": "POST"}, b"")
            note(caller="system-key", route="admin")
            return ("admin", unquote(admin.group(1)))
        prefix = f"/{self.route_prefix}/" if self.route_prefix else "/"
        if path.rstrip("/") + "/" == prefix or not path.startswith(prefix):
            return Response(404, {}, b"")
        relative = path[len(prefix):].strip("/")
        found = self._route_for(method, relative)
        if found is not None:
            route, values = found
            # ANONYMOUS routes of this app are the people's (the API, the console): on Azure App Service
            # authentication stands in front of them. Here, without its stand-in (--auth-jwks), the principal
            # header is believed from loopback peers, so a request that claims an identity must also hold the
            # function key (0600 under FIRESTOP_HOME): any local process could claim an approver otherwise.
            claims_identity = any(str(k).lower() == PRINCIPAL_HEADER_LOWER for k in headers.keys())
            needs_key = route.auth_level != "anonymous" or (self.authenticator is None and claims_identity)
            note(route=route.function)
            if needs_key and not self.authorized(headers, query):
                if route.auth_level == "anonymous":  # a person's route: say why (the Functions host's own 401s stay bare)
                    return _json_response(401, {
                        "error": "x-functions-key",
                        "reason": "X-MS-CLIENT-PRINCIPAL is believed only with the function key: without App Service "
                                  "authentication, any local process could otherwise claim an approver's identity",
                        "fix": "send the function key too (header x-functions-key: the key serve printed, kept in "
                               "FIRESTOP_HOME/function-key), from a loopback address; or run serve --auth-jwks and send a bearer token"})
                return Response(401, {}, b"")
            if needs_key:
                note(caller="function-key")  # a principal the function's trust gate believes replaces it
            return ("route", (route, values))
        return Response(404, {}, b"")

    def _route_for(self, method: str, relative: str) -> tuple[HttpRoute, dict[str, str]] | None:
        """The first route taking ``method`` on ``relative`` and its values (remembered: every request of a storm
        resolves its path twice, precheck and handle, against every route), else None."""
        key = (method, relative)
        try:
            hit = self._resolved[key]
            return None if hit is None else (hit[0], dict(hit[1]))  # the caller's own copy of the values
        except KeyError:
            pass
        found = None
        for route in self.routes:
            values = route.match(relative)
            if values is not None and (route.methods is None or method in route.methods):
                found = (route, values)
                break
        if len(relative) <= 256:  # ids of the paths that repeat are short; a long one is not worth keeping
            if len(self._resolved) >= 1024:
                self._resolved.clear()
            self._resolved[key] = found
        return None if found is None else (found[0], dict(found[1]))

    def handle(self, method: str, raw_path: str, headers: Any, body: bytes, peer: str | None = None) -> Response:
        """Answer one request (called on server threads). ``peer``: the connection's remote address, stamped on
        the request for the trust layer (:mod:`firestop.trust.peer`); None = unknown (the function treats it as remote). A path with a dot segment or an encoded
        separator/control character is a 400 (:func:`path_problem`); what needs no body is :meth:`precheck`'s."""
        target = self._resolve(method, raw_path, headers)
        if isinstance(target, Response):
            return target
        kind, value = target
        if kind == "webhook":
            self.pacer.sync()
            code, out_headers, payload = self.rpc.handle(method, raw_path, headers, body,
                                                         base_url=self.origin_of(headers),
                                                         extra_query=self._key_query())
            return _json_response(code, payload, out_headers)
        if kind == "admin":
            return self._run_admin(method, value)
        route, values = value
        return self._invoke(route, method, urlsplit(raw_path), headers, body, values, peer)

    def _invoke(self, route: HttpRoute, method: str, parts: Any, headers: Any, body: bytes,
                values: dict[str, str], peer: str | None = None) -> Response:
        self.pacer.sync()
        params = {k: v[-1] for k, v in parse_qs(parts.query, keep_blank_values=True).items()}
        url = f"{self.origin_of(headers)}{parts.path}" + (f"?{parts.query}" if parts.query else "")
        sent = dict(headers.items())
        if self.authenticator is not None:  # as App Service authentication: the principal only from a valid token
            from firestop.trust.principal import PrincipalError

            try:
                sent = self.authenticator.authenticate(sent)
            except PrincipalError as exc:
                return _json_response(exc.status, {"error": "Authorization", "reason": exc.reason,
                                                   "fix": "sign in again (az login) and retry"}, {"WWW-Authenticate": "Bearer"})
        request = func.HttpRequest(method=method, url=url, headers=stamp_peer(sent, peer), params=params,
                                   route_params=values, body=body)
        try:
            result = invoke_http_function(self.app, route.function, request,
                                          client_binding_json=self.client_binding_json())
        except Exception:  # noqa: BLE001 - the Functions host answers 500 and logs
            log.exception("function %s failed", route.function)
            traceback.print_exc(file=sys.stderr)
            return Response(500, {}, b"")
        finally:
            self.driver.wake()
        return _to_response(result, route.function)

    def _run_admin(self, method: str, name: str) -> Response:
        timer = self._timer_by_name.get(name)
        if method != "POST":
            return Response(405, {"Allow": "POST"}, b"")
        if timer is None:
            return Response(404, {}, b"")
        self.pacer.sync()
        if not self._invoke_timer(timer, past_due=False):
            return _json_response(409, {"error": f"{name} is still running"})
        return Response(202, {}, b"")

    # -- timer triggers (called by the driver) --------------------------------
    def _start_timers(self) -> None:
        store = self._timer_store
        now = self.host.clock.now()
        for timer in self.timers:
            due = False
            if timer.use_monitor and store is not None:
                status = store.timer_status(timer.function)
                first = timer.schedule.next_after(now)
                if status is None:
                    if first is not None:
                        store.init_timer(timer.function, to_text(first), to_text(now))
                elif from_text(status["next"]) <= now:
                    due = True  # missed while no server ran: fire once, past due
            if due:
                self._fire(timer, now, past_due=True)
            elif timer.run_on_startup:
                self._invoke_timer(timer, past_due=False)
        self._local_next.update({t.function: t.schedule.next_after(now) for t in self.timers if not t.use_monitor})

    def _fire_due_timers(self) -> None:
        if not self.timers:
            return
        now = self.pacer.projected_now()
        for timer in self.timers:
            due = self._due_of(timer)
            if due is not None and due <= now:
                self.pacer.sync()
                self._fire(timer, self.host.clock.now(), past_due=False)

    def _due_of(self, timer: TimerFunction) -> datetime | None:
        if timer.use_monitor and self._timer_store is not None:
            status = self._timer_store.timer_status(timer.function)
            return from_text(status["next"]) if status else None
        return self._local_next.get(timer.function)

    def _next_timer_trigger(self) -> datetime | None:
        dues = [d for d in (self._due_of(t) for t in self.timers) if d is not None]
        return min(dues) if dues else None

    def _fire(self, timer: TimerFunction, now: datetime, *, past_due: bool) -> None:
        """Claim the occurrence (once across servers on this database), then run the function.

        While an earlier run of the function is still going, the occurrence is
        left unclaimed: it runs once that run ends (one at a time, as on Azure).
        """
        if self._busy(timer):
            return
        upcoming = timer.schedule.next_after(now)
        if timer.use_monitor and self._timer_store is not None:
            status = self._timer_store.timer_status(timer.function)
            if status is None or upcoming is None:
                return
            if not self._timer_store.claim_timer(timer.function, status["next"], status["next"],
                                                 to_text(upcoming), to_text(now)):
                return  # another server fired this occurrence
            schedule_status = {"Last": status["next"], "Next": to_text(upcoming), "LastUpdated": to_text(now)}
        else:
            self._local_next[timer.function] = upcoming
            schedule_status = {"Next": to_text(upcoming) if upcoming else None, "LastUpdated": to_text(now)}
        self._invoke_timer(timer, past_due=past_due, schedule_status=schedule_status)

    def _busy(self, timer: TimerFunction) -> bool:
        with self._timer_lock:
            run = self._timer_runs.get(timer.function)
            return run is not None and not run.done()

    def _invoke_timer(self, timer: TimerFunction, *, past_due: bool, schedule_status: dict | None = None) -> bool:
        """Start the function on a timer worker thread; False if it is still running from before."""
        with self._timer_lock:
            running = self._timer_runs.get(timer.function)
            if running is not None and not running.done():
                return False
            self._timer_runs[timer.function] = self._timer_pool.submit(
                self._run_timer, timer, past_due, schedule_status or {})
        return True

    def _run_timer(self, timer: TimerFunction, past_due: bool, schedule_status: dict) -> None:
        try:
            request = TimerRequest(past_due=past_due, schedule_status=schedule_status, schedule={"AdjustForDST": True})
            invoke_function(self.app, timer.function, request, client_binding_json=self.client_binding_json())
        except Exception:  # noqa: BLE001 - like the Functions host: log, keep the schedule
            log.exception("timer function %s failed", timer.function)
            traceback.print_exc(file=sys.stderr)
        finally:
            self.driver.wake()  # it may have started orchestrations

    def drain_timers(self, timeout: float | None = None) -> None:
        """Wait until no timer function is running (``timeout`` seconds at most)."""
        with self._timer_lock:
            runs = list(self._timer_runs.values())
        concurrent.futures.wait(runs, timeout=timeout)


def invoke_function(app: Any, name: str, trigger_value: Any, *, client_binding_json: str | None = None) -> Any:
    """Call a non-HTTP function: its trigger parameter gets ``trigger_value``, a durable
    client binding ``client_binding_json``. Async functions run on the worker loop.
    Raises FunctionNotFound, ValueError for bindings the local server cannot provide."""
    from .management import _WorkerLoop

    entry = index_app(app).function(name)
    kwargs: dict[str, Any] = {}
    for binding in entry.function.get_bindings():
        kind = binding.get_binding_name() if hasattr(binding, "get_binding_name") else binding.type
        if binding.name == entry.parameter and kind == entry.kind:
            kwargs[binding.name] = trigger_value
        elif kind == DURABLE_CLIENT:
            kwargs[binding.name] = client_binding_json
        elif binding.name != "$return":
            raise ValueError(f"function {name!r}: the local server cannot provide its {kind!r} binding {binding.name!r}")
    result = entry.fn(**kwargs)
    if asyncio.iscoroutine(result):
        return _WorkerLoop.run(result)
    return result


def unsupported_bindings(app: Any) -> dict[str, list[str]]:
    """HTTP/timer functions whose other bindings the local server cannot provide: name → binding types."""
    out: dict[str, list[str]] = {}
    for entry in index_app(app).others.values():
        if entry.kind not in (HTTP_TRIGGER, TIMER_TRIGGER):
            continue
        extra = []
        for binding in entry.function.get_bindings():
            kind = binding.get_binding_name() if hasattr(binding, "get_binding_name") else binding.type
            if kind in (HTTP_TRIGGER, TIMER_TRIGGER, DURABLE_CLIENT) or kind in _HTTP_OUTPUTS:
                continue
            extra.append(kind)
        if extra:
            out[entry.name] = extra
    return out


def _to_response(result: Any, name: str) -> Response:
    if isinstance(result, func.HttpResponse):
        headers = {k: v for k, v in result.headers.items()}
        if not any(k.lower() == "content-type" for k in headers) and result.mimetype:
            charset = f"; charset={result.charset}" if result.charset else ""
            headers["Content-Type"] = f"{result.mimetype}{charset}"
        return Response(result.status_code, headers, result.get_body() or b"")
    if isinstance(result, (bytes, bytearray)):
        return Response(200, {"Content-Type": "application/octet-stream"}, bytes(result))
    if isinstance(result, str):
        return Response(200, {"Content-Type": "text/plain; charset=utf-8"}, result.encode())
    if result is None:
        return Response(204, {}, b"")
    log.error("function %s returned %s, not an HttpResponse", name, type(result).__name__)
    return Response(500, {}, b"")


_HOST_HEADER = re.compile(r"(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+)(?::\d{1,5})?")
#: Control characters, and the separators a route value may not hide percent-encoded.
_UNSAFE_IN_SEGMENT = re.compile(r"[\x00-\x1f\x7f/\\]")


def path_problem(path: str) -> str | None:
    """Why a request path is refused before routing (None: fine): a dot segment (``.``/``..``, also
    percent-encoded — clients normalise them away, so only a crafted request carries one, and the Durable
    SDK turns ``instances/.`` into the list-everything URL), or a segment that decodes to a control
    character, ``/`` or ``\\`` (it would change which route or instance is meant)."""
    for segment in path.split("/")[1:]:
        decoded = unquote(segment, errors="replace")
        if decoded in (".", ".."):
            return f"the path has a dot segment ({segment!r})"
        if _UNSAFE_IN_SEGMENT.search(decoded):
            return f"the path segment {segment!r} decodes to a control character, '/' or '\\'"
    return None


def read_route_prefix(host_json: str | os.PathLike[str]) -> str:
    """``extensions.http.routePrefix`` of a ``host.json`` (``api`` if absent or unreadable)."""
    try:
        doc = json.loads(Path(host_json).read_text())
    except (OSError, ValueError):
        return "api"
    prefix = ((doc.get("extensions") or {}).get("http") or {}).get("routePrefix")
    return "api" if prefix is None else str(prefix)

