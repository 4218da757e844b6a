"""Seed step of the apim room (order 70): ``apim_services: [{name, resource_group, location?,
subscriptions: [{sid, display_name, scope (e.g. /apis/openai), owner?, state?}]}]``; keys from the seeded RNG
(drawn after every earlier room, so their values never shift)."""

from __future__ import annotations

from ..core.rooms import SeedContext
from . import models as M
from . import room


@room.seeder(order=70)
def seed_apim(ctx: SeedContext) -> None:
    state = ctx.state
    keys = state.doc.setdefault("apim_keys", {})
    for svc in ctx.spec.get("apim_services", []) or []:
        body = M.service(state, resource_group=svc["resource_group"], name=svc["name"], location=svc.get("location", "swedencentral"))
        state.put_resource(body)
        for sub in svc.get("subscriptions", []) or []:
            item = M.subscription(body, sid=sub["sid"], display_name=sub.get("display_name", sub["sid"]), scope=sub.get("scope", "/apis"),
                                  owner=sub.get("owner"), state=sub.get("state", "active"), created=ctx.arm_time(ctx.clock))
            state.put_resource(item)
            keys[item["id"].lower()] = {"primaryKey": M.new_key(state), "secondaryKey": M.new_key(state)}
