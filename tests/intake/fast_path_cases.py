"""The intake hot path's outputs for every corpus sample, as stored expectations (``data/fast-path-expected.json``).

What ``POST /api/alerts`` computes per alert before it talks to the Durable store (``bench/intake.py``
throughput): ``parse_alert`` (with and without the raw context), the routed correlation keys and slot ids under
every correlation key, the ``alert_correlated`` summary and batch, and the new incident's input sealed with
HMAC-SHA256. ``test_intake_fast_path.py`` holds the current code's outputs equal to the stored ones, so a
faster path must give the same normalised alert, keys and sealed input byte for byte (the seal covers the
canonical JSON's digest).

Cases: every common-schema body of ``tests/alerts/data`` (corpus, legacy bodies: their errors), every
``examples/alerts`` body, the Defender / Sentinel samples of ``tests/alerts/samples``, each
``context-fragments`` context in a common-schema envelope (monitoring service named for the fragment), a
few variants (mixed-case targets, Resolved, routed by custom property, no targets) and the bench's
256 KB log alert V1 (its outputs stored as SHA-256 digests).

Regenerate ONLY when an output is meant to change (and say so in the commit); the full alert
(raw context kept) and the batch are stored as SHA-256 digests of their sorted JSON:
``python tests/intake/fast_path_cases.py --write``.
"""

from __future__ import annotations

import copy
import hashlib
import json
import sys
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterator

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:  # run as a script
    sys.path.insert(0, str(ROOT))

from firestop.alerts import MAX_PAYLOAD_BYTES, AlertPayloadError, parse_alert  # noqa: E402
from firestop.intake.correlation import CorrelationKey, alert_keys, slot_id  # noqa: E402
from firestop.intake.events import alert_summary, correlated_batch  # noqa: E402
from firestop.lifecycle.start import incident_input  # noqa: E402
from firestop.trust.seal import Purpose, SealKey, seal  # noqa: E402

EXPECTED = Path(__file__).resolve().parent / "data" / "fast-path-expected.json"
DATA = ROOT / "tests" / "alerts" / "data"
NOW = datetime(2026, 11, 29, 3, 20, tzinfo=timezone.utc)
KEY = SealKey("fast-path-test-" + "k" * 40, "test")
_FRAGMENT_SERVICES = {
    "activitylog-administrative": "Activity Log - Administrative",
    "activitylog-autoscale": "Activity Log - Autoscale",
    "activitylog-policy": "Activity Log - Policy",
    "activitylog-resourcehealth": "Resource Health",
    "activitylog-security": "Activity Log - Security",
    "activitylog-servicehealth": "ServiceHealth",
    "log-alerts-v2": "Log Alerts V2",
    "log-search-v1": "Log Analytics",
    "metric-platform": "Platform",
    "prometheus": "Prometheus",
    "simple-log-alert": "Log Alerts V2",
}


def large_body() -> dict[str, Any]:
    """The bench's worst case (``bench/intake.py`` ``large_base``, built by the bench's own code): a log alert V1
    whose SearchResults fill the payload to just under 256 KB, one CallerIPAddress per row."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("bench_intake", ROOT / "bench" / "intake.py")
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    return bench.large_base()


def cases() -> Iterator[tuple[str, bytes]]:
    """(name, body bytes) for every case (see the module docstring), in a fixed order."""
    for folder in ("common-schema", "test-actions", "legacy"):
        for path in sorted((DATA / folder).glob("*.json")):
            yield f"{folder}/{path.name}", path.read_bytes()
    for path in sorted((ROOT / "examples" / "alerts").glob("*.json")):
        yield f"examples/{path.name}", path.read_bytes()
    for path in sorted((ROOT / "tests" / "alerts" / "samples").rglob("*.json")):
        yield f"samples/{path.relative_to(ROOT / 'tests' / 'alerts' / 'samples')}", path.read_bytes()
    base = json.loads((DATA / "common-schema" / "metric-platform-static-resolved.json").read_text(encoding="utf-8"))
    for path in sorted((DATA / "context-fragments").glob("*.json")):
        body = copy.deepcopy(base)
        service = next(v for k, v in _FRAGMENT_SERVICES.items() if path.name.startswith(k))
        body["data"]["essentials"]["monitoringService"] = service
        body["data"]["essentials"]["monitorCondition"] = "Fired"
        body["data"]["alertContext"] = json.loads(path.read_text(encoding="utf-8"))
        yield f"fragment/{path.name}", json.dumps(body).encode()
    leaked = json.loads((ROOT / "examples" / "alerts" / "leaked-key.json").read_text(encoding="utf-8"))
    variants: list[tuple[str, Any]] = [
        ("mixed-case-targets", lambda e, b: e.update(alertTargetIDs=[t.upper() for t in e["alertTargetIDs"]] + [e["alertTargetIDs"][0]])),
        ("resolved", lambda e, b: e.update(monitorCondition="Resolved", resolvedDateTime="2026-11-29T03:30:00.5Z")),
        ("no-targets", lambda e, b: e.update(alertTargetIDs=None)),
        ("routed-mixed-case-property", lambda e, b: b["data"].update(customProperties={"Firestop-Playbook": " Rotate-Keys ", "n": 3})),
        ("unicode-rule", lambda e, b: e.update(alertRule="rég\u00e9 \u2014 \U0001f525 <b>*x*</b>", description="d\u00e9j\u00e0\n\u007f")),
        ("severity-number", lambda e, b: e.update(severity=2, firedDateTime="2026-11-29T03:10:00+01:00")),
    ]
    for name, change in variants:
        body = copy.deepcopy(leaked)
        change(body["data"]["essentials"], body)
        yield f"variant/{name}", json.dumps(body, ensure_ascii=False).encode()
    yield "large/log-alert-v1-256kb", json.dumps(large_body()).encode()


def _digest(value: Any) -> str:
    return hashlib.sha256(json.dumps(value, sort_keys=True, ensure_ascii=True).encode()).hexdigest()


def outputs(body: bytes, *, intake: bool = False) -> dict[str, Any]:
    """What the hot path computes for ``body`` (JSON-ready): the parse error, or the alert (lean and full),
    the keys and slots per correlation key, the correlated summary/batch and the sealed incident input.

    ``intake``: the webhook's own parse (``parse_intake_alert``: an IntakeAlert, no pydantic model) instead of
    ``parse_alert(keep_context=False)``; its ``alert`` has no ``essentials`` (the IntakeAlert holds none)."""
    from firestop.alerts.alert import alert_input_json
    from firestop.alerts.parse import parse_intake_alert

    try:
        lean = parse_intake_alert(body) if intake else parse_alert(body, keep_context=False)
    except AlertPayloadError as exc:
        return {"error": {"status": exc.http_status, "field": exc.field, "reason": exc.reason, "fix": exc.fix}}
    full = parse_alert(body)
    keys = {k.value: alert_keys(lean, k) for k in CorrelationKey}
    slots = {k: [slot_id(x) for x in v] for k, v in keys.items()}
    incident = slots["resource"][0] if slots["resource"] else lean.incident_key
    summary = alert_summary(lean, received_at=NOW)
    return {
        "alert": {**alert_input_json(lean), "context": lean.context} if intake else lean.model_dump(mode="json"),
        "full_alert_digest": _digest(full.model_dump(mode="json")),
        "keys": keys,
        "slots": slots,
        "summary": summary,
        "batch_digest": _digest(correlated_batch([summary, summary])),
        "sealed_input": seal(Purpose.INCIDENT, incident_input(lean, received_at=NOW, sandbox=False, incident_id=incident),
                             binding=incident, key=KEY),
    }


def all_outputs() -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, body in cases():
        found = outputs(body)
        if name.startswith("large/"):  # 256 KB of context: digests only
            found = {k: _digest(v) for k, v in found.items()}
        out[name] = found
    return out


if __name__ == "__main__":
    if sys.argv[1:] != ["--write"]:
        raise SystemExit("usage: python tests/intake/fast_path_cases.py --write  (regenerates the expectations)")
    EXPECTED.parent.mkdir(parents=True, exist_ok=True)
    EXPECTED.write_text(json.dumps(all_outputs(), indent=1, sort_keys=True, ensure_ascii=True) + "\n", encoding="utf-8")
    print(f"wrote {EXPECTED}")
