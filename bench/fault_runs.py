"""Leaked-key runs under random faults: how often does a contained incident end needs_responder, and is a
before-state ever lost?

Run: ``python bench/fault_runs.py [--runs 100] [--rate 0.2] [--json]``

Each run is the shipped ``leaked-api-key`` tabletop scenario (the real orchestrator on the local durable
host, the real runbooks and Azure SDK clients on a fresh sandbox tenant) with
``faults.random: {rate, seed: <run number>, statuses: [429, 500, 503]}`` on every operation. Per run:

* **contained in fact** — read from the sandbox's request log, not from Firestop's verdict: both keys
  regenerated (two ``accounts.regenerateKey`` answered 200) and the network lock's PATCH accepted
  (``accounts.update`` answered 2xx; the LRO itself is not faulted here);
* **needs_responder although contained** — the record says ``needs_responder`` while the tenant is contained
  (the figure issue 15 asks for: goal ≤ 2 of 100; 17 of 100 before verification retried transient errors);
* **before-state lost** — a recorded ``before`` that is not the seed's: ``rotate-keys`` must name the seed's
  key fingerprints, ``lock-network`` the seed's ``networkAcls`` (goal 0).

This is a benchmark: it prints counts and asserts nothing. ``tests/tabletop`` runs a few seeds.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

SCENARIO = REPO / "tabletop" / "scenarios" / "leaked-api-key.yaml"
ACCOUNT = ("/subscriptions/11111111-2222-3333-4444-555555555555/resourceGroups/rg-ai-prod/providers/"
           "Microsoft.CognitiveServices/accounts/contoso-openai-prod")


def seed_truth() -> dict[str, Any]:
    """The seed's key fingerprints and networkAcls of the prod account (what before-states must say)."""
    from firestop.sandbox import Tenant
    from runbooks.base import fingerprint

    tenant = Tenant.load()
    keys = tenant.account_keys(ACCOUNT)
    return {"key1": fingerprint(keys["key1"]), "key2": fingerprint(keys["key2"]),
            "networkAcls": tenant.resource(ACCOUNT)["properties"]["networkAcls"]}


def scenario(rate: float, seed: int):
    from firestop.tabletop.models import load_scenario

    base = load_scenario(SCENARIO)
    faults = base.faults.model_validate({"random": {"rate": rate, "seed": seed, "statuses": [429, 500, 503]}})
    return base.model_copy(update={"faults": faults})


def one_run(home: Path, rate: float, seed: int, truth: dict[str, Any]) -> dict[str, Any]:
    from azure.keyvault.secrets._shared import http_challenge_cache

    from firestop.tabletop import run_scenario

    http_challenge_cache.clear()
    card = run_scenario(scenario(rate, seed), home=home, run_id=f"faults-{seed}")
    run_dir = Path(card["run_dir"])
    record = json.loads((run_dir / "records" / f"{card['incidents'][0]['incident_id']}.json").read_text())
    requests = json.loads((run_dir / "requests.json").read_text())
    regenerated = sum(1 for r in requests if r.get("operation") == "accounts.regenerateKey" and r.get("status") == 200)
    locked = any(r.get("operation") == "accounts.update" and 200 <= int(r.get("status") or 0) < 300 and "contoso-openai-prod" in r.get("path", "")
                 for r in requests)
    lost = []
    for action in record.get("actions") or []:
        before = action.get("before") or {}
        if action.get("step_id") == "rotate-keys" and before and (before.get("key1"), before.get("key2")) != (truth["key1"], truth["key2"]):
            lost.append("rotate-keys")
        if action.get("step_id") == "lock-network" and before and before.get("networkAcls") != truth["networkAcls"]:
            lost.append("lock-network")
    return {"seed": seed, "status": record["status"], "contained_in_fact": regenerated >= 2 and locked,
            "faults": len(card.get("faults") or []), "before_lost": lost,
            "does_not_hold": record.get("does_not_hold") or []}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=100)
    parser.add_argument("--rate", type=float, default=0.2)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    truth = seed_truth()
    runs = []
    with tempfile.TemporaryDirectory() as home:
        for seed in range(args.runs):
            runs.append(one_run(Path(home), args.rate, seed, truth))
    false_alarms = [r for r in runs if r["status"] == "needs_responder" and r["contained_in_fact"]]
    summary = {
        "runs": len(runs), "fault_rate": args.rate,
        "contained": sum(r["status"] == "contained" for r in runs),
        "contained_in_fact": sum(r["contained_in_fact"] for r in runs),
        "needs_responder_although_contained": len(false_alarms),
        "before_states_lost": sum(len(r["before_lost"]) for r in runs),
        "examples": [{"seed": r["seed"], "does_not_hold": r["does_not_hold"][:2]} for r in false_alarms[:5]],
    }
    if args.json:
        print(json.dumps({"summary": summary, "runs": runs}, indent=2))
        return
    print(f"{summary['runs']} leaked-key runs at {args.rate:.0%} random faults (429/500/503, every operation)")
    print(f"  contained (record):                   {summary['contained']}")
    print(f"  contained in fact (request log):      {summary['contained_in_fact']}")
    print(f"  needs_responder although contained:   {summary['needs_responder_although_contained']}   (goal ≤ 2)")
    print(f"  before-states lost:                   {summary['before_states_lost']}   (goal 0)")
    for example in summary["examples"]:
        print(f"    seed {example['seed']}: {example['does_not_hold']}")


if __name__ == "__main__":
    main()
