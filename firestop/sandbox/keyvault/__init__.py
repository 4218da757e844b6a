"""Room ``keyvault``: the Key Vault secrets data plane (``{vault}.vault.azure.net``, API 7.5) and the
vaults' management plane (``Microsoft.KeyVault/vaults`` on ARM, read-only).

Contract (see :mod:`firestop.sandbox.core.rooms`): ``models.py`` (vault ARM
body, ``doc["vaults"]`` layout), ``routes.py`` (``secrets.set`` / ``secrets.get``
/ ``secrets.versions``, with Key Vault's challenge-auth flow in
:mod:`firestop.sandbox.core.auth`), ``management.py`` (``vaults.get`` /
``vaults.listByResourceGroup`` / ``vaults.listBySubscription``: soft delete, purge
protection, RBAC authorisation as the audit reads them; ``vaultSecrets.get``: whether a secret exists), ``seed.py`` (``vaults``, order 20).
"""

from ..core.rooms import Room

room = Room(
    "keyvault",
    latency={
        "secrets.challenge": 0.05,  # the unauthenticated first request answered 401
        "secrets.set": 0.2,
        "secrets.get": 0.1,
        "secrets.versions": 0.1,
        "vaults.get": 0.1,
        "vaults.listByResourceGroup": 0.2,
        "vaults.listBySubscription": 0.2,
        "vaultSecrets.get": 0.1,  # Secrets_Get on ARM: a secret's properties, never its value (infra deploy)
    },
    modules=("management", "routes", "seed"),  # register on ``room`` (imported by ``room.load()``)
)
