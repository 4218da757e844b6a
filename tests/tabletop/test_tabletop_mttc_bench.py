"""bench/mttc.py: the critical-path lower bound and the naive responder it compares Firestop with."""

from __future__ import annotations

import importlib.util

import pytest

from firestop.settings import REPO_ROOT


@pytest.fixture(scope="module")
def bench():
    spec = importlib.util.spec_from_file_location("bench_mttc", REPO_ROOT / "bench" / "mttc.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def playbook():
    from firestop.playbooks import load_playbook

    return load_playbook(REPO_ROOT / "playbooks" / "leaked-api-key.yaml")


def test_lower_bound_adds_groups_and_takes_the_longest_parallel_chain(bench, playbook):
    from firestop.sandbox.core.latency import default_latency

    L = default_latency()

    bound = bench.lower_bound(playbook, dict(L))
    lock = L["accounts.get"] + L["accounts.update.lro"] + L["operations.get"]
    rotate = max(L["accounts.listKeys"], L["secrets.challenge"] + L["secrets.get"]) + 2 * L["accounts.regenerateKey"] + L["secrets.set"]
    # one parallel group since detect13: the evidence snapshot runs beside the containment, not before it
    assert bound["seconds"] == pytest.approx(max(L["logs.query"], lock, rotate))
    assert [g["critical"] for g in bound["groups"]] == ["lock-network"]
    fast_lro = bench.lower_bound(playbook, {**L, "accounts.update.lro": 1.0})
    assert fast_lro["groups"][0]["critical"] == "rotate-keys"
    assert fast_lro["seconds"] == pytest.approx(max(L["logs.query"], rotate))


def test_a_runbook_without_a_chain_model_is_named(bench):
    with pytest.raises(KeyError, match="network.block_ips"):
        bench.chain_seconds("network.block_ips", {})


def test_naive_responder_contains_and_waits_the_default_polling(bench, playbook):
    from firestop.sandbox.core.latency import default_latency

    L = default_latency()

    naive = bench.naive_responder()
    assert naive["locked"] is True
    assert naive["seconds"] >= bench.lower_bound(playbook, dict(L))["seconds"]
    assert sum("operations.get" in c for c in naive["calls"]) >= 2  # polled the PATCH's LRO at the SDK's default pace


def test_end_to_end_floor_adds_ingestion_frequency_and_the_critical_path(bench, playbook):
    from firestop.sandbox.core.latency import default_latency

    L = default_latency()
    bound = bench.lower_bound(playbook, dict(L))
    card = {"detection": {"mttc_s": 190.0, "mttd_s": 170.0, "requests": {"refused_after_alert_s": 4.5}, "rules": []}}
    e = bench._end_to_end(card, playbook, dict(L), bound)
    assert e["floor_s"] == pytest.approx(L["diagnostics.ingestion"] + 60 + bound["seconds"])
    assert e["best_case_s"] == pytest.approx(30 + L["diagnostics.ingestion"] + bound["seconds"])  # 20 / (40 per minute)
    assert e["ratio"] == pytest.approx(190.0 / e["floor_s"], abs=1e-3)
