"""What ``serve`` prints as each route's guard (:func:`firestop.cli.serve_cmd.route_guard`): the function key for the
webhooks, and for every people's (anonymous-level) route the role its function checks — README's route table."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="module")
def app_routes():
    from firestop.cli.wiring import function_app
    from firestop.runtime.serve import http_routes

    app = function_app() if callable(function_app) else function_app
    return app, http_routes(app)


def test_every_peoples_route_names_the_role_its_function_checks(app_routes):
    from firestop.cli.serve_cmd import route_guard, route_roles

    app, routes = app_routes
    roles = route_roles(app)
    guards = {r.function: route_guard(r, roles, bearer=False) for r in routes}
    # README's route table; what serve prints is each route's declaration (@requires), never its source text
    expected = {"list_incidents_http": "reader", "get_incident_http": "reader", "decide_http": "approver",
                "stop_http": "responder", "undo_http": "responder", "undo_preview_http": "responder",
                "manual_run_http": "responder", "manual_run_undo_http": "responder", "run_runbook_http": "responder",
                "run_audit_http": "responder", "ledger_verify_http": "reader", "console_decide": "approver",
                "console_undo": "responder", "console_undo_confirm": "responder", "console_stop_confirm": "responder",
                "console_stop": "responder", "console_home": "reader", "console_incident": "reader",
                "console_tabletop": "reader", "console_scorecard": "reader", "latest_audit_http": "reader",
                "get_audit_http": "reader", "audit_controls_http": "reader"}
    for function, role in expected.items():
        assert guards[function].startswith(f"role {role}; caller: loopback"), (function, guards[function])
    assert guards["post_alert"] == "function key (function level)"
    public = [f for f, g in guards.items() if g.startswith(("public", "NO ROLE"))]
    assert public == [], public  # no people's route without a role
    assert {f for f, g in guards.items() if g.startswith("role ")} == set(expected)


def test_a_route_that_declares_nothing_is_printed_as_such():
    from types import SimpleNamespace

    from firestop.cli.serve_cmd import route_guard

    route = SimpleNamespace(function="new_route", auth_level="anonymous")
    assert route_guard(route, {}, bearer=False).startswith("NO ROLE DECLARED")
    assert route_guard(route, {"new_route": None}, bearer=False) == "public: no key, no role"


def test_with_a_token_authenticator_the_caller_comes_from_the_token(app_routes):
    from firestop.cli.serve_cmd import route_guard, route_roles

    app, routes = app_routes
    decide = next(r for r in routes if r.function == "decide_http")
    assert route_guard(decide, route_roles(app), bearer=True) == "role approver; caller: bearer token (--auth-jwks)"
