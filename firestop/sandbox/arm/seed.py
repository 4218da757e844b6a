"""Seed steps of the ARM room: the seed file's ``accounts`` (order 10) and ``network_security_groups`` (order 40).

``accounts`` items: ``resource_group``, ``name``, optional ``location``
(default ``swedencentral``), ``kind`` (``OpenAI``), ``sku`` (``S0``), ``tags``,
``properties``, ``identity`` (the managed identity as ARM shows it), ``created_at`` / ``created_by``, ``keys: {key1, key2}``
(default: two 32-lower-hex values from the seeded RNG) and ``deployments``
(``[{name, model, version, sku?, capacity?, rai_policy?}]``), ``rai_blocklists``
(``[{name, description?}]``) and ``rai_policies`` (``[{name, base?, threshold?, blocklists?}]``: user-managed
content filter policies, every harm category at ``threshold`` (default ``Low``, the strictest), blocking).
``network_security_groups`` items: ``resource_group``, ``name``, ``location``?,
``rules: [{name, properties}]``.
"""

from __future__ import annotations

from ..core.rooms import SeedContext
from . import models as T
from . import room


@room.seeder(order=10)
def seed_accounts(ctx: SeedContext) -> None:
    state, doc, spec = ctx.state, ctx.doc, ctx.spec
    for acc in spec.get("accounts", []) or []:
        created_at = ctx.arm_time(acc.get("created_at", spec["clock"]))
        body = T.openai_account(
            state,
            resource_group=acc["resource_group"],
            name=acc["name"],
            location=acc.get("location", "swedencentral"),
            created_at=created_at,
            created_by=acc.get("created_by", "admin@contoso.com"),
            kind=acc.get("kind", "OpenAI"),
            sku=acc.get("sku", "S0"),
            tags=acc.get("tags"),
            properties=acc.get("properties"),
            identity=acc.get("identity"),
        )
        state.put_resource(body)
        keys = acc.get("keys")
        if keys:
            doc["account_keys"][body["id"].lower()] = {"key1": str(keys["key1"]), "key2": str(keys["key2"])}
            doc["issued_keys"].extend([str(keys["key1"]), str(keys["key2"])])
        else:
            doc["account_keys"][body["id"].lower()] = {"key1": state.issue_key(), "key2": state.issue_key()}
        who = acc.get("created_by", "admin@contoso.com")
        for bl in acc.get("rai_blocklists", []) or []:
            state.put_resource(T.rai_blocklist(body, name=bl["name"], description=str(bl.get("description", "")),
                                               created_at=created_at, created_by=who))
        for pol in acc.get("rai_policies", []) or []:
            state.put_resource(T.rai_policy(body, name=pol["name"], base=pol.get("base", "Microsoft.DefaultV2"),
                                            threshold=pol.get("threshold", "Low"), blocklists=list(pol.get("blocklists", []) or []),
                                            created_at=created_at, created_by=who))
        for dep in acc.get("deployments", []) or []:
            state.put_resource(
                T.deployment(
                    body,
                    name=dep["name"],
                    model=dep["model"],
                    version=str(dep["version"]),
                    sku=dep.get("sku", "Standard"),
                    capacity=int(dep.get("capacity", 10)),
                    created_at=created_at,
                    created_by=acc.get("created_by", "admin@contoso.com"),
                    rai_policy=dep.get("rai_policy", "Microsoft.DefaultV2"),
                )
            )


@room.seeder(order=40)
def seed_network_security_groups(ctx: SeedContext) -> None:
    for nsg in ctx.spec.get("network_security_groups", []) or []:
        ctx.state.put_resource(
            T.network_security_group(
                ctx.state,
                resource_group=nsg["resource_group"],
                name=nsg["name"],
                location=nsg.get("location", "swedencentral"),
                rules=list(nsg.get("rules", []) or []),
            )
        )
