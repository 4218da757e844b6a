"""The leak test for issue 15's runbooks: after plan/apply/verify/undo of each (and failures), no key value the
tenant ever issued (Azure OpenAI keys, APIM subscription keys) appears in any answer, log line, ledger or marker."""

from __future__ import annotations

import json

from tests.runbooks.narrow_cases import CASES, IRREVERSIBLE


def test_no_key_value_leaks_from_the_narrow_runbooks(sandbox, caplog):
    caplog.set_level("DEBUG")
    answers = []
    for name, case in sorted({**CASES, **IRREVERSIBLE}.items()):
        case.get("prepare", lambda t: None)(sandbox.tenant)
        run = lambda action, **kw: sandbox.run(name, action, target=case["target"], params=case["params"], step_id=name, **kw)  # noqa: E731
        answers.append(run("plan"))
        applied = run("apply")
        answers.append(applied)
        assert applied["ok"], applied
        answers.append(run("verify", applied=applied["result"]))
        answers.append(run("undo", applied=applied["result"]))
    sandbox.tenant.inject_fault("apimSubscriptions.regeneratePrimaryKey", status=500, times=10)
    answers.append(sandbox.run("apim.regenerate_subscription_key", "apply", target=IRREVERSIBLE["apim.regenerate_subscription_key"]["target"],
                               params={"subscription": "partner-acme"}, step_id="failing"))
    assert not answers[-1]["ok"]
    secrets = sandbox.tenant.issued_key_values()
    assert len(secrets) >= 2 + 2 + 6 + 2  # account keys, APIM keys of three subscriptions, the regenerated ones
    haystacks = {"answers": json.dumps(answers), "log": caplog.text}
    for path in (sandbox.settings.home).rglob("*"):
        if path.is_file():
            haystacks[str(path)] = path.read_text(errors="replace")
    assert any("ledger" in k for k in haystacks)
    assert "sha256:" in haystacks["answers"]  # APIM keys appear as fingerprints
    for where, text in haystacks.items():
        for secret in secrets:
            assert secret not in text, f"a key value leaked into {where}"
