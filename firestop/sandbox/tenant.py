"""The simulated Azure tenant: state + request handling + public accessors.

Usage (see the package docstring for the whole API)::

    tenant = Tenant.load()                  # built-in default tenant, in memory
    tenant = Tenant.open(".firestop/sandbox")   # persisted; shared with other processes
    client = CognitiveServicesManagementClient(tenant.credential, SUB, transport=tenant.transport)

Concurrency: one ``threading.RLock`` guards the state; with a ``state_dir`` an
``fcntl`` file lock (POSIX) serialises processes, and every request first
applies what other instances committed, then appends what it changed to the
journal (:mod:`firestop.sandbox.core.store`: snapshot ``tenant.json`` +
``tenant.journal``; nothing is written when nothing changed).
"""

from __future__ import annotations

import contextlib
import copy
import json
import os
import threading
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Iterable, Iterator, Optional

from .activitylog import events as activity
from .core import faults as F
from .core import lro
from .core.auth import CHECKS
from .core.clock import VirtualClock, format_utc, parse_utc
from .core.credential import SandboxCredential
from .core.errors import error
from .core.rooms import table_routes
from .core.router import RequestContext, Router
from .core.state import TenantState, state_path
from .core.store import Sections, Store, private_mkdir, read_document, remove_stale_temp_files
from .core.transport import SandboxTransport
from .core.wire import SandboxRequest, SandboxResponse
from .seed import DEFAULT_SEED_FILE, build_document, read_seed_file, seed_document

# The rooms' modules the accessors below use (Azure Monitor, Defender, Sentinel, Alerts Management) are imported by
# the accessor that needs them, and routes by the router when a request reaches one (core/rooms.py "Lazy rooms"):
# a tenant opened to answer a few requests imports only what those requests reach.

try:  # POSIX only; elsewhere the sandbox is single-process
    import fcntl
except ImportError:  # pragma: no cover
    fcntl = None  # type: ignore[assignment]

#: Latency (seconds) for an operation missing from the tenant's table.
FALLBACK_LATENCY_S = 0.1


@dataclass(frozen=True)
class RequestLogEntry:
    """One answered request. Never holds bodies, headers or query strings (no secrets).

    ``operation`` is ``None`` for unrouted requests; ``at`` is the simulated
    arrival time (aware UTC).
    """

    method: str
    host: str
    path: str
    api_version: Optional[str]
    operation: Optional[str]
    status: int
    at: datetime

    @classmethod
    def from_dict(cls, d: dict) -> "RequestLogEntry":
        return cls(d["method"], d["host"], d["path"], d.get("api_version"), d.get("operation"), d["status"], parse_utc(d["at"]))


class Tenant:
    """A simulated tenant. Construct with :meth:`load`, :meth:`open` or :meth:`reset`."""

    def __init__(self, document: dict, state_dir: Optional[os.PathLike | str] = None, store: Optional[Store] = None) -> None:
        self._lock = threading.RLock()
        if not isinstance(document, Sections):  # so commits encode only the sections a request looked at
            document = Sections(document)
        self._state = TenantState(document)
        self.clock = VirtualClock(parse_utc(document["clock"]))
        self.credential = SandboxCredential(self._state.tenant_id)
        self.transport = SandboxTransport(self)
        self._router = Router(table_routes())
        self._operations = {r.operation for r in self._router.routes}
        self.state_dir: Optional[Path] = Path(state_dir) if state_dir is not None else None
        #: Persistence of a tenant bound to a state dir (snapshot + journal), else ``None``.
        self._store: Optional[Store] = store if store is not None else (Store(self.state_dir) if self.state_dir else None)
        self._inside = threading.local()  # depth of _exclusive() in this thread
        self.clock.subscribe(self._clock_moved)
        self._realtime_factor = 0.0
        #: The blocking sleep used when ``realtime_factor > 0`` (seconds); replaceable in tests.
        self.wall_sleep = time.sleep

    # ------------------------------------------------------------------ construction
    @classmethod
    def load(cls, path: Optional[os.PathLike | str] = None) -> "Tenant":
        """A fresh in-memory tenant from a YAML/JSON seed file (``None`` = built-in default)."""
        doc = seed_document(path)
        doc["seed_source"] = str(Path(path).resolve()) if path is not None else None
        return cls(doc)

    @classmethod
    def open(cls, state_dir: os.PathLike | str, seed: Optional[os.PathLike | str] = None) -> "Tenant":
        """The persisted tenant in ``state_dir``: loads it, or seeds (``seed`` or default) and saves it."""
        state_dir = Path(state_dir)
        private_mkdir(state_dir)
        with _file_lock(state_dir):
            remove_stale_temp_files(state_dir)
            store = Store(state_dir)
            if store.exists():
                return cls(store.load(), state_dir, store)
            tenant = cls.load(seed)
            tenant._bind(state_dir)
            return tenant

    @classmethod
    def reset(cls, state_dir: os.PathLike | str, seed: Optional[os.PathLike | str] = None) -> "Tenant":
        """Overwrite ``state_dir`` with a fresh seed and return the new tenant.

        ``seed=None`` reuses the seed file the existing state was made from (if it
        still exists), else the built-in default.
        """
        state_dir = Path(state_dir)
        private_mkdir(state_dir)
        with _file_lock(state_dir):
            remove_stale_temp_files(state_dir)
            if seed is None and state_path(state_dir).exists():
                try:
                    source = read_document(state_dir).get("seed_source")
                except (OSError, ValueError):
                    source = None
                if source and Path(source).exists():
                    seed = source
            tenant = cls.load(seed)
            tenant._bind(state_dir)
            return tenant

    # ------------------------------------------------------------------ persistence
    def save(self, state_dir: Optional[os.PathLike | str] = None) -> None:
        """Write the whole state as a snapshot (``tenant.json``, journal reset). A tenant without a state dir becomes bound to ``state_dir``."""
        with self._lock:
            if state_dir is not None and self.state_dir is None:
                with _file_lock(Path(state_dir)):
                    self._bind(Path(state_dir))
                return
            target = Path(state_dir) if state_dir is not None else self.state_dir
            if target is None:
                raise ValueError("this tenant has no state_dir; pass one to save()")
            with _file_lock(target):
                self._state.doc["clock"] = format_utc(self.clock.now())
                if self._store is not None and target.resolve() == self._store.state_dir.resolve():
                    self._store.write_snapshot(self._state.doc)
                else:
                    Store(target).write_snapshot(self._state.doc)

    def _bind(self, state_dir: Path) -> None:
        """Persist to ``state_dir`` from now on, starting with a snapshot (caller holds its file lock)."""
        self.state_dir = Path(state_dir)
        self._store = Store(self.state_dir)
        self._state.doc["clock"] = format_utc(self.clock.now())
        self._store.write_snapshot(self._state.doc)

    def _save_locked(self) -> None:
        """Journal what changed (caller holds the file lock); nothing when nothing did.

        The persisted clock is the later of the shared one (as last read) and ours: the shared
        clock never moves backwards, even while the durable host sets this tenant's clock back to
        give parallel activities a shared start (that set-back stays in this process).
        """
        if self._store is not None:
            self._state.doc["clock"] = format_utc(max(self.clock.now(), parse_utc(self._state.doc["clock"])))
            self._store.commit(self._state.doc)

    def _sync(self) -> None:
        """Apply what other instances/processes committed since we last read or wrote.

        The clock: when another writer moved the shared clock later than ours, ours jumps to it;
        an earlier one is never adopted (another process's stale or slower clock — a CLI run next
        to ``firestop serve``'s wall-paced one — made filed timelines run backwards).
        """
        if self._store is None:
            return
        before = self._state.doc["clock"]
        fresh = self._store.refresh(self._state.doc)
        if fresh is not None:
            self._state = TenantState(fresh)
        theirs = self._state.doc["clock"]
        if theirs != before:
            shared = parse_utc(theirs)
            if shared > self.clock.now():
                self.clock.set(shared)

    @contextlib.contextmanager
    def _exclusive(self) -> Iterator[TenantState]:
        """Thread + process exclusive access to an up-to-date, settled state."""
        with self._lock:
            self._inside.depth = getattr(self._inside, "depth", 0) + 1
            try:
                with _file_lock(self.state_dir) if self.state_dir is not None else contextlib.nullcontext():
                    self._sync()
                    lro.settle(self._state, self.clock.now())
                    activity.release(self._state, self.clock.now())
                    yield self._state
            finally:
                self._inside.depth -= 1

    def _clock_moved(self, now: datetime) -> None:
        """Persist a clock move made outside request handling (e.g. by the durable host)."""
        if self.state_dir is None or getattr(self._inside, "depth", 0):
            return  # in-memory tenant, or the move happens inside a request (saved at its end)
        with self._lock:
            self._inside.depth = getattr(self._inside, "depth", 0) + 1
            try:
                with _file_lock(self.state_dir):
                    self._sync()  # their changes; their clock only if later than our move
                    self._save_locked()
            finally:
                self._inside.depth -= 1

    # ------------------------------------------------------------------ request handling
    def handle(self, request: SandboxRequest) -> SandboxResponse:
        """Answer one request (called by :class:`SandboxTransport`); logs it, advances the clock, saves."""
        with self._exclusive() as state:
            now = self.clock.now()
            route, params = self._router.match(request)
            operation = route.operation if route else None
            latency = FALLBACK_LATENCY_S
            unrouted_reason = None
            if route is None:
                unrouted_reason = "no route"
            else:
                latency = state.latency.get(operation, FALLBACK_LATENCY_S)
                denied = CHECKS[route.service](request, state.tenant_id)
                if denied is not None:
                    response = denied
                    if route.service == "keyvault":
                        latency = state.latency.get("secrets.challenge", FALLBACK_LATENCY_S)
                else:
                    rule, source = F.take(state.doc["faults"]["rules"], route.operation), "scripted"
                    if rule is None:
                        rule, source = F.draw_random(state.doc["faults"], route.operation), "random"
                    if rule is not None:
                        response = F.fault_response(rule)
                        state.doc["faults"]["fired"].append(F.record(rule, now, source))
                    else:
                        ctx = RequestContext(request=request, params=params, state=state, now=now)
                        response = route.handler(ctx)
                        unrouted_reason = ctx.unrouted_reason
                        if ctx.latency_override is not None:
                            latency = ctx.latency_override
            entry = {
                "method": request.method,
                "host": request.host,
                "path": request.path,
                "api_version": request.api_version,
                "operation": operation,
                "status": 0,
                "at": format_utc(now),
            }
            if unrouted_reason is not None:
                latency = 0.0
                entry["operation"] = None
                response = error(
                    501,
                    "NotImplementedInSandbox",
                    f"The Firestop sandbox tenant does not implement {request.method} "
                    f"{request.scheme}://{request.host}{request.path} ({unrouted_reason}).",
                )
            entry["status"] = response.status
            if entry["operation"] is not None:
                activity.record(state, entry["operation"], request, response.status, now)
            state.doc["requests"].append(entry)
            if entry["operation"] is None:
                state.doc["unrouted"].append(dict(entry))
                _journal_unrouted(entry, unrouted_reason)
            if latency:
                self.clock.advance(latency)
            self._save_locked()
        self._real_wait(latency)  # outside the lock: concurrent requests overlap, as on the real service
        return response

    def httpx_transport(self) -> "SandboxHttpxTransport":
        """A new httpx transport answering from this tenant (for msgraph-sdk, which speaks httpx)."""
        from .core.httpx_transport import SandboxHttpxTransport

        return SandboxHttpxTransport(self)

    # ------------------------------------------------------------------ real time (live demos)
    @property
    def realtime_factor(self) -> float:
        """Wall seconds spent per simulated second; ``0`` (default) = never block.

        With a factor ``f > 0`` every simulated wait also really sleeps ``seconds × f``:
        each answered request its latency (after releasing the tenant lock) and
        every ``transport.sleep`` (SDK retry back-off, ``Retry-After``, LRO polling).
        ``1.0`` replays Azure's pace, ``0.1`` ten times faster. The virtual clock
        advances exactly as with ``0``. Set it explicitly (not persisted, not
        read from the environment): ``firestop serve`` paces the same clock from
        wall time with its own ``FIRESTOP_SANDBOX_REALTIME_FACTOR``, and both at
        once would count waits twice.
        """
        return self._realtime_factor

    @realtime_factor.setter
    def realtime_factor(self, factor: float) -> None:
        factor = float(factor)
        if not factor >= 0 or factor == float("inf"):
            raise ValueError(f"realtime_factor must be a finite number >= 0, got {factor!r}")
        self._realtime_factor = factor

    def _real_wait(self, simulated_seconds: float) -> None:
        """Block ``simulated_seconds × realtime_factor`` wall seconds (no-op at factor 0)."""
        if self._realtime_factor > 0 and simulated_seconds and simulated_seconds > 0:
            self.wall_sleep(simulated_seconds * self._realtime_factor)

    # ------------------------------------------------------------------ public accessors
    @property
    def tenant_id(self) -> str:
        """Fake Entra tenant id (GUID text)."""
        return self._state.tenant_id

    @property
    def subscription_id(self) -> str:
        return self._state.subscription_id

    @property
    def latency(self) -> dict[str, float]:
        """Copy of the latency table (operation -> simulated seconds)."""
        with self._lock:
            return dict(self._state.latency)

    @property
    def requests(self) -> list[RequestLogEntry]:
        """Every request answered so far, oldest first (no bodies, no secret values)."""
        with self._exclusive() as state:
            return [RequestLogEntry.from_dict(d) for d in state.doc["requests"]]

    @property
    def unrouted(self) -> list[RequestLogEntry]:
        """Requests no route answered (each got 501)."""
        with self._exclusive() as state:
            return [RequestLogEntry.from_dict(d) for d in state.doc["unrouted"]]

    @property
    def faults(self) -> list[F.FaultRecord]:
        """Injected faults that fired, oldest first."""
        with self._exclusive() as state:
            return [F.FaultRecord.from_dict(d) for d in state.doc["faults"]["fired"]]

    def inject_fault(
        self, operation: str, status: int, nth: int = 1, retry_after: Optional[float] = None, times: int = 1
    ) -> None:
        """Script a fault: calls ``nth``..``nth+times-1`` of ``operation`` (counted from now) answer ``status``."""
        if operation not in self._operations:
            raise ValueError(f"unknown operation {operation!r}; known: {sorted(self._operations)}")
        rule = F.new_rule(operation, status, nth, retry_after, times)
        with self._exclusive() as state:
            state.doc["faults"]["rules"].append(rule)
            self._save_locked()

    def inject_lro_fault(
        self,
        operation: str,
        *,
        seconds: Optional[float] = None,
        outcome: str = "Succeeded",
        code: Optional[str] = None,
        message: Optional[str] = None,
        nth: int = 1,
        times: int = 1,
    ) -> None:
        """Script the outcome of long-running operations started by ``operation``.

        ``operation``: one of ``faults.LRO_OPERATIONS`` (``accounts.update``,
        ``securityRules.createOrUpdate``, ``securityRules.delete``); only calls that
        start an LRO count (a tags-only account PATCH answers 200 and does not).
        ``seconds``: simulated duration of the operation instead of the latency
        model's ``*.lro`` value (a "slow LRO"). ``outcome``: ``Succeeded`` |
        ``Failed`` | ``Canceled`` (ARM RPC terminal states); a failed operation
        changes nothing but ``provisioningState`` and reports ``error{code, message}``
        (``code`` defaults to ``InternalServerError`` / ``OperationCanceled``).
        """
        rule = F.new_lro_rule(operation, seconds, outcome, code, message, nth, times)
        with self._exclusive() as state:
            state.doc["faults"].setdefault("lro_rules", []).append(rule)
            self._save_locked()

    def inject_random_faults(
        self,
        rate: float,
        seed: int = 0,
        statuses: Iterable[int] = (429, 500, 503),
        operations: Optional[Iterable[str]] = None,
        retry_after: Optional[float] = None,
    ) -> None:
        """Answer a seeded-random fraction ``rate`` (0..1) of calls with an error from ``statuses``.

        ``operations``: operation names to affect (``None`` = every routed
        operation, LRO status polls included). ``retry_after``: seconds sent as
        ``Retry-After`` on those answers (``None`` = no header). Reproducible:
        the n-th eligible call draws from ``random.Random(f"{seed}:{n}")``.
        Replaces any earlier random configuration; ``rate=0`` switches it off.
        Scripted faults (:meth:`inject_fault`) take precedence.
        """
        config = F.new_random(rate, seed, statuses, operations, retry_after, self._operations)
        with self._exclusive() as state:
            state.doc["faults"]["random"] = config if config["rate"] > 0 else None
            self._save_locked()

    def clear_faults(self) -> None:
        """Drop every pending scripted rule and the random configuration (fired records stay)."""
        with self._exclusive() as state:
            state.doc["faults"]["rules"] = []
            state.doc["faults"]["lro_rules"] = []
            state.doc["faults"]["random"] = None
            self._save_locked()

    def enforce_role(self, role: "Optional[dict | list[dict]]") -> None:
        """Answer as an identity holding only ``role`` (``az role definition`` JSON, or a list of them, each at its own
        ``AssignableScopes``): requests outside it get 403.

        ``None`` switches enforcement off. Per instance, not persisted; see :mod:`firestop.sandbox.authorization.rbac`.
        """
        from .authorization.rbac import enforce_role

        enforce_role(self, role)

    def resource(self, resource_id: str) -> dict:
        """Deep copy of the ARM JSON for ``resource_id`` (case-insensitive). KeyError if absent."""
        with self._exclusive() as state:
            body = state.resource(resource_id)
            if body is None:
                raise KeyError(resource_id)
            return copy.deepcopy(body)

    def account_keys(self, resource_id: str) -> dict:
        """``{"key1": ..., "key2": ...}`` current values of an account. KeyError if absent."""
        with self._exclusive() as state:
            keys = state.doc["account_keys"].get(resource_id.rstrip("/").lower())
            if keys is None:
                raise KeyError(resource_id)
            return dict(keys)

    # ------------------------------------------------------------------ Azure Monitor (monitor/)
    def data_plane_call(self, *, at: Optional[datetime] = None, **call: object) -> int:
        """Answer one Azure OpenAI data-plane call made at ``at`` (default now) and record its log row and
        metrics (:func:`firestop.sandbox.monitor.traffic.call`: ``account``, ``ip``, ``key`` | ``principal``,
        ``deployment``, ``operation``, ``content_filtered``, ``tag``); returns the HTTP status. Does not move the clock."""
        from .monitor import traffic as monitor_traffic

        with self._exclusive() as state:
            status = monitor_traffic.call(state, at or self.clock.now(), **call)  # type: ignore[arg-type]
            self._save_locked()
        return status

    def evaluate_alerts(self) -> list:
        """Run the alert rules due up to now (:func:`firestop.sandbox.monitor.evaluate.evaluate`) and Defender for AI's
        detector (:func:`firestop.sandbox.security.detector.evaluate`); an alert an enabled ``RemoveAllActionGroups``
        alert processing rule covers (:func:`firestop.sandbox.alertsmanagement.processing.suppressing`) is held by
        Alerts Management (``actionStatus.isSuppressed``) but notifies no webhook (``explain["suppressed_by"]``);
        returns the :class:`~firestop.sandbox.monitor.evaluate.Notification` s to deliver, oldest first."""
        from .alertsmanagement import models as alerts_management
        from .alertsmanagement import processing as alert_processing
        from .monitor import evaluate as monitor_evaluate
        from .security import detector as security_detector

        with self._exclusive() as state:
            now = self.clock.now()
            out = monitor_evaluate.evaluate(state, now) + security_detector.evaluate(state, now)
            for notification in out:  # Azure Monitor holds the alert before its action group sends the webhook
                found = alerts_management.record_fired(state, notification.payload, notification.at)
                if found and notification.webhooks:  # an alert processing rule removing all action groups (RT19-03)
                    suppressed = alert_processing.suppressing(state, notification.payload, notification.at)
                    if suppressed:
                        notification.webhooks = []
                        notification.explain["suppressed_by"] = suppressed
                        alerts_management.section(state)["alerts"][found.lower()]["properties"]["essentials"][
                            "actionStatus"] = {"isSuppressed": True}
            self._save_locked()
        out.sort(key=lambda n: n.at)
        return out

    def fire_alert(self, payload: dict) -> Optional[str]:
        """Register a Common Alert Schema ``payload`` as fired in Azure Monitor (the ``alertsmanagement`` room), as
        Azure does before its action group posts the webhook: ``alert handle`` and tabletop scenarios fire their
        alerts through here. A Defender alert's or Sentinel incident's ``payload_of`` is registered in the ``security``
        / ``sentinel`` room instead (left as it is when already held). Returns the alert id, or None (nothing
        registered). The
        rule the payload names is registered too when the tenant holds none of that id
        (:func:`firestop.sandbox.monitor.models.register_rule_of`: the source check reads the rule's route), and an
        activity log alert's event when the Activity Log holds none of its ``eventDataId``
        (:func:`firestop.sandbox.activitylog.events.record_fired_event`: the source check reads it back, verify13)."""
        from .alertsmanagement import models as alerts_management
        from .monitor import models as monitor_models

        with self._exclusive() as state:
            found = alerts_management.record_fired(state, payload, self.clock.now())
            if found:
                monitor_models.register_rule_of(state, payload, self.clock.now())
                activity.record_fired_event(state, payload)  # an activity log alert's event, as Azure logged it
            else:  # a Defender alert or a Sentinel incident (payload_of's data.source): its service holds it first
                from .security import models as security_models
                from .sentinel import models as sentinel_models

                found = (security_models.record_delivered(state, payload, format_utc(self.clock.now()))
                         or sentinel_models.record_delivered(state, payload, format_utc(self.clock.now())))
            self._save_locked()
        return found

    def pending_deliveries(self) -> list[datetime]:
        """Times after now at which Defender for AI's deliveries (Sentinel incidents, workflow automations) fall due
        (:func:`firestop.sandbox.security.detector.next_due`): a runner moves the clock there."""
        from .security import detector as security_detector

        with self._exclusive() as state:
            return security_detector.next_due(state, self.clock.now())

    def data_plane_log(self) -> list[dict]:
        """``[{at, account, ip, operation, status, tag}]`` of every data-plane call answered (copies)."""
        with self._lock:
            return [dict(e) for e in self._state.doc.get("dataplane", [])]

    def issued_key_values(self) -> set[str]:
        """Every account key value the tenant ever issued (seed + regenerated)."""
        with self._exclusive() as state:
            return set(state.doc["issued_keys"])

    def secret_versions(self, vault_name: str, secret_name: str) -> list[dict]:
        """``[{"version", "value", "created" (epoch s), "enabled"}]`` oldest first. KeyError if absent."""
        with self._exclusive() as state:
            vault = state.doc["vaults"].get(vault_name.lower())
            if vault is None:
                raise KeyError(vault_name)
            secret = vault["secrets"].get(secret_name.lower())
            if secret is None:
                raise KeyError(secret_name)
            return [
                {"version": v["version"], "value": v["value"], "created": v["created"], "enabled": v["enabled"]}
                for v in secret["versions"]
            ]

    def copy(self) -> "Tenant":
        """An in-memory copy of the tenant as it is now (state and clock), to read without touching this one:
        its own request log (empty), no fault armed, no role enforced. Used by tabletop audits."""
        with self._lock:
            doc = json.loads(json.dumps(dict(self._state.doc)))  # the document is JSON (it is persisted as such); faster than deepcopy
        doc["clock"] = format_utc(self.clock.now())
        doc["requests"], doc["unrouted"] = [], []
        doc["faults"] = {"rules": [], "lro_rules": [], "random": None, "fired": []}
        return Tenant(doc)

    def __repr__(self) -> str:
        where = f" state_dir={str(self.state_dir)!r}" if self.state_dir else ""
        return f"<Tenant {self.subscription_id} at {format_utc(self.clock.now())}{where}>"


#: Environment variable naming a file that every unrouted request (any tenant, any
#: process that inherits the environment) is appended to as one JSON line. The
#: test suite's ``tests/conftest.py`` sets it per test and fails tests that hit
#: a route the sandbox does not answer.
UNROUTED_JOURNAL_ENV = "FIRESTOP_SANDBOX_UNROUTED_LOG"


def _journal_unrouted(entry: dict, reason: Optional[str]) -> None:
    """Append ``entry`` (+ ``reason``) to the journal named by :data:`UNROUTED_JOURNAL_ENV`, if set.

    One ``write`` of one line on an ``O_APPEND`` descriptor, so concurrent
    threads and processes do not interleave lines. Never raises into the request.
    """
    target = os.environ.get(UNROUTED_JOURNAL_ENV)
    if not target:
        return
    line = (json.dumps({**entry, "reason": reason}, separators=(",", ":")) + "\n").encode("utf-8")
    try:
        fd = os.open(target, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            os.write(fd, line)
        finally:
            os.close(fd)
    except OSError:  # pragma: no cover - a journal that cannot be written must not break the tenant
        pass


def read_unrouted_journal(path: os.PathLike | str) -> list[dict]:
    """The entries appended to an unrouted journal file (``[]`` if it does not exist).

    Each entry: ``{"method", "host", "path", "api_version", "operation": None,
    "status": 501, "at" (ISO UTC), "reason"}``.
    """
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        return []
    return [json.loads(line) for line in text.splitlines() if line.strip()]


@contextlib.contextmanager
def _file_lock(state_dir: Optional[Path]) -> Iterator[None]:
    """Exclusive inter-process lock on ``state_dir/tenant.lock`` (no-op without fcntl)."""
    if state_dir is None or fcntl is None:
        yield
        return
    # Taken around every request and clock move (164 times in one ``alert handle``): plain ``os`` calls on the
    # descriptor, no Path objects or text file around it (42 -> 6 us a lock+unlock, measured side by side).
    folder = os.fspath(state_dir)
    if not os.path.isdir(folder):
        private_mkdir(Path(folder))  # (re)created 0700, as every lock did
    fd = os.open(os.path.join(folder, "tenant.lock"), os.O_RDWR | os.O_CREAT | os.O_APPEND, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


__all__ = ["Tenant", "RequestLogEntry", "DEFAULT_SEED_FILE", "UNROUTED_JOURNAL_ENV", "read_unrouted_journal"]
