"""cli17: Ctrl-C during ``runbook run`` said "incident manual-<day> holds what its ledger says was applied; resume
with: the same runbook run again" — ``manual-<day>`` is the day's ledger, not an incident a responder can look up,
and the line named neither the run, what it applied, nor how to undo it. The line names the manual run's id, what
its apply did, the exact command that runs it again and the one that undoes it (fails before: "incident
manual-…", no run id, no undo command)."""

from __future__ import annotations

import shlex

import pytest

from tests.e2e.test_cli_interrupt import PROD


def _interrupted(monkeypatch, capsys, *, during: str) -> str:
    import runbooks.network as network

    from firestop.cli import interrupt
    from firestop.cli.main import main

    original = network.LockNetwork.apply

    def apply(self, *args, **kwargs):
        answer = original(self, *args, **kwargs)
        if during == "apply":  # a Ctrl-C held while the change is in flight: taken once it is recorded
            interrupt._held = True
        return answer

    def verify(self, *args, **kwargs):
        raise interrupt.Interrupted  # Ctrl-C while verifying

    monkeypatch.setattr(network.LockNetwork, "apply", apply)
    if during == "verify":
        monkeypatch.setattr(network.LockNetwork, "verify", verify)
    monkeypatch.setattr(interrupt, "install", lambda: None)  # pytest keeps its own SIGINT handler
    monkeypatch.setattr(interrupt.signal, "getsignal", lambda signum: interrupt._raise)  # as if install()'s were in place
    monkeypatch.setattr(interrupt.signal, "signal", lambda signum, handler: None)
    with pytest.raises(SystemExit) as ended:
        main(["runbook", "run", "network.lock", "--target", PROD, "--yes"])
    assert ended.value.code == 130
    return " ".join(capsys.readouterr().err.split())


@pytest.mark.parametrize("during", ["apply", "verify"])
def test_the_line_names_the_run_what_it_applied_and_how_to_undo_it(firestop_home, monkeypatch, capsys, during):
    said = _interrupted(monkeypatch, capsys, during=during)
    assert "incident manual-" not in said, said
    run_id = said.split("manual run ", 1)[1].split(" ", 1)[0]
    assert run_id.startswith("manual-") and "/cli-run-" in run_id, said
    assert (f"manual run {run_id} applied network.lock to contoso-openai-prod (" in said
            and f"and was not verified; undo with: python -m firestop runbook undo {run_id}" in said), said
    assert f"resume with: python -m firestop runbook run network.lock --target {shlex.quote(PROD)} --yes" in said, said
    if during == "apply":
        assert said.startswith("error: interrupted — the change in progress was finished and recorded in the ledger"), said
