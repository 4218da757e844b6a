"""``digest(..., leaves_plain=True)`` / ``seal(..., leaves_plain=True)`` (mix25): the leaf check skipped for a
document its caller built from str / int / bool / None leaves — the same digest for such a document, the
promise true of every incident input intake seals, and a broken promise never verified."""

from __future__ import annotations

import json
import uuid
from datetime import datetime, timezone
from enum import Enum, IntEnum, StrEnum
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from firestop import seal_contract
from firestop.alerts.parse import parse_intake_alert
from firestop.lifecycle.start import incident_input
from firestop.seal_contract import digest
from firestop.trust.seal import Purpose, SealKey, seal, verify

KEY = SealKey("test-" + "k" * 40, "test")
NOW = datetime(2026, 11, 29, 3, 20, tzinfo=timezone.utc)
ROOT = Path(__file__).resolve().parents[2]
CORPUS = sorted((ROOT / "tests" / "alerts" / "data" / "common-schema").glob("*.json")) + sorted(
    (ROOT / "tests" / "alerts" / "data" / "test-actions").glob("*.json")) + [ROOT / "examples" / "alerts" / "leaked-key.json"]
#: Every example alert (Azure Monitor, Defender for Cloud, Sentinel shapes), for the promise's corpus test.
EXAMPLES = sorted((ROOT / "examples" / "alerts").glob("*.json"))


def _definition(doc) -> str:
    """The canonical form as defined (seal_contract's module docstring): round trip, sorted ASCII dump."""
    if isinstance(doc, dict):
        doc = {k: v for k, v in doc.items() if k != "seal"}
    return json.dumps(json.loads(json.dumps(doc)), sort_keys=True, separators=(",", ":"), ensure_ascii=True)


_TEXT = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=12)
_PLAIN_LEAF = st.one_of(_TEXT, st.integers(min_value=-2**70, max_value=2**70), st.booleans(), st.none())
_PLAIN_DOC = st.recursive(_PLAIN_LEAF, lambda inner: st.one_of(
    st.lists(inner, max_size=5), st.lists(inner, max_size=5).map(tuple),
    st.dictionaries(_TEXT, inner, max_size=5)), max_leaves=20)


@settings(max_examples=80, deadline=None)
@given(st.dictionaries(_TEXT, _PLAIN_DOC, max_size=6))
def test_a_kept_promise_changes_nothing(doc) -> None:
    """Plain leaves (non-ASCII, lone-surrogate-free text, integers past 64 bits, tuples): the same digest and
    seal with and without the promise, and the digest is the definition's."""
    expected = digest(doc)
    assert digest(doc, leaves_plain=True) == expected
    assert seal_contract.hashlib.sha256(_definition(doc).encode("ascii")).hexdigest() == expected
    sealed = seal(Purpose.INCIDENT, doc, binding="inc-1", key=KEY, leaves_plain=True)
    assert sealed == seal(Purpose.INCIDENT, doc, binding="inc-1", key=KEY)
    assert verify(Purpose.INCIDENT, sealed, binding="inc-1", key=KEY) == (True, "sealed by this app")
    # Durable history round-trips the input through Python's json: the orchestrator's digest is the same
    assert verify(Purpose.INCIDENT, json.loads(json.dumps(sealed)), binding="inc-1", key=KEY)[0]


class Colour(StrEnum):
    RED = "red"


class Level(IntEnum):
    HIGH = 3


class Plain(Enum):
    ONE = 1


@given(st.sampled_from([0.1, 2.5, -0.0, 1e16, 1e-7, 5e-324, float("nan"), float("inf"), float("-inf"),
                        Colour.RED, Level.HIGH, Plain.ONE, uuid.UUID(int=7), "plain"]),
       st.sampled_from(["top", "nested", "listed"]))
@settings(max_examples=60, deadline=None)
def test_a_broken_promise_never_verifies_another_form(leaf, where) -> None:
    """A float, enum member or UUID inside despite the promise: the seal verifies exactly when the bytes it
    covered are the document's canonical bytes (never a seal over another form of the same document); a
    ``str``/``int`` subclass still takes the exact path. What a verifier checks is the document as Durable
    history holds it (JSON round trip; a value JSON cannot carry cannot be started at all)."""
    doc = {"top": leaf, "rest": "x"} if where == "top" else (
        {"a": {"b": [1, leaf]}, "resolved_at": None} if where == "nested" else {"a": [[leaf], None]})
    sealed = seal(Purpose.INCIDENT, doc, binding="inc-1", key=KEY, leaves_plain=True)
    try:
        stored = json.loads(json.dumps(sealed))
    except TypeError:  # a UUID or a plain Enum member: no orchestration can be started with it
        assert isinstance(leaf, (uuid.UUID, Plain))
        return
    ok, _ = verify(Purpose.INCIDENT, stored, binding="inc-1", key=KEY)
    unsealed = {k: v for k, v in sealed.items() if k != "seal"}
    covered = seal_contract.orjson.dumps(unsealed, option=seal_contract.orjson.OPT_SORT_KEYS)
    same_bytes = covered == _definition(unsealed).encode()
    if isinstance(leaf, (Colour, Level)) or leaf == "plain":  # refused by orjson's checked pass: the exact path
        assert ok
    else:
        assert ok == same_bytes
    if ok:
        assert sealed["seal"] == seal(Purpose.INCIDENT, doc, binding="inc-1", key=KEY)["seal"]


def _bodies():
    for path in [*CORPUS, *EXAMPLES]:
        yield path.name, json.loads(path.read_text(encoding="utf-8"))


def test_the_promise_holds_for_every_corpus_incident_input() -> None:
    """What intake seals with the promise: incident_input of the webhook's parse (common schema, Defender for Cloud,
    Sentinel), every option on."""
    for name, body in _bodies():
        alert = parse_intake_alert(json.dumps(body).encode())
        for options in ({}, {"part_of": "inc-0", "follows": "inc-9", "source_check": True}):
            doc = incident_input(alert, received_at=NOW, sandbox=True, incident_id="inc-1",
                                 **options)
            assert seal_contract._plain_leaves(doc), name
            assert digest(doc, leaves_plain=True) == digest(doc), name


_VALUE = st.recursive(st.one_of(_TEXT, st.integers(), st.floats(allow_nan=True), st.booleans(), st.none()),
                      lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(_TEXT, inner, max_size=4)),
                      max_leaves=12)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(CORPUS), st.dictionaries(_TEXT, _VALUE, max_size=4), _VALUE, _VALUE,
       st.lists(st.one_of(_TEXT, st.sampled_from(["203.0.113.7", "10.0.0.1:443", "[2001:db8::1]:80"])), max_size=130))
def test_the_promise_holds_whatever_the_sender_put_in_the_alert(path, custom, severity, context_value, ips) -> None:
    """Floats, NaN, nested objects and numbers in custom properties, the severity and the context (the parse
    refuses or normalises them): every incident input of an alert the webhook takes has plain leaves."""
    body = json.loads(path.read_text(encoding="utf-8"))
    data = body["data"]
    data["customProperties"] = custom
    data["essentials"]["severity"] = severity
    context = data.setdefault("alertContext", {}) or {}
    data["alertContext"] = context
    context["extra"] = context_value
    context["Dimensions"] = [{"name": "CallerIPAddress", "value": ip} for ip in ips]
    try:
        alert = parse_intake_alert(json.dumps(body).encode())
    except Exception as exc:  # noqa: BLE001 - a refusal (AlertPayloadError): nothing sealed
        assert type(exc).__name__ == "AlertPayloadError"
        return
    doc = incident_input(alert, received_at=NOW, sandbox=False, incident_id="inc-1")
    assert seal_contract._plain_leaves(doc)
    assert digest(doc, leaves_plain=True) == digest(doc)
