"""RT20-09 (attacker b: a **Tag Contributor** — ``Microsoft.Resources/tags/*`` on any resource, a role governance
automation commonly holds — or anyone who may write the account's tags): three playbooks ask a responder before a
production-breaking step only when ``target.tags.environment == 'production'`` (``public-network-exposure``'s
``disable-local-auth``: every key-based consumer cut off; ``suspicious-key-access``'s and
``ai-risky-service-principal``'s ``revoke-principal``). A missing tag fails closed ("cannot be decided"), but a tag
*rewritten* (``PATCH {account}/providers/Microsoft.Resources/tags/default`` ``{"operation": "Merge", "properties":
{"tags": {"environment": "staging"}}}``, Tags REST 2021-04-01) decides it: the next genuine alert on the production
account runs them with no responder.

Here: the sandbox's genuine policy state (prod NonCompliant with a built-in AI network policy) and its confirmed event;
with the tag, ``disable-local-auth`` waits for an approver; after the tag's removal it disables local auth at once.
(The sandbox has no Tags route: the tag is removed in its state, as the Tags API would.)

Expected (strict xfail until the integrator decides): which accounts are production is Firestop's to know (its own
settings or protected-account list, or the tag as it was when the account was enrolled), not a tag anyone with
``tags/write`` rewrites before the alert; at least a change of that tag since the alert fired should ask."""

from __future__ import annotations

import pytest

from tests.redteam14.test_rt14_forged_policy_event import HELD, PROD, _event, _incident, endpoint  # noqa: F401 (fixture)


def _retag(env, value: str) -> None:
    with env.tenant._exclusive() as state:  # noqa: SLF001 — what Tags - Update At Scope (Merge) leaves
        state.resource(PROD).setdefault("tags", {})["environment"] = value
        env.tenant._save_locked()  # noqa: SLF001


@pytest.mark.xfail(strict=True, reason="RT20-09: retagging the production account turns its approvals off "
                                       "(required_if target.tags.environment == 'production')")
def test_retagging_the_production_account_does_not_skip_the_approval(endpoint):  # noqa: F811
    env, post = endpoint
    assert env.tenant.resource(PROD)["tags"]["environment"] == "production"
    _retag(env, "staging")
    incident = _incident(post, _event("genuine-untagged", HELD))
    env.host.run_until_idle()  # nobody approves
    assert env.tenant.resource(PROD)["properties"].get("disableLocalAuth") is not True, \
        "local auth disabled on the production account with no responder"
    pending = (env.host.get_status(incident).custom_status or {}).get("pending_approval") or {}
    assert pending.get("step") == "disable-local-auth", pending


def test_with_the_tag_the_step_waits_for_an_approver(endpoint):  # noqa: F811
    env, post = endpoint
    incident = _incident(post, _event("genuine-tagged", HELD))
    env.host.run_until_idle()
    pending = (env.host.get_status(incident).custom_status or {}).get("pending_approval") or {}
    assert pending.get("step") == "disable-local-auth", pending
    assert env.tenant.resource(PROD)["properties"].get("disableLocalAuth") is not True
