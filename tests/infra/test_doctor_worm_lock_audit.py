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
    """What ``az storage container immutability-policy lock`` does on Azure (the sandbox has no lock route: its state)."""
    from firestop.sandbox.deployments.routes import policy_id

    state = tenant._state  # noqa: SLF001
    state.doc.setdefault("immutability_locks", {})[policy_id(state, RG, storage.partition("/")[2], container).lower()] = True


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
