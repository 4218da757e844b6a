"""R16-08 under the roles the template deploys (``infra/azuredeploy.json`` with ``python -m firestop infra``'s
parameters, enforced as the sandbox enforces them, the dev account left out): the containment role at the protected account makes it protected;
audit16's read role at the subscription makes no other account protected; and the audit still runs as those roles.
Before the fix the dev account, which only the audit's read role reaches, read as protected."""

from __future__ import annotations

from firestop.infra.grants import enforced_roles, held
from firestop.sandbox.authorization.models import assignments, new_assignment
from firestop.sandbox import Tenant
from runbooks import get_runbook
from runbooks.graph_scope import refusal
from tests.audit16.test_audit_as_the_deployed_role import _audit
from tests.infra.conftest import factory
from tests.infra.test_infra_deploy import deploy
from tests.redteam18.test_rt18_responder_tenant_wide_graph import ACCOUNT, BUILD_AGENT, DISABLE, REPORT_EXPORTER
from tests.review16.test_r16_graph_scope_unprotected_account import CS_USER, DEV


def test_protected_means_the_deployed_containment_role_and_the_audit_still_runs(firestop_home):
    tenant = Tenant.load()
    outputs = deploy(tenant).properties.outputs
    roles = enforced_roles(held(factory(tenant), tenant.subscription_id, outputs["identityPrincipalId"]["value"]))
    audit = [r for r in roles if "Microsoft.Insights/actionGroups/read" in r["Actions"]]
    assert [r["AssignableScopes"] for r in audit] == [[f"/subscriptions/{tenant.subscription_id}"]], roles
    # the default parameters protect both accounts: as deployed with `firestop infra --account rg-ai-prod/contoso-openai-prod`
    roles = [{**r, "AssignableScopes": [s for s in r["AssignableScopes"] if not s.lower().endswith("/contoso-openai-dev")]}
             for r in roles]
    pipeline = new_assignment(scope=DEV, name="3e4d5c6b-7a89-4b0c-9d1e-2f3a4b5c6d7e", role_definition_id=CS_USER,
                              principal_id=BUILD_AGENT, principal_type="ServicePrincipal", created_on="2026-01-01T00:00:00Z",
                              created_by="b6f1a3c2-7e4d-4f5a-9c8b-1d2e3f4a5b6c", description="the dev team's pipeline")
    assignments(tenant._state)[pipeline["id"].lower()] = pipeline  # noqa: SLF001 — the principal acts on dev
    runbook = type(get_runbook(DISABLE))
    tenant.enforce_role(roles)
    try:
        clients = factory(tenant)
        assert refusal(clients, runbook, ACCOUNT, {"service_principal_id": REPORT_EXPORTER}, admin=False) is None
        refused = refusal(clients, runbook, DEV, {"service_principal_id": BUILD_AGENT}, admin=False)
        assert refused is not None and refused.field == "target", refused
        assert "not an account Firestop protects" in refused.reason and "firestop infra --account" in refused.fix
        results = _audit(tenant).results
    finally:
        tenant.enforce_role(None)
    assert results
    forbidden = [(r.control, r.detail) for r in results if "403" in r.detail or "AuthorizationFailed" in r.detail]
    assert forbidden == [], forbidden
