"""variants16: a forger who posts first must not push a genuine variant off the responder's card.

The waiting card (trust16 item 3) named the first variants to arrive: the tally kept the first 20, the card showed
5 of them. A webhook-key holder who posts 25 differing deliveries first kept a later genuine one — confirmed at its
source — unnamed ("and 21 more"; attack16, "noticed"). Now the tally keeps a few variants of each kind past the
first 20 and counts every kind; the card names confirmed variants first, then could-not-check, then not confirmed,
and says how many of each kind exist beyond the list.
"""

from __future__ import annotations

import json

from tests.e2e.test_webhook import served  # noqa: F401 (fixture)
from tests.source_check_steps import confirm_outcomes
from tests.trust.conftest import Api
from tests.trust16.test_t16_card_names_variants import _console, _post, check_on  # noqa: F401 (autouse fixture)
from tests.verify12.test_v12_forged_dimensions import GATEWAY_IP, RAW, _fire_genuine, _with_dimension


def test_a_genuine_variant_after_25_forged_ones_is_on_the_card(served):  # noqa: F811
    env, server, app = served
    _fire_genuine(env)
    first = _post(env, server, app, _with_dimension("CallerIPAddress", GATEWAY_IP))["id"]
    forged = [_post(env, server, app, _with_dimension("CallerIPAddress", f"198.51.100.{100 + k}"))["id"]
              for k in range(25)]
    genuine = _post(env, server, app, json.loads(RAW))["id"]
    assert len({first, genuine, *forged}) == 27
    assert confirm_outcomes(env, genuine) == ["ok"]  # confirmed at its source, on its own incident
    assert all(confirm_outcomes(env, f) == ["not confirmed"] for f in forged[:3])
    assert (env.host.get_status(first).custom_status or {}).get("pending_approval", {}).get("step") == "alert.genuine"

    api = Api(env, server, app)
    status, view = api.call("get_incident_http", "GET", f"incidents/{first}", who="oid-bob", route={"incident_id": first})
    assert status == 200, view
    card = view["pending_approval"]
    assert card["variant_count"] == 26
    # before: the first 5 forged ones, "and 21 more"; the genuine one was never named
    assert card["variants"][0]["variant"] == genuine and card["variants"][0]["outcome"] == "ok", card["variants"]
    assert [v["variant"] for v in card["variants"][1:]] == forged[:4]  # then the forged, as they arrived
    assert card["variant_kinds"] == {"confirmed": 1, "unchecked": 0, "unconfirmed": 25}
    note = card["variants_note"]
    assert f"{genuine} (confirmed at its source)" in note, note
    assert "1 confirmed at their source, 0 could not be checked, 25 not confirmed" in note
    assert note.endswith("and 21 more (21 not confirmed)"), note
    code, page = _console(api, first)
    assert code == 200 and f"{genuine} (confirmed at its source)" in page

    # the record still names the first 20 to arrive (the entity's summary: unchanged for records and histories)
    from firestop.lifecycle.incident import GENUINE_STEP
    from firestop.cli.incidents import decide

    decide(env, first, GENUINE_STEP, "reject", "oid-alice", comment="forged")
    env.host.run_until_idle(first)
    record = env.host.get_status(first).output
    assert [v["variant"] for v in record["variants"]] == forged[:20] and record["variant_count"] == 26
