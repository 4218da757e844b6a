"""doctor's ``route roles`` check reads the routes' declarations (firestop.trust.route_roles), as serve prints them."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from firestop.cli.main import app


def test_doctor_reports_every_peoples_route_with_its_declared_role(firestop_home):
    result = CliRunner().invoke(app, ["doctor", "--json"])
    check = next(c for c in json.loads(result.stdout)["checks"] if c["check"] == "route roles")
    assert check["status"] == "ok" and check["about"] == "this machine", check
    assert check["roles"]["decide_http"] == "approver" and check["roles"]["console_home"] == "reader"
    assert check["roles"]["undo_http"] == "responder" and "post_alert" not in check["roles"]  # the key guards it


def test_a_route_without_a_declaration_is_a_problem(firestop_home, monkeypatch):
    from firestop.cli import infra_cmd, serve_cmd

    real = serve_cmd.route_roles
    monkeypatch.setattr(serve_cmd, "route_roles", lambda a: {k: v for k, v in real(a).items() if k != "stop_http"})
    check = infra_cmd.route_roles_check()
    assert check["status"] == "problem" and check["undeclared"] == ["stop_http"] and "@requires" in check["detail"]
