"""``serve_process`` (tests/trust/conftest.py), which tests/cli/test_remote_parity.py and the console tests start
``firestop serve`` with, waited for its readiness line at most 30 s and timed out once under load 15+ while the serve
was merely slow (leftovers12 item 6). It now waits on the readiness line or the end of the process, whichever comes
first; its 600 s guard only bounds a hang."""

from __future__ import annotations

import pytest

from tests.trust.conftest import SERVE_HANG_GUARD_S, serve_process


def test_a_serve_that_ends_before_it_listens_fails_at_once_with_its_exit_status(tmp_path):
    with pytest.raises(pytest.fail.Exception) as failed:
        with serve_process(tmp_path / "home", "--no-such-option", function_key="k" * 40):
            pass
    said = str(failed.value)
    assert "ended (exit status 2) before it listened" in said and "no-such-option" in said, said  # not a timeout
    assert SERVE_HANG_GUARD_S >= 300  # a hang guard, not a start-time budget


def test_a_serve_that_listens_yields_its_port(tmp_path):
    with serve_process(tmp_path / "home", function_key="k" * 40) as (port, lines, _):
        assert port > 0 and lines[-1].startswith("Listening on ")
