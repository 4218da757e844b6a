"""RT20-09 (attacker b: a **Tag Contributor** — ``Microsoft.Resources/tags/*`` on any resource, a role governance
automation commonly holds — or anyone who may write the account's tags): three playbooks ask a responder before a
production-breaking step only when ``target.tags.environment == 'production'`` (``public-network-exposure``'s
``disable-local-auth``: every key-based consumer cut off; ``suspicious-key-access``'s and
``ai-risky-service-principal``'s ``revoke-principal``). A missing tag fails closed ("cannot be decided"), but a tag
*rewritten* (``PATCH {account}/providers/Microsoft.Resources/tags/default`` ``{"operation": "Merge", "properties":
{"tags": {"environment": "staging"}}}``, Tags REST 2021-04-01) decides it: the next genuine alert on the production
account runs them with no responder.

Here: the sandbox's genuine policy state (prod NonCompliant with a built-in AI network policy) and its confirmed event;
with the tag, ``disable-local-auth`` waits for an approver; with the tag rewritten to staging it disabled local auth at once.
(The sandbox has no Tags route: the tag is rewritten in its state, as the Tags API would.)

Fixed (tags18): the three approvals read ``target.production != false``; ``target.production`` is Firestop's own
decision (:func:`firestop.analysis.is_production`): an account is production unless an admin listed it in
``FIRESTOP_NON_PRODUCTION_ACCOUNTS``, and a listed one still is while its tag says production — a tag only adds
approvals. Before the fix the retagging tests failed (disableLocalAuth true, nothing pending) and the listed-account
ones had no list to set (ImportError); the tagged and the missing-tag tests passed (controls: both already asked)."""

from __future__ import annotations

import pytest

from tests.redteam14.test_rt14_forged_policy_event import HELD, PROD, _event, _incident, endpoint  # noqa: F401 (fixture)


def _retag(env, value: str | None) -> None:
    """What Tags - Update At Scope leaves: ``environment`` set to ``value`` (Merge), or removed (None: Delete)."""
    with env.tenant._exclusive() as state:  # noqa: SLF001
        tags = state.resource(PROD).setdefault("tags", {})
        if value is None:
            tags.pop("environment", None)
        else:
            tags["environment"] = value
        env.tenant._save_locked()  # noqa: SLF001


def _list_as_not_production(*ids: str) -> None:
    """The admin's FIRESTOP_NON_PRODUCTION_ACCOUNTS, as the running app reads it (the settings it installed)."""
    from firestop.settings import _id_list, configure_settings, get_settings

    configure_settings(get_settings().model_copy(update={"non_production_accounts": _id_list(",".join(ids))}))


def _outcome(env, incident: str) -> tuple[bool, str | None]:
    """(local auth disabled on prod, the step waiting for an approver) once nothing more runs unattended."""
    env.host.run_until_idle()  # nobody approves
    pending = (env.host.get_status(incident).custom_status or {}).get("pending_approval") or {}
    return env.tenant.resource(PROD)["properties"].get("disableLocalAuth") is True, pending.get("step")


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


@pytest.mark.parametrize("value", ["staging", "development", "Non-Production"])
def test_a_staging_tag_alone_never_skips_the_approval(endpoint, value):  # noqa: F811
    env, post = endpoint
    _retag(env, value)
    incident = _incident(post, _event(f"genuine-{value}", HELD))
    assert _outcome(env, incident) == (False, "disable-local-auth")


def test_a_missing_tag_on_an_unlisted_account_asks(endpoint):  # noqa: F811
    env, post = endpoint
    _retag(env, None)
    incident = _incident(post, _event("genuine-no-tag", HELD))
    assert _outcome(env, incident) == (False, "disable-local-auth")


def test_the_admins_non_production_list_skips_the_approval(endpoint):  # noqa: F811
    env, post = endpoint
    _list_as_not_production(PROD.upper() + "/")  # ARM ids compare case-insensitively; a trailing slash is dropped
    _retag(env, "staging")
    incident = _incident(post, _event("genuine-listed", HELD))
    assert _outcome(env, incident) == (True, None)  # the admin's decision: disabled at once, nobody asked


def test_a_production_tag_on_a_listed_account_still_asks(endpoint):  # noqa: F811
    env, post = endpoint
    _list_as_not_production(PROD)
    assert env.tenant.resource(PROD)["tags"]["environment"] == "production"
    incident = _incident(post, _event("genuine-listed-tagged", HELD))
    assert _outcome(env, incident) == (False, "disable-local-auth")  # a tag can add an approval, never remove one
