"""The console's Release button (lifecycle7; session 6 note: "The console has no Release button").

A later incident whose ``lock-network`` found the account already locked changed nothing; its page showed no undo at
all, so the earlier incident's undo (refused while the later one relies on the lock) could only be unblocked from the
CLI or the API. Its page now shows the step with a Release button, which opens the release's confirmation page (a GET
of the undo route with that step; lifecycle8: Release acted in one click); that page posts to the same undo route as
Undo (``console_undo``, responder role) with the step and ``confirm=release``; the release restores nothing and makes
no Azure call, after which the earlier incident's Undo goes through.
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


def _confirm(api, incident, step="lock-network", who="oid-bob"):
    """The Release button's confirmation page."""
    return call(api, "console_undo_confirm", f"console/incidents/{incident}/undo", who=who, route={"incident_id": incident},
                params={"step": step})


def _post(api, incident, form, who="oid-bob"):
    return call(api, "console_undo", f"console/incidents/{incident}/undo", who=who, method="POST", form=form,
                route={"incident_id": incident}, headers={"Origin": api.server.base_url})


def test_release_button_releases_then_the_earlier_undo_goes_through(api):
    later = _later(api.env)
    page = _page(api, later)
    assert "Release lock-network" in page and 'name="step" value="lock-network"' in page, page
    action = re.search(r'<form method="([a-z]+)" action="([^"]+)"><input type="hidden" name="step" value="lock-network">',
                       page)
    assert action.group(1) == "get" and action.group(2).endswith(f"/console/incidents/{later}/undo")  # it asks first
    assert 'name="csrf"' not in page  # the incident page's button cannot post

    status, _, confirm = _confirm(api, later)
    assert status == 200 and "Release lock-network of" in confirm and "Yes, release lock-network" in confirm
    assert "restores nothing" in confirm and f'href="/api/console/incidents/{later}"' in confirm  # what, and a way back
    assert re.search(r'<form method="post" action="[^"]+/undo"><input type="hidden" name="csrf" value="[^"]+">'
                     r'<input type="hidden" name="step" value="lock-network"><input type="hidden" name="confirm" value="release">',
                     confirm), confirm
    token = token_of(confirm)

    calls_before = len(api.env.tenant.requests)
    status, _, answer = _post(api, later, {"csrf": token, "step": "lock-network"})  # one click, no confirmation
    assert status == 400 and "not confirmed" in answer and "Release lock-network" in _page(api, later)
    status, headers, _ = _post(api, later, {"csrf": token, "step": "lock-network", "confirm": "release"})
    assert status == 303 and headers["Location"].endswith("?done=release"), headers
    assert len(api.env.tenant.requests) == calls_before and _acl(api.env) == "Deny"  # nothing restored, no Azure call
    after = _page(api, later)
    assert "Release lock-network" not in after and "released by oid-bob" in after
    assert _confirm(api, later)[0] == 409  # nothing left to release

    status, headers, _ = _post(api, later, {"csrf": token, "step": "lock-network", "confirm": "release"})  # a second click
    assert status == 303 and headers["Location"].endswith("?done=release")

    status, headers, _ = _post(api, INCIDENT, {"csrf": token, "confirm": "undo"})  # a token is the caller's, not the form's
    assert status == 303 and headers["Location"].endswith("?done=undo") and _acl(api.env) == "Allow"


def test_release_takes_the_undo_routes_role(api):
    """A reader sees no Release button and a reader's post is refused as an Undo is (403), nothing released."""
    later = _later(api.env)
    page = _page(api, later, who="oid-mallory")
    assert "Release lock-network" not in page and "releases the state it found in place" in page
    status, _, _ = _confirm(api, later, who="oid-mallory")
    assert status == 403
    token = token_of(_confirm(api, later)[2])
    status, _, answer = _post(api, later, {"csrf": token, "step": "lock-network", "confirm": "release"}, who="oid-mallory")
    assert status == 403, answer
    assert "Release lock-network" in _page(api, later)  # still releasable


def test_a_bad_step_is_400_and_an_unknown_one_409(api):
    later = _later(api.env)
    token = token_of(_confirm(api, later)[2])
    status, _, _ = _post(api, later, {"csrf": token, "step": "x" * 201, "confirm": "release"})
    assert status == 400
    status, _, answer = _post(api, later, {"csrf": token, "step": "no-such-step", "confirm": "release"})
    assert status == 409 and "no-such-step" in answer
    assert _confirm(api, later, step="x" * 201)[0] == 400
    status, _, answer = _confirm(api, later, step="no-such-step")
    assert status == 409 and "no-such-step" in answer
