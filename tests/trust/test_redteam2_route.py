"""Red team 2: an alert routed to another playbook must never share the leaked-key alert's correlation key.

``route_of`` (the correlation route) and ``select_playbook`` (the playbook that runs) read the alert
differently, a decoy sent with only the function key could select an approval-gated playbook while
keeping the leaked-key alert's key, so the leaked-key alert joined the decoy's incident again:

* a second ``Firestop-Playbook`` key (other case): ``select_playbook`` lower-cases keys, ``route_of`` did not;
* the leaked-key rule's *id* with another rule *name*: the route was the rule id, playbooks match the name.
"""

from __future__ import annotations

import copy
import json

import pytest

from firestop.alerts import parse_alert
from firestop.intake.correlation import CorrelationKey, alert_keys
from firestop.playbooks import load_playbooks, select_playbook
from firestop.settings import REPO_ROOT

LEAK = json.loads((REPO_ROOT / "examples" / "alerts" / "leaked-key.json").read_text())


def _decoy(leak: dict, **change) -> dict:
    decoy = copy.deepcopy(leak)
    decoy["data"]["essentials"]["alertId"] = decoy["data"]["essentials"]["alertId"][:-4] + "dead"
    for field, value in change.items():
        if field == "customProperties":
            decoy["data"]["customProperties"] = value
        else:
            decoy["data"]["essentials"][field] = value
    return decoy


def _unrouted(leak: dict) -> dict:
    leak = copy.deepcopy(leak)
    leak["data"]["customProperties"] = None
    return leak


CASES = {
    "second property key in another case": (LEAK, _decoy(LEAK, customProperties={
        "firestop-playbook": "leaked-api-key", "Firestop-Playbook": "public-network-exposure"})),
    "upper-case property key": (LEAK, _decoy(LEAK, customProperties={"FIRESTOP-PLAYBOOK": "public-network-exposure"})),
    "same rule id, other rule name": (_unrouted(LEAK), _decoy(_unrouted(LEAK), alertRule="aoai-public-network-access")),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_a_decoy_selecting_another_playbook_never_shares_the_leaked_key_alerts_key(case):
    playbooks = load_playbooks(REPO_ROOT / "playbooks")
    leak, decoy = (parse_alert(a) for a in CASES[case])
    chosen = [select_playbook(a, playbooks)[0] for a in (leak, decoy)]
    assert chosen[0] is not None and chosen[0].name == "leaked-api-key"
    assert chosen[1] is not None and chosen[1].name != "leaked-api-key"  # the decoy does select another playbook
    assert set(alert_keys(leak, CorrelationKey.RESOURCE)).isdisjoint(alert_keys(decoy, CorrelationKey.RESOURCE))


def test_alerts_of_one_route_still_correlate():
    again = _decoy(LEAK, customProperties={"Firestop-Playbook": "leaked-api-key"})
    assert alert_keys(parse_alert(LEAK), CorrelationKey.RESOURCE) == alert_keys(parse_alert(again), CorrelationKey.RESOURCE)
    assert alert_keys(parse_alert(_unrouted(LEAK)), CorrelationKey.RESOURCE) == alert_keys(
        parse_alert(_decoy(_unrouted(LEAK))), CorrelationKey.RESOURCE)


def test_rule_id_and_name_cannot_be_shifted_into_each_other():
    """Adversarial review: with id and name joined by '|', id 'a|b' + name 'c' met id 'a' + name 'b|c'."""
    from types import SimpleNamespace

    from firestop.intake.correlation import route_of

    def alert(rule_id, rule_name):
        return SimpleNamespace(routed_playbook=None, rule_id=rule_id, rule_name=rule_name)

    assert route_of(alert("a|b", "c")) != route_of(alert("a", "b|c"))
    assert route_of(alert("A ", "Rule")) == route_of(alert("a", "rule"))
