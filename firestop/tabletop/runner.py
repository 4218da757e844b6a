"""Run a tabletop scenario on a fresh in-memory sandbox tenant and the local durable host.

One run::

    FIRESTOP_HOME/tabletop/<run id>/
        durable.sqlite        the exercise's own durable history (never the real incidents' one)
        records/ evidence/ ledger/   what the incidents filed (records carry "exercise": true)
        requests.json         the sandbox request log (no bodies, no secrets)
        scorecard.json, scorecard.md

How simulated time moves: the runner keeps a queue of scheduled happenings —
alerts (``T0 + at``) and each responder answer (``requested_at + after``,
scheduled when the approval request is first seen); faults are armed the moment
the virtual clock reaches their ``at`` (a clock listener, so also in the middle
of a runbook's calls).
It runs every incident until the host is idle, then sets the virtual clock to
the earliest of the next happening and the next durable timer (retry backoff,
approval deadline), and goes on until nothing is left or ``max_duration``
simulated seconds have passed. Activities take simulated time (the latency
model), so a happening scheduled while incidents are busy is delivered when
the host is next idle; the scorecard shows when each was delivered.

Answers are judged as the CLI judges them before sending (``incident approve``
refuses a non-approver and sends nothing); a refused answer is reported, and the
approval keeps waiting until its deadline.

Sandbox only: the run installs its own client factory (sandbox credential and
transport of this run's tenant) and settings (records stay in the run folder;
``notify.webhook`` posts to a loopback sink whose messages the scorecard lists;
a playbook that names its own webhook ``url`` is refused), and before every step of the host it checks that the
process-wide factory is still that one — otherwise :class:`TabletopRefused`.
The previous factory and settings are restored afterwards. Process-wide state
is changed while a run lasts: do not run an exercise inside a process that is
handling real incidents (the Function App's timer runs each exercise in a
child process).
"""

from __future__ import annotations

import heapq
import json
import secrets
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from pydantic import SecretStr

from firestop.tabletop.models import Answer, Scenario, alert_payload, load_scenario
from firestop.times import offset, seconds
from firestop.private import private_dirs, write_private_text

#: Safety net: host steps per run (each step runs until idle, then moves the clock).
MAX_STEPS = 10_000
#: Seconds from the start of the detection deployment to T0, however long it took (the shipped rules' PUTs take ~21 s of
#: simulated time, 0.5-1 s each). 320 s keeps T0 20 s past a whole five minutes of the scenario's clock, where the
#: ~20 s deployment put it before: the shipped expectations (e.g. leaked-api-key's refused_within 7, ai-*'s
#: detected within) are tuned to the attack's phase against the one- and five-minute evaluations.
DEPLOY_LEAD_S = 320.0


class TabletopRefused(RuntimeError):
    """The exercise would reach something other than this run's in-memory sandbox tenant (nothing was run)."""


def merge_overrides(base: Any, override: Any) -> Any:
    """``override`` merged into ``base`` (pure): mappings merge key by key, lists whose
    items are all mappings with a ``name`` merge item by item on ``name`` (new names are
    appended), anything else is replaced by ``override``."""
    if isinstance(base, dict) and isinstance(override, dict):
        out = dict(base)
        for key, value in override.items():
            out[key] = merge_overrides(base[key], value) if key in base else value
        return out
    if _named_list(base) and _named_list(override):
        out = list(base)
        index = {str(item["name"]).lower(): i for i, item in enumerate(out)}
        for item in override:
            i = index.get(str(item["name"]).lower())
            if i is None:
                index[str(item["name"]).lower()] = len(out)
                out.append(item)
            else:
                out[i] = {**merge_overrides(out[i], item), "name": out[i]["name"]}  # names match case-insensitively
        return out
    return override


def _named_list(value: Any) -> bool:
    return isinstance(value, list) and bool(value) and all(isinstance(i, dict) and "name" in i for i in value)


def build_tenant(scenario: Scenario):
    """A fresh in-memory :class:`firestop.sandbox.Tenant` for ``scenario.tenant``.

    Raises ValueError/KeyError/TypeError when the seed or overrides do not build a tenant.
    """
    from firestop.sandbox import Tenant
    from firestop.sandbox.core.clock import format_utc
    from firestop.sandbox.seed import build_document, read_seed_file

    spec = scenario.tenant
    seed_path = scenario.resolve(spec.seed) if spec.seed else None
    seed = merge_overrides(read_seed_file(seed_path), spec.overrides or {})
    if spec.clock is not None:
        seed["clock"] = format_utc(spec.clock.astimezone(timezone.utc))
    doc = build_document(seed)
    doc["seed_source"] = str(seed_path.resolve()) if seed_path else None
    tenant = Tenant(doc)
    tenant.realtime_factor = 0.0  # an exercise never waits for real
    if spec.role is not None:
        tenant.enforce_role(spec.role)
    return tenant


def check_sandbox_clients(factory: Any, tenant: Any) -> None:
    """Raise :class:`TabletopRefused` unless ``factory`` talks only to ``tenant`` (sandbox credential and transport)."""
    from firestop.azure.clients import ClientFactory
    from firestop.sandbox import SandboxCredential

    if not isinstance(factory, ClientFactory):
        raise TabletopRefused(f"the Azure client factory is {type(factory).__name__}, not a Firestop ClientFactory on the sandbox")
    if not factory.sandbox or not isinstance(factory.credential, SandboxCredential):
        raise TabletopRefused(
            "the Azure client factory holds a real Azure credential "
            f"({type(factory.credential).__name__}); tabletop exercises run on the sandbox tenant only"
        )
    if factory.transport is not tenant.transport:
        raise TabletopRefused("the Azure client factory does not send to this exercise's sandbox tenant; refusing to run")


def _is_loopback_url(url: str) -> bool:
    import ipaddress
    from urllib.parse import urlparse

    host = (urlparse(url).hostname or "").lower()
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_no_real_channels(playbooks_dir: Path) -> None:
    """Raise :class:`TabletopRefused` when a playbook in ``playbooks_dir`` names its own webhook ``url``
    (an exercise must not post to a real channel; without ``url`` notifications go to the run's local sink)."""
    from firestop.playbooks import load_playbooks_lenient

    playbooks, _ = load_playbooks_lenient(playbooks_dir)
    for playbook in playbooks:
        for step in playbook.steps():
            url = getattr(step, "with_", {}).get("url") if getattr(step, "runbook", None) == "notify.webhook" else None
            if isinstance(url, str) and url and not _is_loopback_url(url):
                raise TabletopRefused(
                    f"playbook {playbook.name} step {step.id} posts to its own webhook URL; an exercise never notifies a "
                    "real channel — rehearse with a scenario-local playbook directory (playbooks:) without that url"
                )


class NotificationSink:
    """A loopback HTTP endpoint standing in for the team's webhook during an exercise.

    ``url``: ``http://127.0.0.1:<port>/tabletop``; ``received``: ``[{"at" (simulated, ISO UTC), "body"}]``.
    """

    def __init__(self, clock: Any) -> None:
        import threading
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        from firestop.runtime.wakeup import PromptShutdownMixin

        received: list[dict[str, Any]] = []
        self.received = received

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server API)
                raw = self.rfile.read(min(int(self.headers.get("Content-Length") or 0), 1 << 20))
                try:
                    body: Any = json.loads(raw)
                except ValueError:
                    body = raw.decode("utf-8", "replace")
                received.append({"at": clock.now().isoformat(), "body": body})
                self.send_response(200)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args: Any) -> None:  # quiet
                return

        class Server(PromptShutdownMixin, ThreadingHTTPServer):  # close() returns at once, not after a 0.05 s poll
            pass

        self._server = Server(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}/tabletop"
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                        name="tabletop-notifications", daemon=True)
        self._thread.start()

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()


def new_run_id(name: str) -> str:
    """``<UTC wall time>-<scenario name>-<4 hex>``, e.g. ``20261129T031440Z-leaked-api-key-1a2b``."""
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    return f"{stamp}-{name}-{secrets.token_hex(2)}"


@dataclass
class Run:
    """What one exercise did (input of :func:`firestop.tabletop.scorecard.build_scorecard`).

    Times are aware UTC datetimes on the sandbox's virtual clock; ``wall_seconds`` is real time.
    """

    scenario: Scenario
    run_id: str
    run_dir: Path
    started_at: datetime
    finished_at: datetime | None = None
    wall_seconds: float = 0.0
    alerts: list[dict[str, Any]] = field(default_factory=list)  # per alert: index, at, delivered_at, incident_id, outcome
    incident_of_alert: dict[int, str] = field(default_factory=dict)
    incidents: dict[str, dict[str, Any]] = field(default_factory=dict)  # incident id -> view (the record once completed)
    approval_requests: list[dict[str, Any]] = field(default_factory=list)
    answers: list[dict[str, Any]] = field(default_factory=list)  # delivery log of responder answers
    requests: list[dict[str, Any]] = field(default_factory=list)  # sandbox request log
    faults: list[dict[str, Any]] = field(default_factory=list)  # fired faults (tenant.faults)
    faults_armed: list[dict[str, Any]] = field(default_factory=list)
    notifications: list[dict[str, Any]] = field(default_factory=list)  # what notify.webhook would have posted
    notes: list[str] = field(default_factory=list)
    audit_before: Any = None  # firestop.audit.Audit of the tenant before the first alert (scenario audit: true)
    audit_after: Any = None  # … and after the exercise, with the drift against audit_before
    # attack-driven runs (scenario.attack): what the rules did and what the attacker got
    detection: dict[str, Any] | None = None


class _Exercise:
    def __init__(self, scenario: Scenario, run_dir: Path, run_id: str, clients: Any | None,
                 client_options: dict[str, float] | None = None) -> None:
        from firestop.azure.clients import ClientFactory
        from firestop.cli.wiring import (SANDBOX_KEY_VAULT_URL, SANDBOX_LOG_WORKSPACE_ID, SANDBOX_NON_PRODUCTION_ACCOUNTS,
                                         SANDBOX_SENTINEL_WORKSPACE_ID)
        from firestop.settings import Settings

        self.scenario = scenario
        self.tenant = build_tenant(scenario)
        unknown = set(client_options or {}) - {"polling_interval", "retry_total"}
        if unknown:
            raise ValueError(f"client_options: unknown option(s) {sorted(unknown)}; use polling_interval, retry_total")
        self.clients = clients if clients is not None else ClientFactory(
            credential=self.tenant.credential, transport=self.tenant.transport, clock=self.tenant.clock, sandbox=True,
            **(client_options or {}),
        )
        check_sandbox_clients(self.clients, self.tenant)
        base = Settings.from_env()
        playbooks_dir = scenario.playbooks_dir() or base.playbooks_dir
        check_no_real_channels(playbooks_dir)
        self.settings = Settings(
            home=run_dir,
            playbooks_dir=playbooks_dir,
            key_vault_url=SANDBOX_KEY_VAULT_URL,
            log_workspace_id=SANDBOX_LOG_WORKSPACE_ID,
            # the sandbox's admin declared contoso-openai-dev not production (RT20-09: a tag alone never does)
            non_production_accounts=SANDBOX_NON_PRODUCTION_ACCOUNTS,
            sentinel_workspace_id=SANDBOX_SENTINEL_WORKSPACE_ID,
            key_secret_name="openai-api-key",
            # never a real store or a real channel from an exercise: records, evidence and ledger stay in the
            # run's folder, notifications go to the run's sink
            storage_blob_url=None,
            notify_webhook_url=None,
        )
        self.driver = None
        self.detections: list[dict[str, Any]] = []
        if scenario.attack:
            from firestop.tabletop.detection import deploy_detection

            # the rules are deployed by whoever runs `firestop infra`, not under Firestop's (maybe trimmed) role
            self.tenant.enforce_role(None)
            deploying = self.tenant.clock.now()
            self.deployed_rules = deploy_detection(self.tenant, playbooks_dir, dict(scenario.infra_parameters))
            # T0 a fixed lead after the deployment began, however many rules it PUT (each takes simulated time):
            # otherwise a playbook gaining a rule moves every attack against the whole-minute evaluations
            lead = self.tenant.clock.now() - deploying
            if lead < timedelta(seconds=DEPLOY_LEAD_S):
                self.tenant.clock.set(deploying + timedelta(seconds=DEPLOY_LEAD_S))
            if scenario.tenant.role is not None:
                self.tenant.enforce_role(scenario.tenant.role)
        self.t0 = self.tenant.clock.now()
        self.run = Run(scenario=scenario, run_id=run_id, run_dir=run_dir, started_at=self.t0)
        self._opened_by: dict[str, Any] = {}  # incident id -> the parsed alert that started it (for correlation)
        self.queue: list[tuple[datetime, int, str, Any]] = []
        self._seq = 0
        self.host = None
        self.pending_faults: list[tuple[datetime, int, str, Any]] = []
        self.seen_requests: set[tuple[str, str, str]] = set()
        self.used_answers: set[int] = set()

    # -- plumbing --------------------------------------------------------------------
    def schedule(self, when: datetime, kind: str, item: Any) -> None:
        self._seq += 1
        heapq.heappush(self.queue, (when, self._seq, kind, item))

    def guard(self) -> None:
        from firestop.azure import clients as installed

        if installed._factory is not self.clients:  # noqa: SLF001 — the factory activities will use
            raise TabletopRefused("the process-wide Azure client factory changed during the exercise; stopped")
        check_sandbox_clients(self.clients, self.tenant)

    def offset(self, when: datetime | None) -> float | None:
        return None if when is None else round((when - self.t0).total_seconds(), 3)

    # -- the run ---------------------------------------------------------------------
    def execute(self) -> Run:
        from firestop.azure import clients as clients_module
        from firestop import settings as settings_module
        from firestop.cli.wiring import function_app
        from firestop.runtime import LocalDurableHost

        previous = (clients_module._factory, settings_module._settings)  # noqa: SLF001 — restored afterwards
        private_dirs(self.settings.home)
        started = time.monotonic()
        sink = NotificationSink(self.tenant.clock)
        self.settings = self.settings.model_copy(update={"notify_webhook_url": SecretStr(sink.url)})
        clients_module.configure_clients(self.clients)
        settings_module.configure_settings(self.settings)
        try:
            self.guard()
            self.host = LocalDurableHost(function_app(), self.settings.durable_db, clock=self.tenant.clock)
            try:
                if self.scenario.audit:
                    self.run.audit_before = self._audit()
                self._arm_faults()
                self._arm_attack()
                self._loop()
                self._collect()
                if self.scenario.audit:
                    self.run.audit_after = self._audit(previous=self.run.audit_before)
            finally:
                self.host.close()
        finally:
            clients_module.configure_clients(previous[0])
            settings_module.configure_settings(previous[1])
            sink.close()
            self.run.notifications = list(sink.received)
        self.run.wall_seconds = round(time.monotonic() - started, 3)
        return self.run

    def _arm_attack(self) -> None:
        """Attack-driven run: the driver answers data-plane calls and runs the rules as the clock moves;
        ARM actions and a tick per simulated minute (so rules are evaluated while nothing else happens) are queued."""
        from firestop.tabletop.attack import Driver
        from firestop.tabletop.detection import HORIZON_S

        if not self.scenario.attack:
            return
        self.driver = Driver(self.tenant, list(self.scenario.attack), self._detected)
        self.driver.start(self.t0)
        self.tenant.clock.subscribe(self.driver.on_clock)
        for when, index in self.driver.arm_steps():
            self.schedule(when, "attack", index)
        end = min(self.driver.end + timedelta(seconds=HORIZON_S), self.t0 + timedelta(seconds=self.scenario.max_duration))
        # rules run on whole minutes (their frequencies are multiples of one): tick there, so nothing waits for a happening
        tick = self.t0.replace(second=0, microsecond=0) + timedelta(minutes=1)
        while tick <= end:
            self.schedule(tick, "tick", None)
            tick += timedelta(seconds=60)

    def _on_tick(self, _item: Any) -> None:
        if self.driver is not None:
            self.driver.on_clock(self.tenant.clock.now())
            self._tick_for_deliveries()

    def _tick_for_deliveries(self) -> None:
        """Defender for AI's deliveries (workflow automation, Sentinel) fall due between whole minutes: tick there."""
        scheduled = {when for when, _, kind, _ in self.queue if kind == "tick"}
        for when in self.tenant.pending_deliveries():
            if when not in scheduled:
                self.schedule(when, "tick", None)

    def _on_attack(self, index: int) -> None:
        self.driver.run_arm_step(index)
        for when in self.driver.pending_activity(self.tenant.clock.now()):  # activity log alerts see events on submission
            self.schedule(when, "tick", None)

    def _detected(self, notification: Any) -> None:
        """A rule changed state: remember why, and hand the payload to Firestop if an action group receives it."""
        index = len(self.scenario.alerts) + len(self.detections)
        self.detections.append({"index": index, "rule_name": notification.rule_name, "kind": notification.kind,
                                "condition": notification.condition, "at": notification.at.isoformat(),
                                "explain": notification.explain, "payload": notification.payload,
                                "webhooks": len(notification.webhooks)})
        if notification.webhooks:
            self.schedule(max(notification.at, self.tenant.clock.now()), "alert", index)

    def _arm_faults(self) -> None:
        faults = self.scenario.faults
        for i, spec in enumerate(self.scenario.alerts):
            self.schedule(self.t0 + timedelta(seconds=spec.at), "alert", i)
        later = [(self.t0 + timedelta(seconds=spec.at), i, kind, spec)
                 for i, (kind, spec) in enumerate([*(("fault", f) for f in faults.scripted), *(("lro", f) for f in faults.lro)])]
        self.pending_faults = sorted(later, key=lambda x: (x[0], x[1]))
        self._arm_due_faults(self.tenant.clock.now())
        self.tenant.clock.subscribe(self._arm_due_faults)
        if faults.random is not None:
            r = faults.random
            self.tenant.inject_random_faults(r.rate, r.seed, r.statuses, r.operations, r.retry_after)
            self.run.faults_armed.append({**r.model_dump(), "kind": "random", "at": self.t0.isoformat()})

    def _loop(self) -> None:
        deadline = self.t0 + timedelta(seconds=self.scenario.max_duration)
        clock = self.tenant.clock
        for _ in range(MAX_STEPS):
            self.guard()
            self.host.run_until_idle()
            self._observe_approvals()
            if self.driver is not None:
                self._tick_for_deliveries()
            due = self.host.next_timer_due()
            candidates = [self.queue[0][0]] if self.queue else []
            if due is not None:
                candidates.append(due)
            if not candidates:
                break
            when = min(candidates)
            if when > deadline:
                self.run.notes.append(
                    f"stopped at max_duration ({seconds(self.scenario.max_duration)}): the next event was due at "
                    f"{offset(self.offset(when))}"
                )
                break
            if when > clock.now():
                clock.set(when)
            while self.queue and self.queue[0][0] <= clock.now():
                _, _, kind, item = heapq.heappop(self.queue)
                getattr(self, f"_on_{kind}")(item)
        else:
            self.run.notes.append(f"stopped after {MAX_STEPS} host steps (safety limit)")
        if self.pending_faults:
            self.run.notes.append(f"{len(self.pending_faults)} fault(s) scheduled after the exercise ended were never armed")
        self.run.finished_at = clock.now()

    def _arm_due_faults(self, now: datetime) -> None:
        """Clock listener: arm scripted/LRO faults as soon as simulated time reaches them (even mid-request)."""
        while self.pending_faults and self.pending_faults[0][0] <= now:
            _, _, kind, spec = self.pending_faults.pop(0)
            getattr(self, f"_on_{kind}")(spec)

    def _audit(self, previous: Any = None) -> Any:
        """The checklist audit of a copy of the tenant as it is now (its own clients: the exercise's request
        log, clock and faults are untouched); None, with a note, if it could not run."""
        from firestop.audit import AuditContext, run_audit
        from firestop.azure.clients import ClientFactory
        from firestop.playbooks import load_playbooks_lenient
        from firestop.sandbox.probe import unserved

        copy = self.tenant.copy()
        clients = ClientFactory(credential=copy.credential, transport=copy.transport, clock=copy.clock, sandbox=True)
        playbooks, _ = load_playbooks_lenient(self.settings.playbooks_dir)
        ctx = AuditContext(clients=clients, settings=self.settings, subscription=copy.subscription_id, unserved=unserved,
                           playbooks=tuple(playbooks))
        try:
            return run_audit(ctx, previous=previous)
        except Exception as exc:  # noqa: BLE001 — the exercise's result stands without it
            self.run.notes.append(f"audit could not run: {type(exc).__name__}: {exc}")
            return None

    # -- happenings ------------------------------------------------------------------
    def _on_fault(self, spec) -> None:
        self.tenant.inject_fault(spec.operation, spec.status, nth=spec.nth, retry_after=spec.retry_after, times=spec.times)
        self.run.faults_armed.append({**spec.model_dump(), "kind": "scripted", "at": self.tenant.clock.now().isoformat()})

    def _on_lro(self, spec) -> None:
        self.tenant.inject_lro_fault(spec.operation, seconds=spec.seconds, outcome=spec.outcome, code=spec.code,
                                     message=spec.message, nth=spec.nth, times=spec.times)
        self.run.faults_armed.append({**spec.model_dump(), "kind": "lro", "at": self.tenant.clock.now().isoformat()})

    def _on_alert(self, index: int) -> None:
        from firestop.alerts import parse_alert
        from firestop.lifecycle import ORCHESTRATOR_NAME
        from firestop.lifecycle.start import incident_input
        from firestop.runtime import InstanceNotFound
        from firestop.trust.seal import Purpose, seal

        now = self.tenant.clock.now()
        if index < len(self.scenario.alerts):
            spec = self.scenario.alerts[index]
            at = spec.at
            payload = alert_payload(self.scenario, index)
            if spec.fired is not None:
                fired = self.t0 + timedelta(seconds=spec.fired)
                payload["data"]["essentials"]["firedDateTime"] = fired.isoformat().replace("+00:00", "Z")
        else:  # fired by a rule the sandbox evaluated
            detection = self.detections[index - len(self.scenario.alerts)]
            payload = json.loads(json.dumps(detection["payload"]))
            at = self.offset(datetime.fromisoformat(detection["at"]))
        alert = parse_alert(payload)
        entry = {"index": index, "at": at, "delivered_at": now.isoformat(), "delivered_offset_s": self.offset(now),
                 "rule_name": alert.rule_name, "monitor_condition": alert.monitor_condition, "incident_id": None, "outcome": None}
        self.run.alerts.append(entry)
        key = alert.incident_key
        try:
            existing = self.host.get_status(key)
        except InstanceNotFound:
            existing = None
        running = existing is not None and existing.runtime_status not in ("Completed", "Failed", "Terminated")
        if alert.monitor_condition == "Resolved":
            if running:
                self.host.raise_event(key, "alert_resolved", {
                    "alert_id": alert.alert_id,
                    "resolved_at": alert.resolved_at.isoformat() if alert.resolved_at else None,
                    "received_at": now.isoformat(),
                })
                entry.update(incident_id=key, outcome="resolved: sent to the open incident")
                self.run.incident_of_alert[index] = key
            else:
                entry["outcome"] = "resolved: no open incident, nothing to do"
            return
        if existing is not None:
            entry.update(incident_id=key, outcome="redelivery of an alert already handled: no new incident")
            self.run.incident_of_alert[index] = key
            return
        joined = self._open_incident_of(alert)
        if joined is not None:  # intake joins an alert of the same route and resource to that open incident
            entry.update(incident_id=joined, outcome=f"correlated to the open incident {joined} (same playbook and resource)")
            self.run.incident_of_alert[index] = joined
            return
        earlier, why = self._aftermath(alert)
        if earlier is not None:  # the attacker refused after containment: the incident that refused it (intake does the same)
            entry.update(incident_id=earlier, outcome=f"aftermath of {earlier}: {why}", aftermath=True)
            self.run.incident_of_alert[index] = earlier
            return
        from firestop.sandbox.alertsmanagement.models import payload_of
        from firestop.settings import alert_source_check_enabled

        self.tenant.fire_alert(payload_of(alert))  # Azure Monitor holds the alert before its webhook (a no-op if it does)
        inp = incident_input(alert, received_at=now, sandbox=True, exercise=True, source_check=alert_source_check_enabled())
        self.host.start_new(ORCHESTRATOR_NAME, key, seal(Purpose.INCIDENT, inp, binding=key))
        self.run.incidents[key] = {}
        self._opened_by[key] = alert
        self.run.incident_of_alert[index] = key
        entry.update(incident_id=key, outcome="incident started")

    def _open_incident_of(self, alert: Any) -> str | None:
        """The incident of this exercise still running that intake would join ``alert`` to — one opened by an alert
        sharing a correlation key with it (the same playbook route on the same resource:
        :func:`firestop.intake.correlation.alert_keys`, key ``resource``, the default) — else None. Two rules that see
        one attack (the per-caller log rule and the platform-metric rule of anomalous-usage) make one incident, as on
        Azure."""
        from firestop.intake.correlation import CorrelationKey, alert_keys

        keys = set(alert_keys(alert, CorrelationKey.RESOURCE))
        if not keys:
            return None
        for incident_id, first in self._opened_by.items():
            if not keys & set(alert_keys(first, CorrelationKey.RESOURCE)):
                continue
            status = self.host.get_status(incident_id)
            if status is not None and status.runtime_status not in ("Completed", "Failed", "Terminated"):
                return incident_id
        return None

    def _aftermath(self, alert: Any) -> tuple[str | None, str | None]:
        """(incident id, why) of the finished incident ``alert`` is the aftermath of
        (:func:`firestop.intake.aftermath.aftermath_of`, the correlation window's default), else (None, None)."""
        from firestop.intake.aftermath import aftermath_of
        from firestop.intake.correlation import DEFAULT_WINDOW_SECONDS

        for incident_id in self.run.incidents:
            status = self.host.get_status(incident_id)
            if status.runtime_status != "Completed" or not isinstance(status.output, dict):
                continue
            why = aftermath_of(alert, status.output, window_seconds=DEFAULT_WINDOW_SECONDS)
            if why:
                return incident_id, why
        return None, None

    def _alerts_of(self, incident_id: str) -> set[int]:
        return {i for i, inc in self.run.incident_of_alert.items() if inc == incident_id}

    def _observe_approvals(self) -> None:
        for incident_id in list(self.run.incidents):
            status = self.host.get_status(incident_id)
            custom = status.custom_status if isinstance(status.custom_status, dict) else {}
            pending = custom.get("pending_approval")
            if not pending:
                continue
            key = (incident_id, pending["step"], pending["requested_at"])
            if key in self.seen_requests:
                continue
            self.seen_requests.add(key)
            requested_at = datetime.fromisoformat(pending["requested_at"])
            request = {
                "incident_id": incident_id,
                "step": pending["step"],
                "runbook": pending.get("runbook"),
                "target": pending.get("target"),
                "why": pending.get("why"),
                "requested_at": pending["requested_at"],
                "requested_offset_s": self.offset(requested_at),
                "expires_at": pending.get("expires_at"),
                "approvers": pending.get("approvers") or [],
                "two_person": bool(pending.get("two_person")),
                "answers_scheduled": [],
            }
            self.run.approval_requests.append(request)
            alerts = self._alerts_of(incident_id)
            for i, answer in enumerate(self.scenario.responder):
                if i in self.used_answers or answer.step != pending["step"]:
                    continue
                if answer.alert is not None and answer.alert not in alerts:
                    continue
                self.used_answers.add(i)
                request["answers_scheduled"].append(i)
                self.schedule(requested_at + timedelta(seconds=answer.after), "answer", (i, incident_id, pending))

    def _on_answer(self, item: tuple[int, str, dict[str, Any]]) -> None:
        from firestop.lifecycle.approvals import decision_event, judge
        from firestop.playbooks.models import Approval
        from firestop.trust.seal import seal_decision

        index, incident_id, asked = item
        answer: Answer = self.scenario.responder[index]
        now = self.tenant.clock.now()
        log = {"answer": index, "incident_id": incident_id, "step": answer.step, "decision": answer.decision, "by": answer.by,
               "groups": list(answer.groups), "after": answer.after, "scheduled_at": (datetime.fromisoformat(asked["requested_at"]) + timedelta(seconds=answer.after)).isoformat(),
               "delivered_at": now.isoformat(), "outcome": None, "reason": ""}
        self.run.answers.append(log)
        status = self.host.get_status(incident_id)
        custom = status.custom_status if isinstance(status.custom_status, dict) else {}
        pending = custom.get("pending_approval")
        if not pending or pending.get("step") != asked["step"] or pending.get("requested_at") != asked["requested_at"]:
            log.update(outcome="not delivered", reason="the step was no longer waiting for a decision (timed out or decided)")
            return
        data = decision_event(incident_id, pending, decision=answer.decision, by=answer.by, groups=list(answer.groups),
                              comment=answer.comment, decision_id=f"tabletop-{self.run.run_id}-{index}", at=now.isoformat())
        verdict, reason, _ = judge(
            Approval(mode="required", approvers=pending.get("approvers") or [], two_person=bool(pending.get("two_person"))),
            data,
            requested_by=pending.get("requested_by") or "",
        )
        if verdict == "refused":
            log.update(outcome="refused", reason=f"{reason}; nothing was sent (as incident approve/reject would refuse)")
            return
        self.host.raise_event(incident_id, pending["event"], seal_decision(data))  # the simulated responder's API call
        log.update(outcome="sent", reason=reason)

    # -- results ---------------------------------------------------------------------
    def _collect(self) -> None:
        from firestop.lifecycle.view import incident_view

        for incident_id in self.run.incidents:
            s = self.host.get_status(incident_id)
            self.run.incidents[incident_id] = incident_view(
                s.instance_id, s.runtime_status, s.custom_status, s.output, s.created_time, s.last_updated_time
            )
        self.run.requests = [
            {"method": r.method, "host": r.host, "path": r.path, "api_version": r.api_version,
             "operation": r.operation, "status": r.status, "at": r.at.isoformat()}
            for r in self.tenant.requests
        ]
        if self.driver is not None:
            from firestop.tabletop.detection import summarize

            self.run.detection = summarize(self)
        self.run.faults = [
            {"operation": f.operation, "kind": f.kind, "status": f.status, "at": f.at.isoformat(), "source": f.source}
            for f in self.tenant.faults
        ]


def run_scenario(scenario: Scenario | Path | str, *, home: Path | str | None = None, run_id: str | None = None,
                 clients: Any | None = None, client_options: dict[str, float] | None = None) -> dict[str, Any]:
    """Run one exercise and write its scorecard; returns the scorecard (JSON-able dict, see
    :mod:`firestop.tabletop.scorecard`) with ``"files"`` naming ``scorecard.json``/``.md``.

    scenario: a :class:`Scenario` or the path of a scenario file.
    home: FIRESTOP_HOME (default: the environment's); the run lives in ``home/tabletop/<run_id>/``.
    run_id: default :func:`new_run_id`. clients: a ``ClientFactory`` to use instead of the
    run's own — it must be a sandbox factory on this run's tenant, so in practice only for tests.
    client_options: ``polling_interval`` (seconds between LRO polls) / ``retry_total`` for the run's
    own factory instead of :class:`~firestop.azure.clients.ClientFactory`'s defaults (what-if runs,
    ``bench/mttc.py``); ValueError for anything else.

    Raises:
        ScenarioError: the scenario file is invalid.
        TabletopRefused: the Azure clients are not this run's sandbox (before anything ran, or mid-run).
        FileExistsError: ``home/tabletop/<run_id>`` exists already.
    """
    from firestop.settings import Settings
    from firestop.tabletop.scorecard import build_scorecard, write_scorecard

    if not isinstance(scenario, Scenario):
        scenario = load_scenario(scenario)
    base = Path(home) if home is not None else Settings.from_env().home
    run_id = run_id or new_run_id(scenario.name)
    run_dir = base / "tabletop" / run_id
    if run_dir.exists():
        raise FileExistsError(f"{run_dir} exists already; give another run id")
    exercise = _Exercise(scenario, run_dir, run_id, clients, client_options)
    run = exercise.execute()
    card = build_scorecard(run)
    write_private_text(run_dir / "requests.json", json.dumps(run.requests, indent=1))
    card["files"] = write_scorecard(card, run_dir)
    return card
