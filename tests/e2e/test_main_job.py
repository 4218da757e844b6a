"""The main job end to end: a real Azure Monitor alert in, a contained incident and a record out.

The CLI runs in-process (typer's runner) so the real SDK clients, the sandbox
transport and the local durable host all run in this process; one test runs
``python -m firestop`` as a user would.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from firestop.cli.main import app
from firestop.settings import REPO_ROOT

EXAMPLE = REPO_ROOT / "examples" / "alerts" / "leaked-key.json"
ACCOUNT = "/subscriptions/11111111-2222-3333-4444-555555555555/resourceGroups/rg-ai-prod/providers/Microsoft.CognitiveServices/accounts/contoso-openai-prod"
ALERT_DATA = Path(__file__).resolve().parents[1] / "alerts" / "data"


def run_cli(*args: str, stdin: str | None = None):
    return CliRunner().invoke(app, list(args), input=stdin, catch_exceptions=False)


def open_tenant(home: Path):
    from firestop.sandbox import Tenant

    return Tenant.open(home / "sandbox")


def test_leaked_key_alert_is_contained(firestop_home):
    seed = open_tenant(firestop_home)
    keys_before = seed.account_keys(ACCOUNT)
    secret_versions_before = len(seed.secret_versions("kv-contoso-ai", "openai-api-key"))

    result = run_cli("alert", "handle", str(EXAMPLE), "--json")
    assert result.exit_code == 0, result.output
    record = json.loads(result.stdout)
    assert record["status"] == "contained"
    assert record["playbook"]["name"] == "leaked-api-key"

    tenant = open_tenant(firestop_home)  # what another command would see
    keys_after = tenant.account_keys(ACCOUNT)
    assert keys_after["key1"] != keys_before["key1"] and keys_after["key2"] != keys_before["key2"]
    versions = tenant.secret_versions("kv-contoso-ai", "openai-api-key")
    # keys.rotate's progress marker (the value consumers already had, tagged firestop-phase=spare), then the cut-over
    assert len(versions) == secret_versions_before + 2
    assert versions[-2]["value"] == versions[-3]["value"]
    assert versions[-1]["value"] == keys_after["key2"]  # consumers cut over to the live Key2
    acls = tenant.resource(ACCOUNT)["properties"]["networkAcls"]
    assert acls["defaultAction"] == "Deny"
    assert acls["ipRules"] == [{"value": "198.51.100.0/24"}]  # the allow list is kept

    (evidence,) = record["evidence"]
    path = firestop_home / "evidence" / record["incident_id"] / evidence["path"]
    assert hashlib.sha256(path.read_bytes()).hexdigest() == evidence["sha256"]
    rows = [json.loads(line) for line in path.read_text().splitlines()]
    assert rows and evidence["rows"] == len(rows)
    assert any(r.get("CallerIPAddress") == "203.0.113.77" for r in rows)

    stored = json.loads(Path(record["record_files"]["json_path"]).read_text())
    assert stored["status"] == "contained" and stored["incident_id"] == record["incident_id"]
    assert Path(record["record_files"]["markdown_path"]).read_text().startswith(f"# Incident {record['incident_id']}")
    metrics = record["metrics"]
    assert metrics["mttd_s"] > 0 and metrics["mttc_s"] > 0
    steps = {a["step_id"]: a for a in record["actions"]}
    assert steps["rotate-keys"]["verified"] and steps["lock-network"]["verified"]
    assert steps["lock-network"]["before"]["networkAcls"]["defaultAction"] == "Allow"


def test_the_output_says_where_each_evidence_item_is_not_only_its_name(firestop_home):
    record = json.loads(run_cli("alert", "handle", str(EXAMPLE), "--json").stdout)
    (evidence,) = record["evidence"]
    path = firestop_home / "evidence" / record["incident_id"] / evidence["path"]
    assert record["record_files"]["evidence_paths"] == {evidence["path"]: str(path)}
    shown = run_cli("incident", "show", record["incident_id"])
    assert shown.exit_code == 0, shown.output
    (line,) = [line for line in shown.output.replace("\n", "").split("Evidence: ")[1:]]
    assert line.startswith(f"{path} ({evidence['rows']} rows, sha256 {evidence['sha256']})"), line


def test_parallel_containment_overlaps_in_simulated_time(firestop_home):
    record = json.loads(run_cli("alert", "handle", str(EXAMPLE), "--json").stdout)
    contain = {e["step"]: e for e in record["timeline"] if e["phase"] == "contain"}
    rotate, lock = contain["rotate-keys"], contain["lock-network"]
    # both started together after the log snapshot; the group took as long as the slower one
    assert rotate["offset_s"] - rotate["duration_s"] == pytest.approx(lock["offset_s"] - lock["duration_s"])
    assert lock["duration_s"] >= 20 > rotate["duration_s"]  # the account PATCH is a ~20 s LRO
    assert record["contained_at"] and record["metrics"]["mttc_s"] == lock["offset_s"]
    assert record["metrics"]["mttc_s"] < contain["snapshot-logs"]["duration_s"] + lock["duration_s"] + rotate["duration_s"]


def test_same_alert_again_shows_the_incident_without_acting_twice(firestop_home):
    first = json.loads(run_cli("alert", "handle", str(EXAMPLE), "--json").stdout)
    keys = open_tenant(firestop_home).account_keys(ACCOUNT)
    again = run_cli("alert", "handle", str(EXAMPLE), "--json")
    assert again.exit_code == 0
    assert json.loads(again.stdout)["incident_id"] == first["incident_id"]
    assert open_tenant(firestop_home).account_keys(ACCOUNT) == keys


def test_no_key_value_is_persisted_or_printed(firestop_home, caplog):
    caplog.set_level("DEBUG")
    outputs = [run_cli("alert", "handle", str(EXAMPLE)).output, run_cli("alert", "handle", str(EXAMPLE), "--json", "--rerun").output]
    tenant = open_tenant(firestop_home)
    secrets = tenant.issued_key_values()
    assert len(secrets) >= 6  # seed keys + two rotations of both keys
    haystacks: dict[str, bytes] = {}
    for path in firestop_home.rglob("*"):
        if path.is_file() and "sandbox" not in path.relative_to(firestop_home).parts:
            haystacks[str(path)] = path.read_bytes()
    assert any(name.endswith("durable.sqlite") for name in haystacks)
    haystacks["cli output"] = "\n".join(outputs).encode()
    haystacks["logs"] = caplog.text.encode()
    haystacks["request log"] = repr(tenant.requests).encode()
    for name, data in haystacks.items():
        for secret in secrets:
            assert secret.encode() not in data, f"a key value leaked into {name}"


def test_history_holds_fingerprints_not_keys(firestop_home):
    from firestop.cli.wiring import sandbox_environment

    record = json.loads(run_cli("alert", "handle", str(EXAMPLE), "--json").stdout)
    env = sandbox_environment()
    status = env.host.get_status(record["incident_id"], show_history=True)
    assert status.runtime_status == "Completed"
    text = json.dumps(status.history, default=str)
    assert "sha256:" in text
    for secret in env.tenant.issued_key_values():
        assert secret not in text


@pytest.mark.parametrize(
    "name", sorted(p.name for p in (ALERT_DATA / "test-actions").glob("*.json")) + ["common-schema/metric-platform-static-resolved.json"]
)
def test_every_common_schema_sample_ends_recorded(firestop_home, name):
    path = ALERT_DATA / name if "/" in name else ALERT_DATA / "test-actions" / name
    result = run_cli("alert", "handle", str(path), "--json")
    assert result.exit_code in (0, 3, 4), result.output
    assert "Traceback" not in result.output
    record = json.loads(result.stdout)
    if "resolved" in name:  # a Resolved alert never opens an incident: nothing to contain, done
        assert result.exit_code == 0 and record["status"] == "nothing_to_contain"
        assert "Resolved" in record["reason"] and not (firestop_home / "records").exists()
        return
    assert record["status"] == "no_playbook"  # none of these samples targets an Azure OpenAI account
    assert Path(record["record_files"]["json_path"]).exists()
    assert record["actions"] == []


@pytest.mark.parametrize("name", sorted(p.name for p in (ALERT_DATA / "legacy").glob("*.json")))
def test_every_legacy_sample_is_refused_with_the_fix(firestop_home, name):
    result = run_cli("alert", "handle", str(ALERT_DATA / "legacy" / name))
    assert result.exit_code == 2
    assert "common alert schema" in result.output.lower()
    assert "Traceback" not in result.output
    assert not (firestop_home / "durable.sqlite").exists()  # rejected before anything starts


def test_stdin_and_bad_input(firestop_home):
    assert run_cli("alert", "handle", "-", "--json", stdin=EXAMPLE.read_text()).exit_code == 0
    bad = run_cli("alert", "handle", "-", stdin='{"schemaId": ')
    assert bad.exit_code == 2 and "line 1" in bad.output
    missing = run_cli("alert", "handle", "nope.json")
    assert missing.exit_code == 2 and "nope.json does not exist" in missing.output


def test_persistent_fault_ends_needs_responder(firestop_home):
    from firestop.cli.incidents import handle_alert
    from firestop.cli.wiring import sandbox_environment
    from firestop.alerts import parse_alert
    from firestop.lifecycle import exit_code_for

    env = sandbox_environment()
    env.tenant.inject_fault("accounts.update", status=403, times=10)
    record, _ = handle_alert(parse_alert(EXAMPLE.read_bytes()), env=env)
    assert record["status"] == "needs_responder" and exit_code_for(record["status"]) == 3
    lock = next(a for a in record["actions"] if a["step_id"] == "lock-network")
    assert lock["error"]["kind"] == "forbidden"
    assert "Microsoft.CognitiveServices/accounts/write" in lock["error"]["message"]
    assert any("lock-network" in line for line in record["does_not_hold"])
    assert any("rotate-keys" in line for line in record["holds"])  # what holds is said too
    assert record["contained_at"] is None


def test_throttling_is_retried_after_a_durable_timer(firestop_home):
    from firestop.cli.incidents import handle_alert
    from firestop.cli.wiring import sandbox_environment
    from firestop.alerts import parse_alert

    env = sandbox_environment()
    env.tenant.inject_fault("accounts.update", status=429, retry_after=7, times=6)
    record, _ = handle_alert(parse_alert(EXAMPLE.read_bytes()), env=env)
    lock_events = [e for e in record["timeline"] if e["step"] == "lock-network"]
    assert [e["outcome"] for e in lock_events][-1] == "done"
    assert "retrying" in [e["outcome"] for e in lock_events]
    assert record["status"] == "contained"


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory) -> tuple[Path, int, str, str]:
    """``python -m firestop alert handle examples/alerts/leaked-key.json`` as a user runs it, piped (no COLUMNS), in a
    long FIRESTOP_HOME (mktemp -d, a CI workspace): ``(home, exit status, stdout, stderr)``. One child for the two
    tests below (each started its own, ~1 s of CPU); they only read what it printed and left."""
    home = tmp_path_factory.mktemp("demo") / ("h" * 60) / "firestop-home"
    env = {k: v for k, v in os.environ.items() if k != "COLUMNS"} | {"FIRESTOP_HOME": str(home)}
    proc = subprocess.run(
        [sys.executable, "-m", "firestop", "alert", "handle", str(EXAMPLE)],
        cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=120,
    )
    return home, proc.returncode, proc.stdout, proc.stderr


def test_demo_command_as_a_user_runs_it(demo_run):
    home, code, out, err = demo_run
    assert code == 0, err
    assert "contained" in out and "rotate-keys" in out and "MTTC" in out
    assert (home / "records").is_dir()


def test_piped_record_and_evidence_lines_are_never_broken_mid_path(demo_run):
    """A long FIRESTOP_HOME (mktemp -d, a CI workspace) made the piped ``Evidence:`` line pass 200 columns and rich
    broke it before the sha256, so ``grep Evidence:`` lost the hash. Paths and hashes stay on their line."""
    home, code, out, err = demo_run
    assert code == 0, err
    lines = out.splitlines()
    (evidence,) = [line for line in lines if line.startswith("Evidence: ")]
    assert len(evidence) > 200 and evidence.startswith(f"Evidence: {home}") and evidence.endswith(")"), evidence
    sha = evidence.rsplit("sha256 ", 1)[1].rstrip(")")
    assert len(sha) == 64, evidence
    (record,) = [line for line in lines if line.startswith("Record: ")]
    assert record.endswith(".md"), record
