"""RT18-02 (attacker c: a Firestop responder, no Entra admin role): the responders' API runs Firestop's Microsoft Graph
runbooks on *any* identity of the tenant with the app's own, tenant-wide Graph permissions.

``POST /api/runbooks/{name}`` needs the responder role only. The ARM runbooks are bounded by where Firestop's Azure role
is assigned (the protected accounts; ``firestop permissions``), but ``identity.disable_service_principal``,
``identity.confirm_compromised`` and ``identity.revoke_sessions`` take an object id and act with
``Application.ReadWrite.All`` / ``IdentityRiskyServicePrincipal.ReadWrite.All`` / ``User.RevokeSessions.All``, which
are tenant-wide: nothing ties the principal to an Azure OpenAI account, an incident or an alert. A responder disables
the tenant's CI/CD service principal ``build-agent-ci`` (no role on any account) — what Entra reserves for Cloud
Application Administrator — or marks any workload identity compromised (no undo) or signs a Global Administrator
out. Only Firestop's own identity is refused (``_not_self``). Severity medium: a confused deputy from a Firestop role to
Entra-wide actions; the playbooks' own steps act only on a principal the confirmed alert names.
"""

from __future__ import annotations

import pytest

from tests.e2e.test_http_api import api  # noqa: F401 (the fixture: the API as firestop serve runs it)

BUILD_AGENT = "e7d9a3c1-58b2-4f06-9c1a-7b3e2d4f6a80"  # build-agent-ci: a tenant workload with no role on any account


@pytest.mark.xfail(strict=True, reason="RT18-02: a responder disables any service principal of the tenant through the API "
                                       "(tenant-wide Graph permission, no tie to a protected account); left to the integrator")
def test_rt18_02_a_responder_cannot_disable_an_unrelated_service_principal(api):  # noqa: F811
    status, body = api.call("run_runbook_http", "POST", "runbooks/identity.disable_service_principal", who="oid-bob",
                            route={"name": "identity.disable_service_principal"},
                            body={"params": {"service_principal_id": BUILD_AGENT}, "mode": "run"})
    # oid-bob holds the responder role only; build-agent-ci has nothing to do with the Azure OpenAI accounts
    assert status == 403, (status, body)
