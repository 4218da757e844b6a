"""Encryption at rest: which key protects the account's data (recorded; customer-managed keys where required)."""

from __future__ import annotations

from firestop.audit.models import Area, Evidence, Severity
from firestop.audit.reader import AuditContext
from firestop.audit.registry import NoParams, Verdict, control, failed, passed


@control("encryption.customer-managed-key", title="Data encrypted with a customer-managed key",
         area=Area.ENCRYPTION, severity=Severity.LOW, target="account",
         policy="67121cc7-ff39-4ab8-b7e3-95b84dab487d",  # Cognitive Services accounts should enable data encryption with a customer-managed key
         fix="Where regulation asks for it, encrypt with a key in your Key Vault (encryption.keySource = Microsoft.KeyVault, "
             "the account's managed identity granted wrap/unwrap on the key). Microsoft-managed keys are encrypted at rest too.",
         reads=("accounts.list",))
def customer_managed_key(ctx: AuditContext, account: dict, params: NoParams) -> Verdict:
    encryption = (account.get("properties") or {}).get("encryption") or {}
    source = encryption.get("keySource")
    evidence = Evidence(read="accounts.get properties.encryption.keySource", value=source)
    if source == "Microsoft.KeyVault":
        kv = encryption.get("keyVaultProperties") or {}
        return passed(f"customer-managed key {kv.get('keyName') or ''} in {kv.get('keyVaultUri') or 'Key Vault'}".strip(), evidence)
    return failed(f"Microsoft-managed keys ({source or 'encryption not set: the default, Microsoft.CognitiveServices'})", evidence)
