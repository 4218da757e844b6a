"""leftovers10: ``doctor`` accepted an unlocked immutability (WORM) policy on the records container and did not look at
the ``firestop-audit`` diagnostic settings. Both are read through ARM on the sandbox the template was deployed into
(azure-mgmt-resource's generic get, azure-mgmt-monitor's ``diagnostic_settings``), each problem naming its fix."""

from __future__ import annotations

from firestop.infra import doctor
from firestop.sandbox import Tenant

from .conftest import factory
from .test_infra_deploy import RG, deployed, deploy


def _names(tenant):
    (account,) = deployed(tenant, "Microsoft.Storage/storageAccounts")
    (vault,) = deployed(tenant, "Microsoft.KeyVault/vaults")
    return f"{RG}/{account['name']}", f"{RG}/{vault['name']}"


def _lock(tenant, storage: str, container: str) -> None:
    """What ``az storage container immutability-policy lock`` does on Azure, through the sandbox's lock route
    (BlobContainers - Lock Immutability Policy: POST …/lock with the policy's etag as If-Match)."""
    from azure.core.rest import HttpRequest

    rid = (f"/subscriptions/{tenant.subscription_id}/resourceGroups/{RG}/providers/Microsoft.Storage/storageAccounts/"
           f"{storage.partition('/')[2]}/blobServices/default/containers/{container}/immutabilityPolicies/default")
    resources = factory(tenant).resources(tenant.subscription_id)
    etag = resources.resources.get_by_id(rid, api_version="2023-05-01").additional_properties.get("etag")
    client = resources._client  # noqa: SLF001 (the ARM pipeline: token, retries, the sandbox transport)
    url = f"https://management.azure.com{rid}/lock?api-version=2023-05-01"
    refused = client.send_request(HttpRequest("POST", url))
    assert refused.status_code == 412, refused.text()  # Azure requires If-Match
    answer = client.send_request(HttpRequest("POST", url, headers={"If-Match": etag}))
    assert answer.status_code == 200 and answer.json()["properties"]["state"] == "Locked", answer.text()


def test_unlocked_worm_policies_are_a_problem_naming_the_lock_command(firestop_home):
    tenant = Tenant.load()
    deploy(tenant)
    storage, _ = _names(tenant)
    clients = factory(tenant)
    check = doctor.check_worm_locks(clients, tenant.subscription_id, storage, {})
    assert check["status"] == doctor.PROBLEM, check  # before: no such check, the data-plane "has a policy" was ok
    assert "firestop-records" in check["detail"] and "immutability-policy lock" in check["detail"], check
    for container in ("firestop-records", "firestop-evidence"):
        _lock(tenant, storage, container)
    check = doctor.check_worm_locks(clients, tenant.subscription_id, storage, {})
    assert check["status"] == doctor.PROBLEM and "firestop-ledger" in check["detail"] \
        and "firestop-records" not in check["detail"].split("lock it")[0].lower(), check
    _lock(tenant, storage, "firestop-ledger")
    assert doctor.check_worm_locks(clients, tenant.subscription_id, storage, {})["status"] == doctor.OK
    assert doctor.check_worm_locks(clients, tenant.subscription_id, None, {})["status"] == doctor.SKIPPED


def test_audit_diagnostic_settings_are_checked_on_the_vault_and_the_blob_service(firestop_home):
    tenant = Tenant.load()
    clients = factory(tenant)
    deploy(tenant)
    storage, vault = _names(tenant)
    check = doctor.check_audit_logs(clients, tenant.subscription_id, storage, vault)
    assert check["status"] == doctor.OK, check
    assert "AuditEvent" in check["detail"] and "StorageDelete" in check["detail"], check
    monitor = clients.monitor(tenant.subscription_id)
    blob = f"/subscriptions/{tenant.subscription_id}/resourceGroups/{RG}/providers/Microsoft.Storage/storageAccounts/" \
           f"{storage.partition('/')[2]}/blobServices/default"
    setting = monitor.diagnostic_settings.get(blob, "firestop-audit")
    setting.logs = [log for log in setting.logs if log.category != "StorageDelete"]
    monitor.diagnostic_settings.create_or_update(blob, "firestop-audit", setting)
    check = doctor.check_audit_logs(clients, tenant.subscription_id, storage, vault)
    assert check["status"] == doctor.PROBLEM and "does not send StorageDelete" in check["detail"], check
    assert "az monitor diagnostic-settings create --name firestop-audit" in check["detail"], check
    vault_id = f"/subscriptions/{tenant.subscription_id}/resourceGroups/{RG}/providers/Microsoft.KeyVault/vaults/{vault.partition('/')[2]}"
    monitor.diagnostic_settings.delete(vault_id, "firestop-audit")
    check = doctor.check_audit_logs(clients, tenant.subscription_id, storage, vault)
    assert "has no diagnostic setting firestop-audit" in check["detail"], check
    assert doctor.check_audit_logs(clients, tenant.subscription_id, None, None)["status"] == doctor.SKIPPED


def test_a_mistyped_storage_or_vault_is_named_with_the_output_to_take_it_from(firestop_home):
    """newuser10: ``--storage rg/nosuch`` said only "no immutability policy …; deploy infra/azuredeploy.json", and the
    vault's name was in no output of the deployment (step 7 asks for ``<vaultName>``)."""
    tenant = Tenant.load()
    outputs = deploy(tenant).properties.outputs
    storage, vault = _names(tenant)
    assert f"{RG}/{outputs['vaultName']['value']}" == vault
    assert f"{RG}/{outputs['storageAccountName']['value']}" == storage
    clients = factory(tenant)
    check = doctor.check_worm_locks(clients, tenant.subscription_id, f"{RG}/nosuch", {})
    assert check["status"] == doctor.PROBLEM and "is --storage" in check["detail"] and "storageAccountName" in check["detail"], check
    assert "is --storage" not in doctor.check_worm_locks(clients, tenant.subscription_id, storage, {})["detail"]
    check = doctor.check_audit_logs(clients, tenant.subscription_id, None, f"{RG}/kv-contoso-ai")
    assert check["status"] == doctor.PROBLEM and "check --vault" in check["detail"] and "vaultName output" in check["detail"], check


def test_doctor_tells_a_mistyped_name_from_a_missing_policy_or_setting(firestop_home):
    """leftovers11: the sandbox had no GET of a storage account and answered 404 for the deployed kv-fire-… vault, so
    doctor could only word around a 404 ("or is not there"). Now both answer, and doctor says which it is."""
    tenant = Tenant.load()
    deploy(tenant)
    storage, vault = _names(tenant)
    clients = factory(tenant)
    resources = clients.resources(tenant.subscription_id)
    account = f"/subscriptions/{tenant.subscription_id}/resourceGroups/{RG}/providers/Microsoft.Storage/storageAccounts/" \
              f"{storage.partition('/')[2]}"
    assert resources.resources.get_by_id(account, api_version="2023-05-01").name == storage.partition("/")[2]
    vault_id = f"/subscriptions/{tenant.subscription_id}/resourceGroups/{RG}/providers/Microsoft.KeyVault/vaults/" \
               f"{vault.partition('/')[2]}"
    assert resources.resources.get_by_id(vault_id, api_version="2023-07-01").name == vault.partition("/")[2]
    check = doctor.check_worm_locks(clients, tenant.subscription_id, f"{RG}/nosuch", {})
    assert check["detail"].startswith(f"there is no storage account nosuch in resource group {RG}: is --storage"), check
    monitor = clients.monitor(tenant.subscription_id)
    monitor.diagnostic_settings.delete(vault_id, "firestop-audit")
    check = doctor.check_audit_logs(clients, tenant.subscription_id, None, vault)
    assert check["detail"].startswith(f"{vault} has no diagnostic setting firestop-audit (it exists: "), check
    assert "or is not there" not in check["detail"], check  # no more guessing
    check = doctor.check_audit_logs(clients, tenant.subscription_id, None, f"{RG}/kv-nosuch")
    assert check["detail"].startswith(f"there is no key vault kv-nosuch in resource group {RG}: mistyped?"), check
