"""What the Ctrl-C line says an incident is: its state in plain words, and what to do.

Session 13's note: Ctrl-C just after ``alert handle`` started an incident said "incident X is still started (its
steps run when it is resumed)" — "still started" reads as a state that lasts, and "when it is resumed" does not say
by whom. The line now says what the incident is (was started, no step run yet; running, its next step not run;
waiting for an approval; finished and how) and the command that resumes it follows.
"""

from __future__ import annotations

import pytest

from firestop.settings import REPO_ROOT

EXAMPLE = REPO_ROOT / "examples" / "alerts" / "leaked-key.json"


def test_ctrl_c_right_after_the_incident_started_says_no_step_has_run(firestop_home, monkeypatch, capsys):
    import firestop.cli.incidents

    from firestop.cli import interrupt
    from firestop.cli.main import main

    def interrupted(env, instance_id, **kwargs):
        raise interrupt.Interrupted  # SIGINT once the incident is stored, before its first episode

    monkeypatch.setattr(firestop.cli.incidents, "drive", interrupted)
    monkeypatch.setattr(interrupt, "install", lambda: None)  # pytest keeps its own SIGINT handler
    with pytest.raises(SystemExit) as ended:
        main(["alert", "handle", str(EXAMPLE)])
    assert ended.value.code == 130
    said = " ".join(capsys.readouterr().err.split())
    assert "is still started" not in said and "when it is resumed" not in said, said
    assert said.startswith("error: interrupted — nothing further was changed; incident inc-"), said
    assert said.endswith(" was started and no step has run yet (resuming runs its steps); "
                         f"resume with: python -m firestop alert handle {EXAMPLE}"), said


@pytest.mark.parametrize("runtime, custom, words", [
    ("Running", None, "is running, its next step not yet run (resuming runs it)"),
    ("Running", {"pending_approval": {"step": "rotate-keys"}}, "is still waiting for approval of step rotate-keys"),
])
def test_the_line_names_the_state_with_its_verb(runtime, custom, words):
    from types import SimpleNamespace

    from firestop.cli import interrupt
    from firestop.cli.incidents import state_words

    interrupt.forget()
    try:
        interrupt.about(incident_id="inc-1", state=state_words(SimpleNamespace(runtime_status=runtime, custom_status=custom)),
                        resume="python -m firestop alert handle a.json")
        assert interrupt.line() == (f"interrupted — nothing further was changed; incident inc-1 {words}; "
                                    "resume with: python -m firestop alert handle a.json")
    finally:
        interrupt.forget()
