"""The sandbox's shared machinery: what every room (simulated Azure service) builds on.

Contract: ``core`` imports nothing from the rooms (``firestop.sandbox.<room>``);
rooms import ``core`` and, for cross-references while seeding, other rooms'
``models`` (never their routes). The tenant (:mod:`firestop.sandbox.tenant`)
composes core and rooms.

* ``state.py`` — the tenant's state document (:class:`TenantState`), deterministic generators
* ``store.py`` — persistence: snapshot + append-only journal of changes, shared between processes, crash-safe
* ``clock.py`` — :class:`VirtualClock` (aware UTC) and ISO helpers
* ``router.py`` — :class:`Route` / :class:`Router` / :class:`RequestContext` (most literal template wins)
* ``rooms.py`` — the room registry: :class:`Room` (routes, latencies, seed steps), :func:`load_rooms`
* ``transport.py`` / ``wire.py`` — the azure-core ``HttpTransport`` and the request/response the handlers see
* ``auth.py`` / ``credential.py`` — bearer-token checks per service (ARM, Key Vault challenge, Log Analytics) and fake tokens
* ``errors.py`` — the services' error bodies; ``armapi.py`` — helpers every ARM route uses (scope check, JSON body, caller)
* ``faults.py`` — scripted / random / LRO fault injection; ``lro.py`` — ARM long-running operations
* ``latency.py`` — the latency table (rooms declare their operations' defaults)
"""
