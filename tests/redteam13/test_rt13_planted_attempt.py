"""RT13-03 (medium): a planted ledger entry vouched for a consumers' secret that holds no key of the account.

``keys.rotate`` / ``keys.revoke`` write the account's new key into the consumers' secret only when that secret holds
one of the account's keys — else it may be another account's (RT3-04) and overwriting it cuts that account's
consumers over to this account's key, or hands it to whoever reads that secret. The one exception: an earlier
attempt of *this* step (``_attempted_before``: an ``action``/``apply`` entry of the step on the incident's ledger)
made the secret stale itself. That entry was believed unsealed: a blob writer appended one (well chained, no seal;
incident ids are predictable, :func:`firestop.intake.correlation.slot_id`) and the rotation regenerated both keys and
overwrote the stray secret. A sealed entry copied from another incident's ledger (same playbook step id, same
account) vouched the same way.

Fixed: only an entry sealed by the app (:meth:`runbooks.ledger.Ledger.sealed`) and naming this incident vouches.
"""

from __future__ import annotations

from tests.runbooks.test_keys_allowed_vaults import DEV_ACCOUNT, INCIDENT, STEP, VAULT, run, seed, versions


def _plant(sb, incident: str = INCIDENT) -> None:
    from runbooks.ledger import Ledger

    Ledger(sb.settings.ledger_dir).append(  # the blob writer: a well-chained entry, no seal
        incident, kind="action", runbook="keys.rotate", action="apply", step_id=STEP, target=DEV_ACCOUNT,
        at="2026-12-04T10:00:00+00:00", data={"ok": False, "error": {"kind": "transient", "message": "lost"}})


def test_a_planted_attempt_does_not_vouch_for_a_stray_secret(tmp_path):
    sb = seed(tmp_path, f"{VAULT}/secrets/stray", stray=True)
    keys = sb.tenant.account_keys(DEV_ACCOUNT)
    _plant(sb)
    answer = run(sb, "keys.rotate", "apply")
    assert answer["ok"] is False and answer["error"]["kind"] == "invalid", answer  # before: ok, keys regenerated
    assert "holds neither of contoso-openai-dev's keys" in answer["error"]["message"]
    assert sb.tenant.account_keys(DEV_ACCOUNT) == keys
    assert versions(sb, "kv-contoso-ai", "stray") == ["not-a-key-of-any-account"]


def test_a_sealed_attempt_copied_from_another_incident_does_not_vouch(tmp_path):
    from runbooks.ledger import Ledger

    sb = seed(tmp_path, f"{VAULT}/secrets/stray", stray=True)
    Ledger.of(sb.settings).append("inc-earlier", kind="action", runbook="keys.rotate", action="apply", step_id=STEP,
                                  target=DEV_ACCOUNT, at="2026-12-01T10:00:00+00:00", data={"ok": True})
    store = Ledger.of(sb.settings).store
    line = store.read("inc-earlier.jsonl")
    store.append(f"{INCIDENT}.jsonl", line, at=0)  # the copy, its seal intact (naming inc-earlier)
    keys = sb.tenant.account_keys(DEV_ACCOUNT)
    answer = run(sb, "keys.rotate", "apply")
    assert answer["ok"] is False and answer["error"]["kind"] == "invalid", answer
    assert sb.tenant.account_keys(DEV_ACCOUNT) == keys
