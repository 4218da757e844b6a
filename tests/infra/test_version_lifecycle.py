"""leftovers10: the template turned on blob versioning (every overwrite or delete keeps the old version) with no
lifecycle rule, so old versions — of the Functions host's constantly rewritten blobs too — were kept, and billed,
for ever. A lifecycle rule now deletes versions older than the WORM retention (``immutabilityDays``: a version under
retention could not be deleted anyway). Checked against the 2023-05-01 Microsoft.Storage schema
(test_infra_schemas.py) and by deploying into the sandbox: deploying again, what-if shows NoChange."""

from __future__ import annotations

from firestop.sandbox import Tenant

from .conftest import factory, generated_parameters, template
from .test_infra_deploy import RG, SEAL, deploy, deployed


def _rule(doc):
    (policy,) = [r for r in doc["resources"] if r["type"] == "Microsoft.Storage/storageAccounts/managementPolicies"]
    (rule,) = policy["properties"]["policy"]["rules"]
    return policy, rule


def test_old_versions_are_deleted_after_the_worm_retention():
    doc = template()
    policy, rule = _rule(doc)
    assert rule["enabled"] is True and rule["type"] == "Lifecycle"
    assert rule["definition"]["actions"] == {"version": {"delete": {"daysAfterCreationGreaterThan": "[parameters('immutabilityDays')]"}}}
    assert set(rule["definition"]["filters"]["blobTypes"]) == {"blockBlob", "appendBlob"}  # append blobs: delete only
    # applied after the three WORM policies exist (their retention, not the rule, decides first)
    assert len([d for d in policy["dependsOn"] if "/immutabilityPolicies'" in d]) == 3, policy["dependsOn"]


def test_the_rule_deploys_and_deploying_again_changes_nothing(firestop_home):
    tenant = Tenant.load()
    deploy(tenant)
    (stored,) = deployed(tenant, "Microsoft.Storage/storageAccounts/managementPolicies")
    (rule,) = stored["properties"]["policy"]["rules"]
    assert rule["definition"]["actions"]["version"]["delete"]["daysAfterCreationGreaterThan"] == 365
    params = {**generated_parameters()["parameters"], "alertsFunctionKey": {"value": "test-action-group-key"},
              "sealKey": {"value": SEAL}}
    again = factory(tenant).resources(tenant.subscription_id).deployments.begin_what_if(
        RG, "firestop", {"properties": {"mode": "Incremental", "template": template(), "parameters": params}}).result()
    mine = [c for c in again.changes if c.resource_id.lower().endswith("/managementpolicies/default")]
    assert len(mine) == 1 and {c.change_type for c in again.changes} == {"NoChange"}
