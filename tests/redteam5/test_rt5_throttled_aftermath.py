"""RT5-03: quota abuse after a containment is suppressed as its "aftermath".

The anomalous-usage playbook's shipped log rule counted ``ResultSignature in ("401", "429")`` and carried
``firestop-signal: failed-requests``, which :mod:`firestop.intake.aftermath` reads as "only requests the service
refused". A 429 is not refused by any containment: the request carried a *valid* key and was only throttled. After an
anomalous-usage incident is contained (narrowly: its APIM consumer suspended, the account left open — or a lock
that did not hold), the same caller burning quota with another valid key makes the rule fire again for the same
``CallerIPAddress``: the alert names only callers the incident contained, so intake answers ``aftermath`` and opens
nothing for the whole correlation window. Fixed in the playbook: the 401 rule keeps the property, 429s have their own
rule without it; every shipped rule that carries it counts only 401/403."""

from __future__ import annotations

import copy
import re
from datetime import datetime, timedelta

from firestop.settings import REPO_ROOT
from tests.intake.test_intake_eventgrid import endpoint  # noqa: F401  (fixture)
from tests.redteam5.usage_contained import USAGE, contained_usage_incident
from tests.e2e.test_webhook import what_intake_did



def _z(when: datetime) -> str:
    return when.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def _rule(name: str):
    from firestop.playbooks import load_playbooks

    (rule,) = [r for p in load_playbooks(REPO_ROOT / "playbooks") for r in p.detect.scheduled_query_rules if r.name == name]
    return rule


def test_rt5_03_a_rule_marked_failed_requests_counts_only_refusals():
    from firestop.intake.aftermath import FAILED_REQUESTS, REFUSAL_STATUSES, SIGNAL_PROPERTY
    from firestop.playbooks import load_playbooks

    marked = [r for p in load_playbooks(REPO_ROOT / "playbooks") for r in p.detect.scheduled_query_rules
              if (r.custom_properties or {}).get(SIGNAL_PROPERTY) == FAILED_REQUESTS]
    assert marked
    for rule in marked:
        statuses = set(re.findall(r'"(\d{3})"', " ".join(re.findall(r"ResultSignature[^|\n]*", rule.query))))
        assert statuses and statuses <= REFUSAL_STATUSES, (rule.name, statuses)


def test_rt5_03_the_throttling_rule_after_containment_opens_an_incident(endpoint):
    env, call, record = contained_usage_incident(endpoint)
    contained = datetime.fromisoformat(record["contained_at"])
    clock = env.clients.clock
    clock.set(contained + timedelta(minutes=20))

    rule = _rule("aoai-anomalous-usage-throttled")
    body = copy.deepcopy(USAGE)
    essentials, data = body["data"]["essentials"], body["data"]
    essentials["alertRule"] = rule.name
    essentials["alertId"] = essentials["alertId"].rsplit("/", 1)[0] + "/rt5-03-throttled"
    essentials["firedDateTime"] = _z(clock.now())
    data["customProperties"] = {k: (v if v != "{nsg_id}" else USAGE["data"]["customProperties"]["firestop-nsg"])
                                for k, v in (rule.custom_properties or {}).items()}
    condition = data["alertContext"]["condition"]
    condition["windowStartTime"], condition["windowEndTime"] = _z(contained + timedelta(minutes=5)), _z(clock.now())
    condition["allOf"] = condition["allOf"][:1]  # the same contained caller, 203.0.113.140
    condition["allOf"][0]["searchQuery"] = rule.query
    answer = call("post_alert", "alerts", body)
    assert what_intake_did(answer)["outcome"] == "started", answer.get_body()
