"""Seed step of the Key Vault room: the seed file's ``vaults`` (order 20, after the accounts).

Items: ``resource_group``, ``name``, ``location``?, ``properties``? (ARM vault properties over the
defaults of :func:`~.models.key_vault`, e.g. ``enablePurgeProtection: true``), ``secrets: [{name, value |
value_from: {account, key}, content_type?, tags?, created_at?}]``;
``value_from`` takes the named account's key at seed time.
"""

from __future__ import annotations

from ..arm.models import account_by_name
from ..core.clock import parse_utc
from ..core.rooms import SeedContext
from . import room
from .models import key_vault


@room.seeder(order=20)
def seed_vaults(ctx: SeedContext) -> None:
    state, doc, spec = ctx.state, ctx.doc, ctx.spec
    for vault in spec.get("vaults", []) or []:
        body = key_vault(state, resource_group=vault["resource_group"], name=vault["name"], location=vault.get("location", "swedencentral"),
                         properties=vault.get("properties"))
        state.put_resource(body)
        secrets: dict[str, dict] = {}
        for secret in vault.get("secrets", []) or []:
            if "value_from" in secret:
                ref = secret["value_from"]
                account = account_by_name(state, str(ref["account"]))
                value = doc["account_keys"][account["id"].lower()][str(ref["key"]).lower()]
            else:
                value = str(secret["value"])
            created = int(parse_utc(ctx.when(secret.get("created_at", spec["clock"]))).timestamp())
            secrets[secret["name"].lower()] = {
                "name": secret["name"],
                "versions": [
                    {
                        "version": state.new_hex("secret-version", 32),
                        "value": value,
                        "created": created,
                        "updated": created,
                        "enabled": True,
                        "contentType": secret.get("content_type"),
                        "tags": secret.get("tags"),
                    }
                ],
            }
        doc["vaults"][vault["name"].lower()] = {"name": vault["name"], "resource_id": body["id"], "secrets": secrets}
