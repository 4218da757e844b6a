"""newuser17: a malformed ``FIRESTOP_ALERTS_KEY_DIGEST`` (a typo, the alerts key itself pasted in) was accepted at
start: ``doctor`` said "every FIRESTOP_* and host setting present is valid" and ``audit run`` went on to report
``monitoring.webhook-key`` as not evaluable — while README (Settings) says every CLI command but doctor stops with
one line and exit 2 on a wrong ``FIRESTOP_*`` value, and doctor lists it. The setting now has its check (the form
``v1.<key id>.<MAC>`` of :func:`firestop.trust.alerts_key.alerts_key_digest`; an unresolved Key Vault reference is
left to the audit, which names it). Fails before: no problem listed, ``audit run`` exit 3, doctor ✔."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from firestop.cli.main import app

PASTED_KEY = "0f" * 32  # the alerts key itself, pasted where its digest belongs: never echoed back


def cli(*args: str, **env: str):
    return CliRunner().invoke(app, list(args), env={"COLUMNS": "400", **env}, catch_exceptions=False)


@pytest.mark.parametrize("value", ["nonsense", PASTED_KEY, "v1.e38d374c", "v2.e38d374c." + "A" * 43])
def test_a_malformed_digest_is_named_with_its_fix_and_not_echoed(value):
    from firestop.settings import check_environment

    problems = dict(check_environment({"FIRESTOP_ALERTS_KEY_DIGEST": value}, on_azure=False))
    assert "FIRESTOP_ALERTS_KEY_DIGEST" in problems, problems
    assert "v1.<key id>.<MAC>" in problems["FIRESTOP_ALERTS_KEY_DIGEST"]
    assert value not in problems["FIRESTOP_ALERTS_KEY_DIGEST"]


def test_a_digest_the_deployment_makes_and_a_key_vault_reference_pass():
    from firestop.settings import check_environment
    from firestop.trust.alerts_key import alerts_key_digest
    from firestop.trust.seal import SealKey

    digest = alerts_key_digest("the-alerts-key", key=SealKey("k" * 40, "test"))
    reference = "@Microsoft.KeyVault(VaultName=kv-fire;SecretName=firestop-alerts-key-digest)"
    for value in (digest, reference):
        assert not check_environment({"FIRESTOP_ALERTS_KEY_DIGEST": value}, on_azure=False)


def test_the_cli_stops_with_exit_2_and_doctor_names_it(firestop_home):
    ran = cli("audit", "run", FIRESTOP_ALERTS_KEY_DIGEST="nonsense")
    assert ran.exit_code == 2, ran.output
    assert "FIRESTOP_ALERTS_KEY_DIGEST" in ran.output and "nonsense" not in ran.output
    doctor = cli("doctor", FIRESTOP_ALERTS_KEY_DIGEST="nonsense")
    assert "FIRESTOP_ALERTS_KEY_DIGEST" in doctor.output, doctor.output
