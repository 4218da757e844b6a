"""OpenTelemetry: configured once when asked, instruments through ``opentelemetry-api`` (no-ops otherwise).

:func:`configure` (``function_app.py`` on the Functions host, ``firestop serve``) turns telemetry on:

* ``APPLICATIONINSIGHTS_CONNECTION_STRING`` set → ``azure.monitor.opentelemetry.configure_azure_monitor()``:
  traces and metrics to Application Insights. With the template's ``DisableLocalAuth`` the exporter
  authenticates with the managed identity named by ``APPLICATIONINSIGHTS_AUTHENTICATION_STRING``
  (``ClientId=…;Authorization=AAD``, read by azure-monitor-opentelemetry-exporter itself). Choices:
  ``disable_logging=True`` — the Functions host already collects ``logging`` records (sending them again
  would duplicate every line in ``traces``); instrumentations off except ``azure_sdk`` (azure-core keeps only
  allow-listed query parameters in ``url.full``) — the ``requests``/``urllib``/``urllib3``/``httpx`` ones would
  record full URLs, and ``notify.webhook`` posts to a Teams/Slack URL whose path is the secret. When the Python
  worker already configured OpenTelemetry (``PYTHON_APPLICATIONINSIGHTS_ENABLE_TELEMETRY=true`` makes it call
  ``configure_azure_monitor`` itself) nothing is configured twice.
* ``FIRESTOP_OTEL_CONSOLE=1`` (locally) → the SDK with console exporters on stderr (spans as they end, metrics
  every 60 s and at exit); with a connection string too, both.
* neither → nothing: no SDK is imported, the API's instruments stay no-ops.

:func:`use_providers` points the instruments at given providers instead (tests: the SDK's in-memory exporters).
What is recorded (names, units, attributes) is listed in :mod:`firestop.telemetry`.
"""

from __future__ import annotations

import os
import sys
import threading
from contextlib import contextmanager
from datetime import datetime
from typing import Any, Iterator, Mapping

CONNECTION_ENV = "APPLICATIONINSIGHTS_CONNECTION_STRING"
CONSOLE_ENV = "FIRESTOP_OTEL_CONSOLE"
SCOPE = "firestop"
#: Timeline outcomes that mark a step span as an error.
FAILED_OUTCOMES = frozenset({"failed", "not verified", "undo failed", "evidence gap", "rejected", "approval timed out",
                             "decision refused", "unreadable ledger lines"})

_lock = threading.Lock()
_configured: dict[str, Any] = {"where": None, "error": None}
_providers: dict[str, Any] = {"tracer": None, "meter": None}
_instruments: dict[str, Any] = {}


# ---------------------------------------------------------------- configuration
def _asked(env: Mapping[str, str]) -> tuple[bool, bool]:
    """(Azure Monitor, console) as ``env`` asks."""
    return bool((env.get(CONNECTION_ENV) or "").strip()), (env.get(CONSOLE_ENV) or "").strip() == "1"


def _sdk_configured() -> bool:
    """True when a real SDK tracer provider is already installed (e.g. by the Functions Python worker)."""
    from opentelemetry import trace

    return type(trace.get_tracer_provider()).__module__.startswith("opentelemetry.sdk")


def configure(env: Mapping[str, str] | None = None) -> str | None:
    """Turn telemetry on as ``env`` (the process environment) asks, once per process (module docstring). Returns
    where it goes (e.g. ``"Azure Monitor"``, ``"console"``), or None when nothing was asked. A failure to configure
    is kept (:func:`status`) and logged, never raised: telemetry never stops the app."""
    env = os.environ if env is None else env
    azure, console = _asked(env)
    if not (azure or console):
        return None
    with _lock:
        if _configured["where"] is not None:
            return _configured["where"]
        try:
            _configured["where"] = _configure(azure, console, (env.get(CONNECTION_ENV) or "").strip())
        except Exception as exc:  # noqa: BLE001 - a telemetry problem is reported, never fatal
            import logging

            _configured["error"] = f"{type(exc).__name__}: {exc}"
            logging.getLogger("firestop.telemetry").warning("OpenTelemetry not configured: %r", _configured["error"])
            return None
        return _configured["where"]


def _configure(azure: bool, console: bool, connection_string: str) -> str:
    span_processors: list[Any] = []
    metric_readers: list[Any] = []
    if console:
        from opentelemetry.sdk.metrics.export import ConsoleMetricExporter, PeriodicExportingMetricReader
        from opentelemetry.sdk.trace.export import ConsoleSpanExporter, SimpleSpanProcessor

        span_processors.append(SimpleSpanProcessor(ConsoleSpanExporter(out=sys.stderr)))
        metric_readers.append(PeriodicExportingMetricReader(ConsoleMetricExporter(out=sys.stderr), export_interval_millis=60_000))
    if azure:
        if _sdk_configured():
            return "Azure Monitor (configured by the Functions Python worker)"
        from azure.monitor.opentelemetry import configure_azure_monitor

        off = {"enabled": False}
        configure_azure_monitor(
            connection_string=connection_string,
            disable_logging=True,
            instrumentation_options={"azure_sdk": {"enabled": True}, "requests": off, "urllib": off, "urllib3": off,
                                     "httpx": off, "django": off, "flask": off, "fastapi": off, "psycopg2": off},
            span_processors=span_processors, metric_readers=metric_readers,
        )
        return "Azure Monitor" + (" and console" if console else "")
    from opentelemetry import metrics, trace
    from opentelemetry.sdk.metrics import MeterProvider
    from opentelemetry.sdk.trace import TracerProvider

    tracer_provider = TracerProvider()
    for processor in span_processors:
        tracer_provider.add_span_processor(processor)
    trace.set_tracer_provider(tracer_provider)
    metrics.set_meter_provider(MeterProvider(metric_readers=metric_readers))
    return "console"


def status(env: Mapping[str, str] | None = None) -> dict[str, Any]:
    """For ``firestop doctor``: ``{"configured": bool, "where": str | None, "asked": str, "error": str | None}`` —
    ``asked`` names what the environment asks for (``"none"`` without either setting)."""
    env = os.environ if env is None else env
    azure, console = _asked(env)
    asked = " and ".join(n for n, on in ((f"Azure Monitor ({CONNECTION_ENV})", azure), (f"console ({CONSOLE_ENV}=1)", console)) if on)
    return {"configured": _configured["where"] is not None, "where": _configured["where"], "asked": asked or "none",
            "error": _configured["error"]}


@contextmanager
def use_providers(*, tracer_provider: Any = None, meter_provider: Any = None) -> Iterator[None]:
    """Record through these providers (not the global ones) inside the block — for tests."""
    with _lock:
        before = dict(_providers)
        _providers.update(tracer=tracer_provider, meter=meter_provider)
        _instruments.clear()
    try:
        yield
    finally:
        with _lock:
            _providers.update(before)
            _instruments.clear()


# ---------------------------------------------------------------- instruments
def _tracer() -> Any:
    from opentelemetry import trace

    provider = _providers["tracer"] or trace.get_tracer_provider()
    return provider.get_tracer(SCOPE)


def _instrument(name: str) -> Any:
    found = _instruments.get(name)
    if found is not None:
        return found
    from opentelemetry import metrics

    meter = (_providers["meter"] or metrics.get_meter_provider()).get_meter(SCOPE)
    made = {
        "incidents": lambda: meter.create_counter("firestop.incidents", unit="{incident}",
                                                  description="Incidents by outcome (the record's status)"),
        "mttd": lambda: meter.create_histogram("firestop.incident.mttd", unit="s",
                                               description="Mean time to detect: alert fired to received"),
        "mttc": lambda: meter.create_histogram("firestop.incident.mttc", unit="s",
                                               description="Mean time to contain: received to contained"),
        "failures": lambda: meter.create_counter("firestop.runbook.failures", unit="{failure}",
                                                 description="Runbook answers that failed, by kind"),
    }[name]()
    _instruments[name] = made
    return made


def active() -> bool:
    """Is anything listening? :func:`configure` ran, :func:`use_providers` is in force, or some other code loaded the
    OpenTelemetry SDK. Otherwise the recorders below return at once: the API's instruments would be no-ops anyway,
    and ``alert handle`` should not pay for importing ``opentelemetry.metrics`` (start-up cost unchanged)."""
    return (_configured["where"] is not None or _providers["tracer"] is not None or _providers["meter"] is not None
            or "opentelemetry.sdk.trace" in sys.modules or "opentelemetry.sdk.metrics" in sys.modules)


def runbook_failure(runbook: str, kind: str, action: str) -> None:
    """Count one failed runbook answer (``action``: apply, verify or undo; ``kind``: the error kind)."""
    if not active():
        return
    _instrument("failures").add(1, {"runbook": runbook or "-", "kind": kind or "failed", "action": action})


def _ns(value: Any) -> int | None:
    if not value:
        return None
    try:
        moment = value if isinstance(value, datetime) else datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return None
    return int(moment.timestamp() * 1_000_000_000)


def incident_outcome(record: dict[str, Any]) -> None:
    """Count the incident by outcome, record its MTTD/MTTC, and emit its trace (module docstring of
    :mod:`firestop.telemetry`). ``record``: the post-incident record. Nothing when not :func:`active`."""
    if not active():
        return
    playbook = (record.get("playbook") or {}).get("name") or "-"
    sandbox = bool(record.get("sandbox"))
    _instrument("incidents").add(1, {"outcome": str(record.get("status")), "playbook": playbook, "sandbox": sandbox,
                                     "exercise": bool(record.get("exercise"))})
    metrics = record.get("metrics") or {}
    for name, key in (("mttd", "mttd_s"), ("mttc", "mttc_s")):
        if isinstance(metrics.get(key), (int, float)):
            _instrument(name).record(float(metrics[key]), {"playbook": playbook, "sandbox": sandbox})
    _trace(record, playbook)


def _trace(record: dict[str, Any], playbook: str) -> None:
    from opentelemetry import trace
    from opentelemetry.trace import Status, StatusCode

    tracer = _tracer()
    incident_id = str(record.get("incident_id"))
    timeline = [e for e in record.get("timeline") or [] if isinstance(e, dict) and _ns(e.get("at")) is not None]
    moments = [_ns(e["at"]) for e in timeline] + [t for t in (_ns(record.get("received_at")), _ns(record.get("closed_at"))) if t]
    if not moments:
        return
    base = {"firestop.incident.id": incident_id}
    root = tracer.start_span("incident", start_time=min(moments), attributes={
        **base, "firestop.incident.outcome": str(record.get("status")), "firestop.playbook": playbook,
        "firestop.sandbox": bool(record.get("sandbox")), "firestop.exercise": bool(record.get("exercise"))})
    if record.get("status") == "needs_responder":
        root.set_status(Status(StatusCode.ERROR, "needs a responder"))
    parent = trace.set_span_in_context(root)
    phases: dict[str, list[dict[str, Any]]] = {}
    for entry in timeline:
        phases.setdefault(str(entry.get("phase")), []).append(entry)
    for phase, entries in phases.items():
        starts = [_start_ns(e) for e in entries]
        span = tracer.start_span(f"phase {phase}", context=parent, start_time=min(starts),
                                 attributes={**base, "firestop.phase": phase})
        inner = trace.set_span_in_context(span)
        for entry in entries:
            if not entry.get("runbook"):
                continue
            step = tracer.start_span(f"step {entry.get('step')}", context=inner, start_time=_start_ns(entry), attributes={
                **base, "firestop.phase": phase, "firestop.step": str(entry.get("step")),
                "firestop.runbook": str(entry.get("runbook")), "firestop.outcome": str(entry.get("outcome")),
                **({"firestop.target": str(entry["target"])} if entry.get("target") else {})})
            if entry.get("outcome") in FAILED_OUTCOMES:
                step.set_status(Status(StatusCode.ERROR, str(entry.get("outcome"))))
            step.end(end_time=_ns(entry["at"]))
        span.end(end_time=max(_ns(e["at"]) for e in entries))
    root.end(end_time=max(moments))


def _start_ns(entry: dict[str, Any]) -> int:
    end = _ns(entry["at"])
    duration = entry.get("duration_s")
    return end - int(float(duration) * 1_000_000_000) if isinstance(duration, (int, float)) and duration > 0 else end
