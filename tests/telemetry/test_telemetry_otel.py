"""OpenTelemetry: the leaked-key sandbox incident gives its trace and metric points (the SDK's in-memory exporters);
nothing is configured without a connection string; the CLI's start-up imports neither the SDK nor the distro.
(The template's Application Insights as the doctor reads it: tests/infra/test_doctor_settings.py.)"""

from __future__ import annotations

import json
import subprocess
import sys
from types import SimpleNamespace

import pytest
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import StatusCode
from typer.testing import CliRunner

from firestop.settings import REPO_ROOT
from firestop.telemetry import otel

EXAMPLE = REPO_ROOT / "examples" / "alerts" / "leaked-key.json"
ACCOUNT = "/subscriptions/11111111-2222-3333-4444-555555555555/resourceGroups/rg-ai-prod/providers/Microsoft.CognitiveServices/accounts/contoso-openai-prod"


@pytest.fixture
def recorded():
    """In-memory span exporter and metric reader the instruments record through."""
    spans = InMemorySpanExporter()
    tracer_provider = TracerProvider()
    tracer_provider.add_span_processor(SimpleSpanProcessor(spans))
    reader = InMemoryMetricReader()
    with otel.use_providers(tracer_provider=tracer_provider, meter_provider=MeterProvider(metric_readers=[reader])):
        yield spans, reader


def _points(reader) -> dict[str, list]:
    data = reader.get_metrics_data()
    out: dict[str, list] = {}
    for resource in (data.resource_metrics if data else []):
        for scope in resource.scope_metrics:
            for metric in scope.metrics:
                out.setdefault(metric.name, []).extend(metric.data.data_points)
    return out


def test_leaked_key_incident_gives_its_trace_and_metrics(firestop_home, recorded):
    from firestop.cli.main import app
    from firestop.sandbox import Tenant

    spans, reader = recorded
    keys_before = Tenant.open(firestop_home / "sandbox").account_keys(ACCOUNT)
    result = CliRunner().invoke(app, ["alert", "handle", str(EXAMPLE), "--json"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    record = json.loads(result.stdout)
    iid = record["incident_id"]

    finished = spans.get_finished_spans()
    (root,) = [s for s in finished if s.name == "incident"]
    assert root.attributes["firestop.incident.id"] == iid
    assert root.attributes["firestop.incident.outcome"] == "contained"
    assert root.attributes["firestop.playbook"] == "leaked-api-key" and root.attributes["firestop.sandbox"] is True
    # the incident span runs from the alert firing to the record being filed (the timeline's own times)
    assert (root.end_time - root.start_time) / 1e9 == pytest.approx(record["metrics"]["mttd_s"] + record["timeline"][-1]["offset_s"], abs=0.01)
    phases = {s.name: s for s in finished if s.name.startswith("phase ")}
    assert set(phases) == {"phase detect", "phase analyze", "phase contain", "phase resolve", "phase learn"}
    assert all(s.parent.span_id == root.context.span_id and s.context.trace_id == root.context.trace_id for s in phases.values())
    steps = {(s.attributes["firestop.phase"], s.attributes["firestop.step"]): s for s in finished if s.name.startswith("step ")}
    contain = {step: s for (phase, step), s in steps.items() if phase == "contain"}
    assert set(contain) == {"snapshot-logs", "rotate-keys", "lock-network"}
    for step, span in contain.items():
        assert span.parent.span_id == phases["phase contain"].context.span_id
        assert span.attributes["firestop.incident.id"] == iid and span.attributes["firestop.outcome"] == "done"
        assert span.attributes["firestop.target"].lower() == ACCOUNT.lower()
        assert span.status.status_code is not StatusCode.ERROR
    assert contain["rotate-keys"].attributes["firestop.runbook"] == "keys.rotate"
    entry = next(e for e in record["timeline"] if e["step"] == "rotate-keys")
    assert (contain["rotate-keys"].end_time - contain["rotate-keys"].start_time) / 1e9 == pytest.approx(entry["duration_s"], abs=0.001)
    assert {step for (phase, step) in steps if phase == "resolve"} == {"verify rotate-keys", "verify lock-network", "verify snapshot-logs"}

    points = _points(reader)
    (incidents,) = points["firestop.incidents"]
    assert incidents.value == 1 and dict(incidents.attributes) == {"outcome": "contained", "playbook": "leaked-api-key",
                                                                   "sandbox": True, "exercise": False}
    (mttd,) = points["firestop.incident.mttd"]
    (mttc,) = points["firestop.incident.mttc"]
    assert mttd.count == 1 and mttd.sum == pytest.approx(record["metrics"]["mttd_s"])
    assert mttc.count == 1 and mttc.sum == pytest.approx(record["metrics"]["mttc_s"])
    assert dict(mttc.attributes) == {"playbook": "leaked-api-key", "sandbox": True}
    assert "firestop.runbook.failures" not in points  # nothing failed

    # never a secret value: not the keys rotated away, not the new ones, not the consumers' secret
    tenant = Tenant.open(firestop_home / "sandbox")
    secrets = {*keys_before.values(), *tenant.account_keys(ACCOUNT).values(),
               *(v["value"] for v in tenant.secret_versions("kv-contoso-ai", "openai-api-key"))}
    exported = json.dumps([dict(s.attributes) for s in finished], default=str)
    assert secrets and not any(secret in exported for secret in secrets)


def test_failed_runbook_answers_are_counted_by_kind_and_replays_count_nothing(recorded):
    from firestop.lifecycle import observe

    _, reader = recorded
    live, replaying = SimpleNamespace(is_replaying=False), SimpleNamespace(is_replaying=True)
    forbidden = {"ok": False, "error": {"kind": "forbidden", "message": "no"}}
    observe.runbook_answer(live, "keys.rotate", "apply", forbidden)
    observe.runbook_answer(live, "keys.rotate", "apply", forbidden)
    observe.runbook_answer(live, "network.lock", "verify", {"ok": False, "error": None})
    observe.runbook_answer(replaying, "keys.rotate", "apply", forbidden)  # the same answer again, on replay
    observe.runbook_answer(live, "keys.rotate", "apply", {"ok": True})
    counted = {tuple(sorted(p.attributes.items())): p.value for p in _points(reader)["firestop.runbook.failures"]}
    assert counted == {(("action", "apply"), ("kind", "forbidden"), ("runbook", "keys.rotate")): 2,
                       (("action", "verify"), ("kind", "not_verified"), ("runbook", "network.lock")): 1}


def test_decision_lines_only_when_not_replaying(caplog):
    from firestop.lifecycle import observe

    entry = {"phase": "contain", "step": "lock-network", "outcome": "approved", "runbook": None, "target": None,
             "detail": "ok", "duration_s": 2.5}
    with caplog.at_level("INFO", logger="firestop.incident"):
        observe.decision(SimpleNamespace(is_replaying=True), "inc-1", entry, caller="oid-alice")
        observe.decision(SimpleNamespace(is_replaying=False), "inc-1", entry, caller="oid-alice")
    (line,) = [r.getMessage() for r in caplog.records]
    assert line == "decision incident_id=inc-1 phase=contain step=lock-network outcome=approved caller=oid-alice duration_ms=2500.0 detail=ok"
    assert caplog.records[0].caller == "oid-alice"  # the fields are the record's attributes too


def test_nothing_configured_without_a_connection_string():
    assert otel.configure({}) is None
    assert otel.configure({"FIRESTOP_OTEL_CONSOLE": "0"}) is None
    state = otel.status({})
    assert state["asked"] == "none" and state["configured"] is False
    # and in a fresh process (where nothing else touched the globals): no SDK provider installed, nothing imported
    code = ("import sys; from firestop.telemetry.start import start_telemetry; assert start_telemetry({}) is None; "
            "from opentelemetry import trace, metrics; "
            "assert not type(trace.get_tracer_provider()).__module__.startswith('opentelemetry.sdk'); "
            "assert not type(metrics.get_meter_provider()).__module__.startswith('opentelemetry.sdk'); "
            "assert not [m for m in sys.modules if m.startswith(('azure.monitor', 'opentelemetry.sdk'))]; print('ok')")
    done = subprocess.run([sys.executable, "-c", code], cwd=REPO_ROOT, capture_output=True, text=True, timeout=60,
                          env={"PATH": "/usr/bin:/bin", "HOME": "/tmp"})
    assert done.stdout.strip() == "ok", done.stderr


def test_cli_start_up_imports_no_telemetry():
    done = subprocess.run([sys.executable, "-X", "importtime", "-m", "firestop", "--help"], cwd=REPO_ROOT,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0
    imported = [line.rsplit("|", 1)[-1].strip() for line in done.stderr.splitlines() if line.startswith("import time:")]
    assert "firestop.cli.main" in imported
    assert not [m for m in imported if m.startswith(("azure.monitor", "opentelemetry", "firestop.telemetry"))]


def test_console_exporter_when_asked():
    """FIRESTOP_OTEL_CONSOLE=1: spans on stderr (a fresh process: providers are process-global)."""
    code = ("from firestop.telemetry.otel import configure, incident_outcome; print(configure({'FIRESTOP_OTEL_CONSOLE': '1'}));"
            "incident_outcome({'incident_id': 'inc-x', 'status': 'contained', 'received_at': '2026-01-01T00:00:00+00:00',"
            " 'closed_at': '2026-01-01T00:00:05+00:00', 'metrics': {'mttc_s': 4.0}, 'timeline': []})")
    done = subprocess.run([sys.executable, "-c", code], cwd=REPO_ROOT, capture_output=True, text=True, timeout=60)
    assert done.stdout.strip() == "console", done.stderr
    assert '"name": "incident"' in done.stderr and '"firestop.incident.id": "inc-x"' in done.stderr
    assert "firestop.incident.mttc" in done.stderr  # metrics flushed at exit



def test_connection_string_configures_azure_monitor_once_with_only_the_azure_sdk_instrumented(tmp_path):
    """A fresh process (providers are process-global); the ingestion endpoint is a closed loopback port, and
    retry files go under tmp_path."""
    code = """
import sys
from firestop.telemetry.otel import configure, status
env = {"APPLICATIONINSIGHTS_CONNECTION_STRING": "InstrumentationKey=00000000-0000-0000-0000-000000000000;"
       "IngestionEndpoint=http://127.0.0.1:9/;LiveEndpoint=http://127.0.0.1:9/"}
print(configure(env), configure(env), status(env)["configured"])
from opentelemetry import metrics, trace
print(type(trace.get_tracer_provider()).__module__.startswith("opentelemetry.sdk"),
      type(metrics.get_meter_provider()).__module__.startswith("opentelemetry.sdk"))
from opentelemetry.instrumentation.httpx import HTTPXClientInstrumentor
import requests
from azure.core.settings import settings
print(HTTPXClientInstrumentor().is_instrumented_by_opentelemetry, hasattr(requests.Session.send, "__wrapped__"),
      settings.tracing_implementation() is not None)
"""
    done = subprocess.run([sys.executable, "-c", code], cwd=REPO_ROOT, capture_output=True, text=True, timeout=120,
                          env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "TMPDIR": str(tmp_path)})
    lines = done.stdout.splitlines()
    assert lines[:3] == ["Azure Monitor Azure Monitor True", "True True", "False False True"], (done.stdout, done.stderr[-2000:])
