"""Steps Firestop adds itself (the record's filing, pages): their ``with`` is the record or a page's text, handed to
the runbook as is — not a playbook's parameters, whose ``${{ }}`` templates are checked when a playbook loads."""

from __future__ import annotations

from .conftest import LOCK, playbook

TEMPLATED = "aoai-leaked-key-usage ${{ bogus.x }}"  # an alert rule's name: outside text, anything its author chose


def test_an_alert_text_that_looks_like_a_template_does_not_stop_the_record(lab):
    """Before: the filing step was validated as a playbook step, its ``with`` (the record, which carries the alert
    rule's name) checked for templates: ``unknown name 'bogus'``, the incident failed in learn and no record was
    filed after containment had acted."""
    iid = lab.start(playbook(LOCK), alert=lab.alert(alertRule=TEMPLATED))
    done = lab.run(iid, advance_timers=True)
    assert done.runtime_status == "Completed", done.output
    assert done.output["status"] == "contained"
    assert done.output["alert"]["rule_name"] == TEMPLATED
    assert done.output["record_files"], done.output.get("record_error")
    assert [e["outcome"] for e in done.output["timeline"] if e["step"] == "file record"] == ["ok"]
