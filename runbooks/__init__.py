"""Runbooks: the actions Firestop takes, one small module per capability.

Each runbook registers itself (``@register``) when its module is imported; :data:`runbooks.registry.SHIPPED`
declares which module holds which name, so :func:`get_runbook` imports a runbook's module on first use and
:func:`runbook_names` needs no import at all. Run them through :func:`runbooks.dispatch.execute`.

=================================  ======================================  ==========================================
runbook                            target                                  effect (undo)
=================================  ======================================  ==========================================
``evidence.snapshot_config``       Azure OpenAI account (+ ``also``)        ARM JSON before any change, hashed (kept)
``evidence.snapshot_logs``         Azure OpenAI account                     AzureDiagnostics of the window, hashed (kept)
``keys.rotate``                    Azure OpenAI account                     spare key, Key Vault cut-over, key in use (no undo)
``keys.revoke``                    Azure OpenAI account                     both keys at once, new one to Key Vault (no undo)
``auth.disable_local_auth``        Azure OpenAI account                     ``disableLocalAuth: true`` (restores the value)
``network.lock``                   Azure OpenAI account                     deny by default / public access off (restores networkAcls)
``network.block_ips``              network security group                   deny rules at free priorities (removes exactly those)
``identity.revoke_role_assignment`` Azure OpenAI account                    a principal's roles on it (re-creates them)
``deployment.throttle``            Azure OpenAI account + ``deployment``    sku.capacity cut (restores it)
``deployment.content_filter``      Azure OpenAI account + ``deployment``    stricter RAI policy / blocklist items (restores, removes)
``deployment.suspend``             Azure OpenAI account + ``deployment``    snapshot + delete (recreates it exactly)
``network.reject_private_endpoint`` Azure OpenAI account + ``connection``  one private endpoint Rejected (approves it again)
``network.restrict_outbound``      Azure OpenAI account                     restrictOutboundNetworkAccess + allowedFqdnList (restores)
``apim.suspend_subscription``      API Management service + ``subscription`` one consumer's subscription suspended (resumes it)
``apim.regenerate_subscription_key`` API Management service + ``subscription`` its key(s) regenerated (no undo)
``identity.disable_service_principal`` — (Graph object ID in params)       accountEnabled=false (enables it again)
``identity.revoke_sessions``       — (user object ID)                       revokeSignInSessions (no undo)
``identity.confirm_compromised``   — (service principal object ID)          Entra ID Protection risk high (no undo)
``records.file``                   —                                        record to Blob Storage or FIRESTOP_HOME (kept)
``notify.webhook``                 —                                        Teams/Slack message, redacted (no undo)
=================================  ======================================  ==========================================

Several targets: the orchestrator runs a step once per target with the same incident
and step id, so everything a runbook keys on carries the target too — the key
runbooks' Key Vault marker names the account (``firestop-account``) and each account
has its own consumers' secret (ARM tag ``firestop-key-secret`` on the account, else
the settings' default; either only when it holds that account's key, and only in an
allowed vault — FIRESTOP_KEY_VAULT_URL's or FIRESTOP_KEY_VAULT_ALLOWED_URLS: :mod:`runbooks.keys`);
evidence items are named after their target (:func:`runbooks.evidence.evidence_name`);
NSG rule names are scoped to their NSG.

Contract: :mod:`runbooks.base`; Azure actions per runbook: ``Runbook.permissions``
(the least-privilege role: :mod:`runbooks.permissions`); every evidence item and
every apply/undo of a mutating runbook goes on the incident's hash-chained
ledger, ``FIRESTOP_HOME/ledger/<incident>.jsonl`` (:mod:`runbooks.ledger`).
"""

from runbooks.registry import SHIPPED, UnknownRunbook, all_runbooks, get_runbook, register, runbook_class, runbook_names

__all__ = ["SHIPPED", "UnknownRunbook", "all_runbooks", "get_runbook", "register", "runbook_class", "runbook_names"]
