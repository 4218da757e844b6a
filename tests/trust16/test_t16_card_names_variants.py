"""trust16 item 3: the first incident's own card lists its variants while it waits.

A delivery of the same alert or resource with other content, after an incident not confirmed at its source, is
checked on its own (a variant) and reports to the first incident's tally. The first incident learned of them only
when it filed its record: the responder approving its ``alert.genuine`` card at 3 a.m. did not see that other
contents had arrived. Now the API (``GET /api/incidents/{id}``), the console and ``incident show`` read the tally
while the card waits and say "N other contents of this alert arrived …; review them".
"""

from __future__ import annotations

from functools import partial

import pytest

from tests.e2e.test_webhook import served  # noqa: F401 (fixture)
from tests.source_check_steps import post_delivery
from tests.trust.conftest import Api
from tests.verify12.test_v12_forged_dimensions import GATEWAY_IP, _fire_genuine, _with_dimension


@pytest.fixture(autouse=True)
def check_on(monkeypatch):
    monkeypatch.setenv("FIRESTOP_ALERT_SOURCE_CHECK", "on")
    for name in ("WEBSITE_SITE_NAME", "WEBSITE_INSTANCE_ID", "WEBSITE_AUTH_ENABLED", "FIRESTOP_ROLES"):
        monkeypatch.delenv(name, raising=False)


_post = partial(post_delivery, statuses=(200, 202))


def _waiting_with_variants(env, server, app, n: int) -> tuple[str, list[str]]:
    _fire_genuine(env)
    first = _post(env, server, app, _with_dimension("CallerIPAddress", GATEWAY_IP))["id"]
    forged = [_post(env, server, app, _with_dimension("CallerIPAddress", f"198.51.100.{70 + k}"))["id"] for k in range(n)]
    assert first not in forged and len(set(forged)) == n
    status = env.host.get_status(first)
    assert status.runtime_status in ("Running", "Pending")
    assert (status.custom_status or {}).get("pending_approval", {}).get("step") == "alert.genuine"
    return first, forged


def test_the_waiting_card_says_other_contents_arrived(served):  # noqa: F811
    env, server, app = served
    first, forged = _waiting_with_variants(env, server, app, 3)
    api = Api(env, server, app)
    status, view = api.call("get_incident_http", "GET", f"incidents/{first}", who="oid-bob", route={"incident_id": first})
    assert status == 200, view
    card = view["pending_approval"]
    # before: the card said nothing of them (no such fields); the record named them only once the incident ended
    assert card.get("variant_count") == 3, card
    assert [v["variant"] for v in card["variants"]] == forged
    assert card["variants_note"].startswith("3 other contents of this alert arrived") and "review them" in card["variants_note"]
    assert all(v in card["variants_note"] for v in forged)
    code, page = _console(api, first)
    assert code == 200 and "3 other contents of this alert arrived" in page and forged[0] in page


def test_no_variant_no_note(served):  # noqa: F811
    env, server, app = served
    first, _ = _waiting_with_variants(env, server, app, 0)
    status, view = Api(env, server, app).call("get_incident_http", "GET", f"incidents/{first}", who="oid-bob",
                                              route={"incident_id": first})
    assert status == 200 and "variants_note" not in view["pending_approval"], view["pending_approval"]


def test_with_variants_is_bounded_and_leaves_other_views_alone():
    from firestop.lifecycle.view import VARIANTS_ON_CARD, with_variants

    state = {"variants": [{"variant": f"inc-x-v{k:016x}", "alert_id": "a" * 900, "outcome": "not confirmed"} for k in range(20)],
             "variant_count": 41}
    card = with_variants({"pending_approval": {"step": "alert.genuine"}}, state)["pending_approval"]
    assert card["variant_count"] == 41 and len(card["variants"]) == VARIANTS_ON_CARD
    assert all(len(v["alert_id"]) == 512 for v in card["variants"]) and "and 36 more" in card["variants_note"]
    done = {"status": "contained", "pending_approval": None}
    assert with_variants(done, state) is done
    assert with_variants({"pending_approval": {"step": "s"}}, {"variants": "junk", "variant_count": True}) == {"pending_approval": {"step": "s"}}


def _console(api, incident: str) -> tuple[int, str]:
    import azure.functions as func

    from firestop.runtime import invoke_http_function
    from firestop.trust import encode_principal, stamp_peer

    request = func.HttpRequest(method="GET", url=f"http://localhost:7071/api/console/incidents/{incident}",
                               headers=stamp_peer({"X-MS-CLIENT-PRINCIPAL": encode_principal("oid-bob")}, "127.0.0.1"),
                               body=b"", route_params={"incident_id": incident})
    response = invoke_http_function(api.app, "console_incident", request, server=api.server)
    return response.status_code, response.get_body().decode()
