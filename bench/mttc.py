"""MTTC benchmark on the sandbox latency model: Firestop vs the critical path vs a naive script.

Run: ``python bench/mttc.py [--json] [--what-if-polling 0.5 1]``

For the leaked-key scenario (``tabletop/scenarios/leaked-api-key.yaml``: the
shipped ``leaked-api-key`` playbook and ``examples/alerts/leaked-key.json`` on
the built-in sandbox tenant) it reports, in simulated seconds from the moment
the alert is received:

* **Firestop** — the incident's MTTC (``contained_at - received_at``) from a
  tabletop run: the real orchestrator on the local durable host, the real
  runbooks and Azure SDK clients with Firestop's client settings.
* **critical-path lower bound** — the longest chain of dependent Azure calls in
  the playbook's ``contain`` phase, from the tenant's latency table
  (each room's ``Room(latency=...)``, ``firestop/sandbox/core/latency.py``): sequential groups add, the steps of a
  ``parallel`` group take the max, and each runbook costs its chain of dependent
  calls (:data:`RUNBOOK_CHAINS`; a stage's calls are independent of each other,
  a stage needs the one before). An LRO costs its ``*.lro`` duration (counted
  from the start of the request) plus the one status poll that sees it done.
  Nothing outside the playbook counts (Firestop's analyze-phase reads do not).
* **naive responder** — a script making the same calls one after another with
  default SDK settings (real SDK clients on a fresh sandbox tenant, no
  ``polling_interval`` given: azure-mgmt's 30 s between LRO polls unless the
  service sends Retry-After).

and the ratio Firestop / lower bound (target ≤ 1.05). Then where Firestop's
time goes: the analyze phase, each contain group against its bound, each LRO's
polls (how late the poll that saw it done came) and the calls after it.
``--what-if-polling S...`` adds Firestop runs with the client factory's
``polling_interval`` set to each S (the default factory polls every 2 s).

End to end (the scenario is attack-driven, ``attack:``): from the attacker's **first malicious
request** to contained, against its floor = the rows' ingestion delay (``diagnostics.ingestion``)
+ the rule's evaluation frequency (``detect:`` of the playbook; the rule may fire up to one
period after the rows land) + the contain phase's critical path — with what Firestop adds (the
time the attacker needs to cross the threshold, the wait for the next evaluation) shown apart,
and the attacker's requests served before detection / after it / after containment.

This is a benchmark, not a test: nothing here asserts on timings.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from datetime import timedelta
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

SCENARIO = REPO / "tabletop" / "scenarios" / "leaked-api-key.yaml"
TARGET_RATIO = 1.05

#: runbook -> stages; a stage is a list of branches run concurrently, a branch a list of operations in
#: sequence (latency-table keys). Each stage depends on the one before it.
RUNBOOK_CHAINS: dict[str, list[list[list[str]]]] = {
    # one query over the incident window (the rows are the evidence)
    "evidence.snapshot_logs": [[["logs.query"]]],
    # read both keys and the consumers' secret (Key Vault answers a fresh client's first request with a 401
    # challenge) → regenerate the spare key → store its value (from the regenerate response) → regenerate the key in use
    "keys.rotate": [
        [["accounts.listKeys"], ["secrets.challenge", "secrets.get"]],
        [["accounts.regenerateKey"]],
        [["secrets.set"]],
        [["accounts.regenerateKey"]],
    ],
    # read the ACLs and etag → PATCH (LRO: done accounts.update.lro after the request starts) → one poll sees it done
    "network.lock": [[["accounts.get"]], [["accounts.update.lro"]], [["operations.get"]]],
}


# ---------------------------------------------------------------------------------------------- lower bound
def chain_seconds(runbook: str, latency: dict[str, float]) -> tuple[float, str]:
    """(seconds, explanation) of one runbook's chain of dependent calls."""
    if runbook not in RUNBOOK_CHAINS:
        raise KeyError(f"no chain model for runbook {runbook!r}; add it to RUNBOOK_CHAINS")
    total, parts = 0.0, []
    for stage in RUNBOOK_CHAINS[runbook]:
        branches = [(sum(latency[op] for op in branch), " + ".join(branch)) for branch in stage]
        cost, _ = max(branches)
        total += cost
        parts.append(" ∥ ".join(f"{text} ({sec:g})" for sec, text in branches) if len(branches) > 1 else f"{branches[0][1]} ({cost:g})")
    return total, " → ".join(parts)


def lower_bound(playbook, latency: dict[str, float]) -> dict[str, Any]:
    """The contain phase's critical path: ``{"seconds", "groups": [{"steps", "seconds", "critical", "chains"}]}``."""
    from firestop.playbooks.models import Parallel

    groups, total = [], 0.0
    for item in playbook.contain:
        members = item.parallel if isinstance(item, Parallel) else [item]
        chains = {m.id: chain_seconds(m.runbook, latency) for m in members}
        critical = max(chains, key=lambda k: chains[k][0])
        seconds = chains[critical][0]
        total += seconds
        groups.append({"steps": [m.id for m in members], "seconds": round(seconds, 3), "critical": critical,
                       "chains": {k: {"seconds": round(v[0], 3), "calls": v[1]} for k, v in chains.items()}})
    return {"seconds": round(total, 3), "groups": groups}


# ---------------------------------------------------------------------------------------------- Firestop
def firestop_run(home: Path, run_id: str, client_options: dict[str, float] | None = None) -> dict[str, Any]:
    from azure.keyvault.secrets._shared import http_challenge_cache

    from firestop.tabletop import run_scenario

    http_challenge_cache.clear()  # a fresh process: Key Vault's challenge is not cached yet
    card = run_scenario(SCENARIO, home=home, run_id=run_id, client_options=client_options)
    run_dir = Path(card["run_dir"])
    record = json.loads((run_dir / "records" / f"{card['incidents'][0]['incident_id']}.json").read_text())
    requests = json.loads((run_dir / "requests.json").read_text())
    return {"card": card, "record": record, "requests": requests}


def _t(text: str):
    from datetime import datetime

    return datetime.fromisoformat(text)


def where_time_goes(run: dict[str, Any], bound: dict[str, Any], latency: dict[str, float]) -> dict[str, Any]:
    """Firestop's MTTC split into the analyze phase and each contain group, with LRO polling detail."""
    record, requests = run["record"], run["requests"]
    received = _t(record["received_at"])
    timeline = record["timeline"]
    analyze_end = max((_t(e["at"]) for e in timeline if e["phase"] == "analyze"), default=received)
    analyze_calls = [r for r in requests if received <= _t(r["at"]) < analyze_end]
    out: dict[str, Any] = {
        "analyze": {"seconds": round((analyze_end - received).total_seconds(), 3),
                    "calls": [f"{r['operation']} ({latency.get(r['operation'], 0):g} s)" for r in analyze_calls]},
        "groups": [],
        "lros": [],
    }
    start = analyze_end
    for group in bound["groups"]:
        ends = [_t(e["at"]) for e in timeline if e["phase"] == "contain" and e["step"] in group["steps"]
                and e["outcome"] in ("done", "failed", "timed out")]
        end = max(ends) if ends else start
        seconds = round((end - start).total_seconds(), 3)
        out["groups"].append({"steps": group["steps"], "seconds": seconds, "bound": group["seconds"],
                              "slack": round(seconds - group["seconds"], 3)})
        start = end
    contained = _t(record["contained_at"]) if record.get("contained_at") else start
    for i, r in enumerate(requests):
        lro_key = f"{r['operation']}.lro"
        if r["status"] != 202 or lro_key not in latency:
            continue
        due = _t(r["at"]) + timedelta(seconds=latency[lro_key])
        polls = [p for p in requests[i + 1:] if p["operation"] == "operations.get" and _t(p["at"]) >= _t(r["at"])]
        seen = next((p for p in polls if _t(p["at"]) >= due), None)
        if seen is None:
            continue
        seen_done = _t(seen["at"]) + timedelta(seconds=latency["operations.get"])
        after = [p for p in requests if seen_done <= _t(p["at"]) < contained and p["path"].lower() == r["path"].lower()]
        out["lros"].append({
            "operation": r["operation"], "started": r["at"], "done": due.isoformat(),
            "polls": sum(1 for p in polls if _t(p["at"]) <= _t(seen["at"])),
            "seen_at": seen["at"], "late_s": round((_t(seen["at"]) - due).total_seconds(), 3),
            "calls_after": [f"{p['method']} {p['operation']} ({latency.get(p['operation'], 0):g} s)" for p in after],
        })
    return out


# ---------------------------------------------------------------------------------------------- naive script
def naive_responder() -> dict[str, Any]:
    """The same calls one after another, default SDK settings, on a fresh sandbox tenant. Returns seconds and calls."""
    import io

    from azure.keyvault.secrets import SecretClient
    from azure.keyvault.secrets._shared import http_challenge_cache
    from azure.mgmt.cognitiveservices import CognitiveServicesManagementClient
    from azure.monitor.query import LogsQueryClient

    from firestop.alerts import parse_alert
    from firestop.cli.wiring import SANDBOX_KEY_VAULT_URL, SANDBOX_LOG_WORKSPACE_ID
    from firestop.sandbox import Tenant
    from runbooks.evidence import build_query

    http_challenge_cache.clear()
    tenant = Tenant.load()
    alert = parse_alert((REPO / "examples" / "alerts" / "leaked-key.json").read_bytes())
    account = next(t for t in alert.target_ids if "/accounts/" in t.lower())
    rg = account.split("/")[4]
    name = account.rstrip("/").split("/")[-1]
    received = tenant.clock.now()
    common = {"transport": tenant.transport}  # nothing else: the SDKs' default retry and polling settings
    cs = CognitiveServicesManagementClient(tenant.credential, tenant.subscription_id, **common)
    vault = SecretClient(SANDBOX_KEY_VAULT_URL, tenant.credential, **common)
    logs = LogsQueryClient(tenant.credential, **common)

    start = received - timedelta(minutes=60)
    logs.query_workspace(SANDBOX_LOG_WORKSPACE_ID, build_query(account, start, received, 10_000), timespan=(start, received))
    keys = cs.accounts.list_keys(rg, name)
    secret = vault.get_secret("openai-api-key")
    in_use = "Key2" if secret.value == keys.key2 else "Key1"
    spare = "Key1" if in_use == "Key2" else "Key2"
    fresh = cs.accounts.regenerate_key(rg, name, key_name=spare)
    vault.set_secret("openai-api-key", getattr(fresh, spare.lower()))
    cs.accounts.regenerate_key(rg, name, key_name=in_use)
    current = cs.accounts.get(rg, name)
    acls = current.properties.network_acls
    body = {"properties": {"networkAcls": {
        "defaultAction": "Deny",
        "ipRules": [{"value": rule.value} for rule in (acls.ip_rules or [])] if acls else [],
        "virtualNetworkRules": [{"id": rule.id} for rule in (acls.virtual_network_rules or [])] if acls else [],
    }}}
    cs.accounts.begin_update(rg, name, io.BytesIO(json.dumps(body).encode()), content_type="application/json").result()
    done = tenant.clock.now()
    locked = tenant.resource(account)["properties"]["networkAcls"]["defaultAction"]
    return {"seconds": round((done - received).total_seconds(), 3), "locked": locked == "Deny",
            "calls": [f"{r.method} {r.operation} {r.status} at +{(r.at - received).total_seconds():.2f} s" for r in tenant.requests]}


def _end_to_end(card: dict[str, Any], playbook, latency: dict[str, float], bound: dict[str, Any]) -> dict[str, Any]:
    """First malicious request → contained, beside its floor (ingestion + evaluation frequency + critical path)."""
    from firestop.playbooks.detect import duration_seconds

    from firestop.tabletop import load_scenario

    d = card.get("detection") or {}
    rule = playbook.detect.scheduled_query_rules[0]
    ingestion = latency.get("diagnostics.ingestion", 120.0)
    frequency = duration_seconds(rule.evaluation_frequency)
    floor = ingestion + frequency + bound["seconds"]
    attack = next(a for a in load_scenario(SCENARIO).attack if a.malicious and a.kind == "requests")
    crossing = rule.threshold * 60.0 / attack.per_minute  # the request that makes the count exceed the threshold
    best = crossing + ingestion + bound["seconds"]
    fired = next((r for r in d.get("rules", []) if r["condition"] == "Fired"), {})
    return {
        "rule": rule.name, "ingestion_s": ingestion, "evaluation_frequency_s": frequency, "critical_path_s": bound["seconds"],
        "floor_s": round(floor, 3), "firestop_s": d.get("mttc_s"), "mttd_s": d.get("mttd_s"),
        "threshold_crossing_s": round(crossing, 3), "best_case_s": round(best, 3),
        "ratio": round(d["mttc_s"] / floor, 3) if d.get("mttc_s") else None,
        "refused_after_alert_s": (d.get("requests") or {}).get("refused_after_alert_s"),
        "requests": d.get("requests"), "why": fired.get("why"),
    }


# ---------------------------------------------------------------------------------------------- report
def measure(what_if: list[float]) -> dict[str, Any]:
    from firestop.playbooks import load_playbook
    from firestop.sandbox import Tenant
    from firestop.tabletop import load_scenario

    scenario = load_scenario(SCENARIO)
    playbook = load_playbook(scenario.playbooks_dir() / "leaked-api-key.yaml")
    latency = Tenant.load().latency
    bound = lower_bound(playbook, latency)
    with tempfile.TemporaryDirectory(prefix="firestop-bench-") as home:
        run = firestop_run(Path(home), "firestop")
        mttc = run["card"]["metrics"]["mttc_s"]
        breakdown = where_time_goes(run, bound, latency)
        variants = []
        for interval in what_if:
            alt = firestop_run(Path(home), f"poll-{interval:g}", {"polling_interval": interval})
            variants.append({"polling_interval": interval, "mttc_s": alt["card"]["metrics"]["mttc_s"],
                             "ratio": round(alt["card"]["metrics"]["mttc_s"] / bound["seconds"], 3),
                             "lros": where_time_goes(alt, bound, latency)["lros"]})
    naive = naive_responder()
    end_to_end = _end_to_end(run["card"], playbook, latency, bound)
    return {
        "end_to_end": end_to_end,
        "scenario": str(SCENARIO.relative_to(REPO)),
        "firestop_mttc_s": mttc,
        "lower_bound_s": bound["seconds"],
        "naive_s": naive["seconds"],
        "ratio": round(mttc / bound["seconds"], 3),
        "target_ratio": TARGET_RATIO,
        "met": mttc / bound["seconds"] <= TARGET_RATIO,
        "naive_ratio": round(naive["seconds"] / bound["seconds"], 3),
        "lower_bound": bound,
        "firestop": breakdown,
        "naive": naive,
        "what_if": variants,
    }


def print_report(r: dict[str, Any]) -> None:
    print(f"MTTC on the sandbox latency model — {r['scenario']} (simulated seconds after the alert is received)\n")
    print(f"  {'':36} {'seconds':>8}  {'× bound':>8}")
    print(f"  {'critical-path lower bound':36} {r['lower_bound_s']:8.2f}  {1:8.3f}")
    print(f"  {'Firestop':36} {r['firestop_mttc_s']:8.2f}  {r['ratio']:8.3f}   target ≤ {r['target_ratio']}: "
          f"{'met' if r['met'] else 'MISSED'}")
    print(f"  {'naive responder (default SDK)':36} {r['naive_s']:8.2f}  {r['naive_ratio']:8.3f}")
    for v in r["what_if"]:
        print(f"  {'Firestop, polling_interval ' + format(v['polling_interval'], 'g') + ' s':36} {v['mttc_s']:8.2f}  {v['ratio']:8.3f}")
    e = r.get("end_to_end") or {}
    if e.get("firestop_s") is not None:
        print(f"\nEnd to end — first malicious request → contained (rule {e['rule']}):\n")
        print(f"  {'':36} {'seconds':>8}  {'× floor':>8}")
        print(f"  {'floor: ingestion + frequency + path':36} {e['floor_s']:8.2f}  {1:8.3f}   "
              f"= {e['ingestion_s']:g} + {e['evaluation_frequency_s']:g} (one evaluation period, the worst wait) + {e['critical_path_s']:g}")
        print(f"  {'best case: crossing + ingestion + path':36} {e['best_case_s']:8.2f}  {e['best_case_s'] / e['floor_s']:8.3f}   "
              f"= {e['threshold_crossing_s']:g} (threshold at the attack's rate) + {e['ingestion_s']:g} + 0 wait + {e['critical_path_s']:g}")
        print(f"  {'Firestop (tabletop, attack-driven)':36} {e['firestop_s']:8.2f}  {e['ratio']:8.3f}   "
              f"MTTD {e['mttd_s']:g} s + MTTC {r['firestop_mttc_s']:g} s")
        q = e["requests"] or {}
        print(f"  attacker refused {e['refused_after_alert_s']} s after the alert was received; malicious requests served: "
              f"{q.get('served_before_detection')} before detection, {q.get('served_after_detection')} after, "
              f"{q.get('served_after_containment')} after containment")
        print(f"  why the MTTD: {e['why']}; the attacker needed time to cross the threshold, and the rule waits for its next run")
    print("\nLower bound (contain groups; ∥ = concurrent):")
    for g in r["lower_bound"]["groups"]:
        print(f"  {' ∥ '.join(g['steps'])}: {g['seconds']:g} s (critical: {g['critical']})")
        for step, chain in g["chains"].items():
            print(f"    {step}: {chain['calls']} = {chain['seconds']:g} s")
    f = r["firestop"]
    print("\nWhere Firestop's time goes:")
    print(f"  analyze phase (before any containment): {f['analyze']['seconds']:g} s — {', '.join(f['analyze']['calls']) or 'no calls'}"
          " (not in the playbook, so not in the bound)")
    for g in f["groups"]:
        print(f"  {' ∥ '.join(g['steps'])}: {g['seconds']:g} s vs bound {g['bound']:g} s (+{g['slack']:g} s)")
    for lro in f["lros"]:
        print(f"  LRO {lro['operation']}: {lro['polls']} status polls; done at {lro['done'][11:23]}, the poll that saw it at "
              f"{lro['seen_at'][11:23]} ({lro['late_s']:g} s late); then {', '.join(lro['calls_after']) or 'nothing'} before the step ended")
    for v in r["what_if"]:
        late = ", ".join(f"{x['polls']} polls, {x['late_s']:g} s late" for x in v["lros"])
        print(f"  what if polling_interval = {v['polling_interval']:g} s: MTTC {v['mttc_s']:g} s ({late})")
    print(f"\nNaive responder: {len(r['naive']['calls'])} calls one after another; network locked: {r['naive']['locked']}")
    for c in r["naive"]["calls"]:
        print(f"    {c}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    parser.add_argument("--what-if-polling", type=float, nargs="*", default=[0.5, 1.0], metavar="S",
                        help="also run Firestop with these LRO polling intervals (seconds); default 0.5 1")
    args = parser.parse_args(argv)
    report = measure(args.what_if_polling)
    if args.json:
        print(json.dumps(report, indent=2, default=str))
    else:
        print_report(report)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
