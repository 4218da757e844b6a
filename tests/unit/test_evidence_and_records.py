"""Evidence store (hashes, manifest, written once), KQL building, record rendering."""

import hashlib
import json
from datetime import datetime, timezone

import pytest

from firestop.evidence import EvidenceStore
from firestop.records import render_markdown
from runbooks.evidence import build_query, kql_string


def test_evidence_manifest_hash_matches_file_and_a_retry_keeps_the_first_collection(tmp_path):
    store = EvidenceStore(tmp_path)
    rows = [{"a": 1}, {"a": 2}]
    item = store.write_jsonl("inc-1", name="logs", rows=rows, step_id="s", collected_by="t", collected_at="now", source={"q": 1})
    data = (tmp_path / "inc-1" / item.path).read_bytes()
    assert hashlib.sha256(data).hexdigest() == item.sha256 and item.size_bytes == len(data) and item.rows == 2
    assert store.check("inc-1", item)
    again = store.write_jsonl("inc-1", name="logs", rows=rows[:1], step_id="s", collected_by="t", collected_at="later", source={})
    assert again == item  # written once: the later (e.g. post-containment) state never replaces the first
    assert (tmp_path / "inc-1" / item.path).read_bytes() == data
    manifest = store.manifest("inc-1")
    assert manifest == [item]
    (tmp_path / "inc-1" / item.path).write_text("tampered\n")
    assert not store.check("inc-1", manifest[0])


def test_kql_strings_are_escaped_not_pasted():
    assert kql_string('a"b\\c') == '"a\\"b\\\\c"'
    start = datetime(2026, 11, 29, 3, 0, tzinfo=timezone.utc)
    end = datetime(2026, 11, 29, 3, 14, tzinfo=timezone.utc)
    query = build_query('/subscriptions/x/resourceGroups/r"|drop/providers/p/t/n', start, end, 10)
    assert query.splitlines()[1] == '| where ResourceId =~ "/subscriptions/x/resourceGroups/r\\"|drop/providers/p/t/n"'
    assert "between (datetime(2026-11-29T03:00:00Z) .. datetime(2026-11-29T03:14:00Z))" in query
    with pytest.raises(ValueError):
        build_query("/x", datetime(2026, 1, 1), end, 1)


def test_record_markdown_has_metrics_timeline_and_evidence():
    record = {
        "incident_id": "inc-1",
        "status": "contained",
        "alert": {"rule_name": "r", "target_ids": ["/s/x/providers/a/b/acct"]},
        "metrics": {"mttd_s": 38.2, "mttc_s": 21.5, "mttr_s": None},
        "timeline": [{"offset_s": 1.5, "phase": "contain", "step": "lock", "target": "/a/b/acct", "outcome": "done", "detail": "x|y"}],
        "actions": [{"step_id": "lock", "runbook": "network.lock", "before": {"k": 1}, "after": {"k": 2}, "checks": [{"ok": True, "name": "c"}]}],
        "evidence": [{"path": "f.jsonl", "rows": 3, "size_bytes": 10, "sha256": "ab", "collected_at": "t"}],
    }
    text = render_markdown(record)
    assert "| 38.2 s | — | 21.5 s | — |" in text
    assert "| +1.5 s | contain | lock | acct | done | x\\|y |" in text
    assert "`ab`" in text and "✔ c" in text
    json.dumps(record)


def test_recent_activity_summary_counts_callers_and_key_operations():
    from firestop.evidence.activity import summarize_rows

    rows = [
        {"CallerIPAddress": "203.0.113.77", "Category": "RequestResponse", "ResultSignature": "200", "properties_s": '{"objectId": ""}'},
        {"CallerIPAddress": "203.0.113.77", "Category": "RequestResponse", "ResultSignature": "401", "properties_s": "{}"},
        {"CallerIPAddress": "198.51.100.10", "Category": "RequestResponse", "ResultSignature": "200", "properties_s": '{"objectId": "3f1e"}'},
        {"CallerIPAddress": "203.0.113.77", "Category": "Audit", "OperationName": "ListKey", "TimeGenerated": "t1", "properties_s": '{"objectId": "e7d9"}'},
    ]
    summary = summarize_rows(rows)
    assert summary["rows"] == 4
    assert summary["callers"][0] == {"ip": "203.0.113.77", "requests": 2, "statuses": {"200": 1, "401": 1}, "key_auth": 2}
    assert summary["callers"][1]["key_auth"] == 0
    assert summary["key_operations"] == [{"time": "t1", "operation": "ListKey", "ip": "203.0.113.77", "principal": "e7d9"}]


def test_the_markdown_timeline_is_in_time_order_as_incident_show_lists_it():
    # the leaked-key record's timeline as the orchestrator files it: step groups together, not in time order
    timeline = [
        {"offset_s": -37.8, "phase": "detect", "step": "alert fired"},
        {"offset_s": 0.0, "phase": "detect", "step": "alert received"},
        {"offset_s": 4.95, "phase": "contain", "step": "rotate-keys"},
        {"offset_s": 21.2, "phase": "contain", "step": "lock-network"},
        {"offset_s": 3.2, "phase": "contain", "step": "snapshot-logs"},
        {"offset_s": 21.6, "phase": "resolve", "step": "verify rotate-keys"},
        {"offset_s": 21.4, "phase": "resolve", "step": "verify lock-network"},
        {"offset_s": 21.2, "phase": "resolve", "step": "verify snapshot-logs"},
        {"phase": "learn", "step": "note without a time"},
    ]
    text = render_markdown({"incident_id": "inc-1", "status": "contained", "timeline": timeline})
    table = text.split("## Timeline", 1)[1].split("## Actions", 1)[0]
    steps = [line.split(" | ")[2] for line in table.splitlines() if line.startswith("| ") and not line.startswith("| offset")]
    assert steps == ["alert fired", "alert received", "note without a time", "snapshot-logs", "rotate-keys",
                     "lock-network", "verify snapshot-logs", "verify lock-network", "verify rotate-keys"]


def test_kept_evidence_is_hashed_once_and_a_planted_first_name_gives_the_second_its_hash(tmp_path, monkeypatch):
    """write_jsonl hashes the rows' bytes once (the second name and the manifest entry share the digest: a 227 KB
    snapshot was hashed twice per collection), and both still describe the bytes kept."""
    import firestop.evidence.store as evidence_store

    hashed: list[int] = []
    real = hashlib.sha256

    class Counting:
        sha256 = staticmethod(lambda data=b"": hashed.append(len(data)) or real(data))

    monkeypatch.setattr(evidence_store, "hashlib", Counting)
    store = EvidenceStore(tmp_path)
    rows = [{"a": "x" * 100}, {"a": "y"}]
    item = store.write_jsonl("inc-2", name="logs", rows=rows, step_id="s", collected_by="t", collected_at="now",
                             source={}, trusted=lambda filed: True)
    data = (tmp_path / "inc-2" / item.path).read_bytes()
    assert hashed == [len(data)]  # once, not once for the spare name and once for the manifest
    assert item.sha256 == real(data).hexdigest() and item.path == "s-logs.jsonl"
    # a planted object at the first name (not vouched for): this collection is kept under the name carrying its hash
    (tmp_path / "inc-3").mkdir()
    (tmp_path / "inc-3" / "s-logs.jsonl").write_text("planted\n")
    kept = store.write_jsonl("inc-3", name="logs", rows=rows, step_id="s", collected_by="t", collected_at="now",
                             source={}, trusted=lambda filed: False)
    assert kept.path == f"s-logs-{real(data).hexdigest()[:16]}.jsonl" and kept.sha256 == real(data).hexdigest()
    assert (tmp_path / "inc-3" / kept.path).read_bytes() == data
