"""leftovers10: the template turned on blob versioning (every overwrite or delete keeps the old version) with no
lifecycle rule, so old versions — of the Functions host's constantly rewritten blobs too — were kept, and billed,
for ever. A lifecycle rule now deletes versions older than the WORM retention (``immutabilityDays``: a version under
retention could not be deleted anyway). Checked against the 2023-05-01 Microsoft.Storage schema
(test_infra_schemas.py) and by deploying into the sandbox: deploying again, what-if shows NoChange.

leftovers11: that rule had no prefix, so it held every blob version in the account — the Functions host's, the
package's, the task hub's — for ``immutabilityDays`` (365 by default). It is now scoped to Firestop's three WORM
containers (``prefixMatch``), and the host's containers get a rule of their own: versions after 7 days."""

from __future__ import annotations

from firestop.sandbox import Tenant

from .conftest import factory, generated_parameters, template
from .test_infra_deploy import RG, SEAL, deploy, deployed


def _rule(doc, name: str = "firestop-old-versions-after-worm"):
    (policy,) = [r for r in doc["resources"] if r["type"] == "Microsoft.Storage/storageAccounts/managementPolicies"]
    (rule,) = [r for r in policy["properties"]["policy"]["rules"] if r["name"] == name]
    return policy, rule


CONTAINERS = ["firestop-records/", "firestop-evidence/", "firestop-ledger/"]
HOST = ["azure-webjobs-hosts/", "azure-webjobs-secrets/", "app-package/", "firestophub-leases/",
        "firestophub-largemessages/", "firestophub-applease/"]


def test_the_worm_rule_holds_firestops_containers_only_and_the_host_has_its_own():
    from firestop.settings import REPO_ROOT
    import json

    doc = template()
    policy, rule = _rule(doc)
    assert rule["definition"]["filters"]["prefixMatch"] == [
        "[concat(variables('recordsContainer'), '/')]", "[concat(variables('evidenceContainer'), '/')]",
        "[concat(variables('ledgerContainer'), '/')]"]
    assert [doc["variables"][v] for v in ("recordsContainer", "evidenceContainer", "ledgerContainer")] == \
        [c.rstrip("/") for c in CONTAINERS]
    _, host = _rule(doc, "host-old-versions")
    assert host["definition"]["filters"]["prefixMatch"][:2] == HOST[:2]
    assert host["definition"]["actions"] == {"version": {"delete": {"daysAfterCreationGreaterThan": 7}}}
    hub = json.loads((REPO_ROOT / "host.json").read_text())["extensions"]["durableTask"]["hubName"].lower()
    assert all(p.startswith(f"{hub}-") for p in HOST[3:])  # the task hub's blob containers: <hub>-leases, …
    assert len(policy["properties"]["policy"]["rules"]) == 3  # (bounds14: and the pending joins' own)


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
    rule, _, host = stored["properties"]["policy"]["rules"]
    assert rule["definition"]["actions"]["version"]["delete"]["daysAfterCreationGreaterThan"] == 365
    assert rule["definition"]["filters"]["prefixMatch"] == CONTAINERS  # the expressions evaluated
    assert host["definition"]["filters"]["prefixMatch"] == HOST
    params = {**generated_parameters()["parameters"], "alertsFunctionKey": {"value": "test-action-group-key"},
              "sealKey": {"value": SEAL}, "sealKeyRetired": {"value": "none"}}
    again = factory(tenant).resources(tenant.subscription_id).deployments.begin_what_if(
        RG, "firestop", {"properties": {"mode": "Incremental", "template": template(), "parameters": params}}).result()
    mine = [c for c in again.changes if c.resource_id.lower().endswith("/managementpolicies/default")]
    assert len(mine) == 1 and {c.change_type for c in again.changes} == {"NoChange"}


def test_pending_joins_are_deleted_after_the_worm_retention(firestop_home):
    """bounds14 item 4 (fails before: no such rule). The prefix is the one ``firestop.records.pending_joins`` writes,
    in the records container; base blobs deleted once ``immutabilityDays`` have passed since they were written; the
    template still validates (test_infra_schemas.py) and deploys into the sandbox."""
    from firestop.records.pending_joins import PENDING_PREFIX

    doc = template()
    policy, rule = _rule(doc, "firestop-pending-joins-after-worm")
    assert rule["enabled"] is True and rule["type"] == "Lifecycle"
    assert rule["definition"]["filters"] == {"blobTypes": ["blockBlob"],
                                             "prefixMatch": [f"[concat(variables('recordsContainer'), '/{PENDING_PREFIX}')]"]}
    assert rule["definition"]["actions"] == {
        "baseBlob": {"delete": {"daysAfterModificationGreaterThan": "[parameters('immutabilityDays')]"}}}
    tenant = Tenant.load()
    deploy(tenant)
    (stored,) = deployed(tenant, "Microsoft.Storage/storageAccounts/managementPolicies")
    (mine,) = [r for r in stored["properties"]["policy"]["rules"] if r["name"] == "firestop-pending-joins-after-worm"]
    assert mine["definition"]["filters"]["prefixMatch"] == [f"firestop-records/{PENDING_PREFIX}"]
    assert mine["definition"]["actions"]["baseBlob"]["delete"]["daysAfterModificationGreaterThan"] == 365
