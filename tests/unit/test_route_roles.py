"""Route role declarations (firestop.trust.route_roles): the declared role is the one the check reads."""

from __future__ import annotations

import asyncio

import pytest

from firestop.trust import Role
from firestop.trust.route_roles import (
    DECLARED, NOT_DECLARED, UndeclaredRoute, declaration_of, declared_role, public, requires)


def test_the_check_reads_the_role_declared_on_the_running_function_sync_and_async():
    @requires(Role.approver)
    def decide(req):
        return declared_role()

    @requires("reader")
    async def show(req, client):
        return declared_role()

    assert decide("req") is Role.approver
    assert asyncio.run(show("req", None)) is Role.reader
    assert DECLARED["decide"] is Role.approver and declaration_of(decide) is Role.approver
    with pytest.raises(UndeclaredRoute):  # outside a route nobody is let in
        declared_role()


def test_the_declaration_is_found_through_outer_wrappers_and_keeps_the_signature():
    import functools
    import inspect

    @requires(Role.responder)
    def undo(req, client=None):
        return None

    @functools.wraps(undo)
    def observed(*a, **k):
        return undo(*a, **k)

    assert declaration_of(observed) is Role.responder
    assert list(inspect.signature(observed).parameters) == ["req", "client"]  # the Functions worker reads bindings

    def plain(req):
        return None

    assert declaration_of(plain) is NOT_DECLARED


def test_a_public_route_has_no_role_to_check_and_an_unknown_role_is_refused():
    @public()
    def health(req):
        return declared_role()

    assert declaration_of(health) is None
    with pytest.raises(UndeclaredRoute):
        health("req")
    with pytest.raises(ValueError):
        requires("root")
