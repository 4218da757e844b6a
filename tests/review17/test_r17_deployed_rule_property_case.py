"""R17-04: RT19-02 made the source check compare a delivery's ``firestop-*`` custom properties with the *rule's*
exactly (key case, value untouched), because the playbooks' conditions read them by exact key and value. But what
decides that the rule is Firestop's detection as deployed (:func:`firestop.infra.rule_trust.trusted_detection`, via
``firestop_keys``) still lower-cases the keys and strips the values. So attacker b of red team 19 (Monitoring
Contributor: writes alert rules) edits the deployed refused-calls rule's ``firestop-signal: failed-requests`` to
``Firestop-Signal`` (or ``"failed-requests "``): the rule still reads as the detection as deployed, Azure Monitor's own
delivery carries the edited map (so RT19-02's comparison passes — it is the rule's), and the approval condition
``alert.custom_properties.firestop-signal == 'failed-requests'`` reads nothing: the next 401 storm an outsider raises
locks the network and rotates the keys unapproved — RT19-02's outcome, from the rule instead of a forged delivery.
A rule whose ``firestop-*`` entries are not the detection's verbatim must not be trusted as deployed."""

from __future__ import annotations

import copy

import pytest

from firestop.azure.alerts_management import rule_property_maps
from tests.rules14.test_rule_trust import PROD, _check, deployed  # noqa: F401 (fixture)


def _signal_rule(deployed):  # noqa: F811
    tenant, ids, client, _, playbooks = deployed
    for rule_id in ids[1:]:
        if "contoso-openai-prod" not in rule_id or "/diagnosticsettings/" in rule_id.lower():
            continue
        rule = client.get_rule(rule_id)
        if any("firestop-signal" in m for m in rule_property_maps(rule) if isinstance(m, dict)):
            return rule
    raise AssertionError("no deployed rule carries firestop-signal")


def _edit(rule, change):
    edited = copy.deepcopy(rule)
    for m in rule_property_maps(edited):
        if isinstance(m, dict) and "firestop-signal" in m:
            change(m)
    return edited


@pytest.mark.parametrize("change", [
    lambda m: m.__setitem__("Firestop-Signal", m.pop("firestop-signal")),
    lambda m: m.__setitem__("firestop-signal", m["firestop-signal"] + " "),
], ids=["key-case", "value-space"])
def test_an_edited_firestop_property_is_not_the_detection_as_deployed(deployed, change):  # noqa: F811
    tenant, _, client, _, playbooks = deployed
    rule = _signal_rule(deployed)
    assert _check(rule, playbooks, client, tenant, playbook="anomalous-usage") is None  # guard: as deployed, trusted
    edited = _edit(rule, change)
    assert edited != rule
    why = _check(edited, playbooks, client, tenant, playbook="anomalous-usage")
    assert why is not None and "firestop-* custom properties" in why, why


@pytest.mark.parametrize("change", [
    lambda m: m.__setitem__("Firestop-Signal", m.pop("firestop-signal")),
    lambda m: m.__setitem__("firestop-signal", m["firestop-signal"] + " "),
], ids=["key-case", "value-space"])
def test_an_admins_trust_does_not_survive_an_edit_of_a_firestop_property(deployed, firestop_home, change):  # noqa: F811
    """The same edit of a rule an admin trusted: the trust digest (v1 and v2) folds the keys and strips the values, so
    the entry still verified for the edited rule."""
    from firestop.infra.trusted_rules import is_trusted, trust_rule
    from firestop.storage.local import LocalStore

    store = LocalStore(firestop_home / "records", "records")
    rule = _signal_rule(deployed)
    assert trust_rule(store, rule, by="oid-admin", at="2026-12-05T03:00:00Z")[1]
    assert is_trusted(store, rule)  # guard
    assert not is_trusted(store, _edit(rule, change))


def test_an_admin_cannot_trust_a_rule_whose_firestop_property_is_not_verbatim(deployed, firestop_home):  # noqa: F811
    """No entry is written that would never be believed: ``rules trust`` answers ValueError (exit 2 naming the fix)."""
    from firestop.infra.trusted_rules import trust_rule
    from firestop.storage.local import LocalStore

    store = LocalStore(firestop_home / "records", "records")
    edited = _edit(_signal_rule(deployed), lambda m: m.__setitem__("Firestop-Signal", m.pop("firestop-signal")))
    with pytest.raises(ValueError, match="firestop-\\* custom properties"):
        trust_rule(store, edited, by="oid-admin", at="2026-12-05T03:00:00Z")
    assert not store.names("trusted-rules/")
