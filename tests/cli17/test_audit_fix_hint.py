"""cli17: ``audit fix BADID`` answered only "'BADID' is not an audit id (audit-<time>-<4 hex>)" where ``audit show
BADID`` also said the latest id and the command with it. Both now give the same hint — where ids come from (audit
run prints them) and an example with the latest — each with its own verb (fails before: no hint on fix)."""

from __future__ import annotations

from typer.testing import CliRunner

from firestop.cli.main import app


def cli(*args: str):
    return CliRunner().invoke(app, list(args), env={"COLUMNS": "400"}, catch_exceptions=False)


def test_fix_and_show_give_the_same_hint(firestop_home):
    none_yet = cli("audit", "fix", "BADID")
    assert none_yet.exit_code == 2 and "no audit is stored yet; run one: python -m firestop audit run" in none_yet.output
    cli("audit", "run")
    from firestop.audit import store
    from firestop.settings import Settings

    latest = store.stored_ids(store.records_store(Settings.from_env()))[0]
    for verb in ("fix", "show"):
        said = " ".join(cli("audit", verb, "BADID").output.split())
        assert said == (f"error: AUDIT_ID: 'BADID' is not an audit id (audit-<time>-<4 hex>); audit run prints each audit's "
                        f"id; the latest is {latest}: python -m firestop audit {verb} {latest} (or omit AUDIT_ID for it)"), said
    unknown = cli("audit", "fix", "audit-20200101T000000Z-abcd")
    assert unknown.exit_code == 2 and "no stored audit audit-20200101T000000Z-abcd in " in unknown.output
