"""The console's Release button (lifecycle7; session 6 note: "The console has no Release button").

A later incident whose ``lock-network`` found the account already locked changed nothing; its page showed no undo at
all, so the earlier incident's undo (refused while the later one relies on the lock) could only be unblocked from the
CLI or the API. Its page now shows the step with a Release button, which posts to the same undo route as Undo
(``console_undo``, responder role) with that step; the release restores nothing and makes no Azure call, after which the
earlier incident's Undo goes through.
"""

from __future__ import annotations

import re

from tests.console.test_console_routes import call, token_of
from tests.lifecycle.test_undo_release import _acl, _later
from tests.trust.conftest import INCIDENT, api, handled_home  # noqa: F401 — fixtures


def _page(api, incident, who="oid-bob"):
    status, _, page = call(api, "console_incident", f"console/incidents/{incident}", who=who, route={"incident_id": incident})
    assert status == 200, page
    return page


def _post(api, incident, form, who="oid-bob"):
    return call(api, "console_undo", f"console/incidents/{incident}/undo", who=who, method="POST", form=form,
                route={"incident_id": incident}, headers={"Origin": api.server.base_url})


def test_release_button_releases_then_the_earlier_undo_goes_through(api):
    later = _later(api.env)
    page = _page(api, later)
    assert "Release lock-network" in page and 'name="step" value="lock-network"' in page, page
    action = re.search(r'<form method="post" action="([^"]+)"><input type="hidden" name="csrf" value="[^"]+"><input type="hidden" '
                       r'name="step" value="lock-network">', page).group(1)
    assert action.endswith(f"/console/incidents/{later}/undo")  # the Undo route, not a route of its own

    calls_before = len(api.env.tenant.requests)
    status, headers, _ = _post(api, later, {"csrf": token_of(page), "step": "lock-network"})
    assert status == 303 and headers["Location"].endswith("?done=release"), headers
    assert len(api.env.tenant.requests) == calls_before and _acl(api.env) == "Deny"  # nothing restored, no Azure call
    after = _page(api, later)
    assert "Release lock-network" not in after and "released by oid-bob" in after

    status, headers, _ = _post(api, later, {"csrf": token_of(page), "step": "lock-network"})  # a second click
    assert status == 303 and headers["Location"].endswith("?done=release")

    status, headers, _ = _post(api, INCIDENT, {"csrf": token_of(page)})  # a token is the caller's, not the form's
    assert status == 303 and headers["Location"].endswith("?done=undo") and _acl(api.env) == "Allow"


def test_release_takes_the_undo_routes_role(api):
    """A reader sees no Release button and a reader's post is refused as an Undo is (403), nothing released."""
    later = _later(api.env)
    page = _page(api, later, who="oid-mallory")
    assert "Release lock-network" not in page and "releases the state it found in place" in page
    token = token_of(_page(api, later))
    status, _, answer = _post(api, later, {"csrf": token, "step": "lock-network"}, who="oid-mallory")
    assert status == 403, answer
    assert "Release lock-network" in _page(api, later)  # still releasable


def test_a_bad_step_is_400_and_an_unknown_one_409(api):
    later = _later(api.env)
    token = token_of(_page(api, later))
    status, _, _ = _post(api, later, {"csrf": token, "step": "x" * 201})
    assert status == 400
    status, _, answer = _post(api, later, {"csrf": token, "step": "no-such-step"})
    assert status == 409 and "no-such-step" in answer
