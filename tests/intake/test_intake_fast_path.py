"""The intake hot path gives, for every corpus sample, exactly the outputs stored before it was made fast.

``fast_path_cases.py`` builds the cases and computes the outputs (the normalised alert with and without its raw
context, the routed keys and slot ids under every correlation key, the ``alert_correlated`` summary and batch,
the sealed incident input); ``data/fast-path-expected.json`` holds them as the code before the issue 18
throughput work computed them (regenerate only when an output is meant to change).
"""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

# --import-mode=importlib (pytest.ini): the helper module beside this file is loaded by path
_SPEC = importlib.util.spec_from_file_location("fast_path_cases", Path(__file__).with_name("fast_path_cases.py"))
fast_path_cases = importlib.util.module_from_spec(_SPEC)
_SPEC.loader.exec_module(fast_path_cases)
EXPECTED, _digest, cases, outputs = (fast_path_cases.EXPECTED, fast_path_cases._digest, fast_path_cases.cases,
                                     fast_path_cases.outputs)

_EXPECTED = json.loads(EXPECTED.read_text(encoding="utf-8"))
_CASES = list(cases())


def test_every_case_has_an_expectation() -> None:
    assert sorted(name for name, _ in _CASES) == sorted(_EXPECTED)
    assert len(_CASES) >= 60
    assert sum("error" in v for v in _EXPECTED.values()) >= 13  # the legacy bodies are refused


@pytest.mark.parametrize("name,body", _CASES, ids=[name for name, _ in _CASES])
def test_outputs_equal_the_stored_ones(name: str, body: bytes) -> None:
    found = outputs(body)
    if name.startswith("large/"):
        found = {k: _digest(v) for k, v in found.items()}
    assert found == _EXPECTED[name]


@pytest.mark.parametrize("name,body", _CASES, ids=[name for name, _ in _CASES])
def test_webhook_parse_gives_the_stored_outputs(name: str, body: bytes) -> None:
    """The webhook's parse (``parse_intake_alert``, no pydantic model) gives the stored outputs: the same error, or
    the same alert (its essentials aside: an IntakeAlert holds none), keys, slots, summary, batch and sealed input."""
    found = outputs(body, intake=True)
    expected = dict(_EXPECTED[name])
    if "error" in expected:
        assert found == expected
        return
    alert = found.pop("alert")
    stored = expected.pop("alert")
    if name.startswith("large/"):  # stored as digests, the alert's covering its essentials: held to the model's
        assert alert == {k: v for k, v in outputs(body)["alert"].items() if k != "essentials"}
        found = {k: _digest(v) for k, v in found.items()}
    else:
        assert alert == {k: v for k, v in stored.items() if k != "essentials"}
    assert found == expected


def test_outputs_are_computed_twice_the_same() -> None:
    """Caches on the hot path (keys, routes, slots) give what a first call gives."""
    for name, body in _CASES[:20]:
        assert outputs(body) == outputs(body), name
