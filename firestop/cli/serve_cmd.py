"""``python -m firestop serve``: the Function App over HTTP on the sandbox, like ``func start``.

Thin wiring around :class:`firestop.runtime.serve.FunctionsServer` (which
documents routes, keys, the background driver, timer triggers and time):
the sandbox environment of :mod:`firestop.cli.wiring` (tenant + local durable
host on ``FIRESTOP_HOME``), the function key, ``host.json``'s route prefix.
Runs until Ctrl+C or SIGTERM; exit 0 then, 2 for a bad option or a port in
use, 1 for an internal error. While it runs it holds ``FIRESTOP_HOME/serve.<pid>.lock``
(:mod:`firestop.cli.serve_lock`), so ``sandbox reset`` refuses to replace the tenant under it.
"""

from __future__ import annotations

import ipaddress
import os
import signal
import threading
from typing import Optional

import typer

from firestop.cli.output import EXIT_BAD_INPUT, EXIT_INTERNAL, fail

REALTIME_ENV = "FIRESTOP_SANDBOX_REALTIME_FACTOR"


def _loopback(address: str) -> bool:
    if address == "localhost":
        return True
    try:
        return ipaddress.ip_address(address).is_loopback
    except ValueError:
        return False


def _json_logs() -> bool:
    from firestop.telemetry.logs import log_format

    return log_format() == "json"


def serve(
    host: str = typer.Option("127.0.0.1", "--host", help="Address to listen on (loopback by default)."),
    port: int = typer.Option(7071, "--port", min=0, max=65535, help="Port (0 picks a free one; the address is printed)."),
    realtime_factor: Optional[float] = typer.Option(
        None, "--realtime-factor", min=0.0,
        help="Wall seconds per simulated second for the sandbox's virtual clock: 1 = real time (default, or "
             f"${REALTIME_ENV}), 0.1 = ten times faster, 0 = simulated time moves only through simulated work."),
    advance_timers: bool = typer.Option(
        False, "--advance-timers",
        help="Jump the virtual clock to the next durable timer whenever nothing else can run (instant, like "
             "'alert handle'; approvals racing a timer then time out at once)."),
    poll_interval: float = typer.Option(0.5, "--poll-interval", min=0.01, help="Seconds between checks for work "
                                        "other processes put in the database."),
    auth_jwks: Optional[str] = typer.Option(
        None, "--auth-jwks", metavar="FILE",
        help="Act as App Service authentication: believe only bearer tokens signed by a key of this JWKS file "
             "(public keys), never a client-sent principal header (with --auth-issuer and --auth-audience)."),
    auth_issuer: Optional[str] = typer.Option(None, "--auth-issuer", metavar="ISS", help="The iss claim tokens must carry (--auth-jwks)."),
    auth_audience: Optional[str] = typer.Option(None, "--auth-audience", metavar="AUD", help="The aud claim tokens must carry (--auth-jwks)."),
) -> None:
    """Serve function_app.py's HTTP functions (with their auth levels), the Durable status URLs and timer
    triggers, and run orchestrations in the background — what 'func start' gives, without Core Tools."""
    from firestop.cli.wiring import function_app, sandbox_environment
    from firestop.runtime.serve import FunctionsServer, function_key, read_route_prefix, system_key, unsupported_bindings
    from firestop.settings import REPO_ROOT

    if realtime_factor is None:
        raw = os.environ.get(REALTIME_ENV, "").strip()
        try:
            realtime_factor = float(raw) if raw else 1.0
        except ValueError:
            fail(f"{REALTIME_ENV}: {raw!r} is not a number; use e.g. 1 (real time) or 0", EXIT_BAD_INPUT)
        if not realtime_factor >= 0:
            fail(f"{REALTIME_ENV}: must be >= 0, got {raw!r}", EXIT_BAD_INPUT)

    authenticator = None
    if auth_jwks or auth_issuer or auth_audience:
        from firestop.trust.bearer import BearerAuthenticator

        if not (auth_jwks and auth_issuer and auth_audience):
            fail("--auth-jwks, --auth-issuer and --auth-audience go together; give all three", EXIT_BAD_INPUT)
        try:
            authenticator = BearerAuthenticator.from_file(auth_jwks, issuer=auth_issuer, audience=auth_audience)
        except (OSError, ValueError, KeyError, TypeError) as exc:
            fail(f"--auth-jwks: {auth_jwks!r} is not a readable JWKS of RS256 public keys ({type(exc).__name__}); "
                 'give a file {"keys": [{"kty": "RSA", "kid", "n", "e"}]}', EXIT_BAD_INPUT)
        except Exception as exc:  # noqa: BLE001 — PyJWT raises its own errors for a bad key
            fail(f"--auth-jwks: {auth_jwks!r}: {type(exc).__name__}", EXIT_BAD_INPUT)

    from firestop.telemetry.logs import configure_logging

    try:
        # one line per request and per decision on stderr (FIRESTOP_LOG_FORMAT=json: JSON lines), written by a thread
        # of its own: a slow reader of stderr never holds up a request (telemetry/logs.py)
        configure_logging(background=True)
    except ValueError as exc:
        fail(str(exc), EXIT_BAD_INPUT)

    env = None
    try:
        env = sandbox_environment()
        os.environ.setdefault("FIRESTOP_AUDIT_SUBSCRIPTION", env.tenant.subscription_id)  # the audit route/timer read the sandbox
        key, origin = function_key(env.settings.home)
        admin_key, admin_origin = system_key(env.settings.home)
        if admin_key == key:
            fail("FIRESTOP_SYSTEM_KEY: must differ from the function key (the system key opens the durable "
                 "management webhooks; alert senders hold the function key)", EXIT_BAD_INPUT)
        from firestop.telemetry.start import start_telemetry

        telemetry = start_telemetry(secrets=(key, admin_key))  # the keys never appear in a log line
        app = function_app()
        if hasattr(env.tenant, "realtime_factor"):
            env.tenant.realtime_factor = realtime_factor  # the sandbox's latencies pace the same way
        try:
            server = FunctionsServer(app, env.host, function_key=key, system_key=admin_key, address=host, port=port,
                                     route_prefix=read_route_prefix(REPO_ROOT / "host.json"),
                                     realtime_factor=realtime_factor, advance_timers=advance_timers,
                                     poll_interval=poll_interval, authenticator=authenticator)
        except OSError as exc:
            fail(f"--host/--port: cannot listen on {host}:{port} ({exc.strerror or exc}); pick another with --port",
                 EXIT_BAD_INPUT)
        except ValueError as exc:
            fail(f"function_app.py: {exc}", EXIT_BAD_INPUT)
    except typer.Exit:
        if env is not None:
            env.close()
        raise
    except Exception as exc:  # noqa: BLE001
        if env is not None:
            env.close()
        from firestop.cli.main import _unusable_state  # a FIRESTOP_HOME that cannot be made: exit 2 naming it

        problem = _unusable_state(exc)
        if problem:
            fail(*problem)
        fail(f"internal error: {type(exc).__name__}: {exc}", EXIT_INTERNAL)

    echo = typer.echo
    from firestop.times import instant

    echo(f"Firestop serve: function_app.py on the local durable host (FIRESTOP_HOME={env.settings.home})")
    echo(f"Function key ({origin}): {key}")
    echo("HTTP functions:")
    roles = route_roles(app)
    for route in sorted(server.routes, key=lambda r: r.template):
        methods = ",".join(sorted(route.methods)) if route.methods else "any"
        echo(f"  {route.function}: [{methods}] {server.url_for(route)}  ({route_guard(route, roles, bearer=authenticator is not None)})")
    now = env.host.clock.now()
    for timer in server.timers:
        echo(f"  {timer.function}: timer '{timer.schedule.expression}', next {instant(timer.schedule.next_after(now))}")
    skipped = unsupported_bindings(app)
    for name, kinds in skipped.items():
        echo(f"  warning: {name} has bindings the local server cannot provide ({', '.join(kinds)}); calls fail")
    pace = (f"realtime factor {realtime_factor:g} (wall s per simulated s)" if realtime_factor > 0
            else "simulated time moves only through simulated work")
    echo(f"Durable: {env.host.db_path}; management webhooks under {server.base_url}/runtime/webhooks/durabletask/ "
         f"take the system key only, an admin secret ({admin_origin}; FIRESTOP_SYSTEM_KEY), never the function key; "
         f"clock: sandbox virtual clock at {instant(now)}, {pace}"
         + ("; timers advance at once when idle" if advance_timers else ""))
    echo(f"Logs: one line per request and per decision on stderr ({'JSON' if _json_logs() else 'key=value'}; "
         f"FIRESTOP_LOG_FORMAT=json|text); OpenTelemetry: "
         + (f"exporting to {telemetry}" if telemetry else
            "off (set APPLICATIONINSIGHTS_CONNECTION_STRING, or FIRESTOP_OTEL_CONSOLE=1 for the console)"))
    from firestop.trust import HEADER, load_table

    try:
        roles_from = load_table(env.settings.home, local=True).source
    except ValueError as exc:
        roles_from = f"INVALID ({exc}); every responders' call is refused"
    if authenticator is not None:
        echo(f"Responders' API and console: App Service authentication stand-in: bearer tokens of issuer "
             f"{authenticator.issuer} for {authenticator.audience} only; client-sent {HEADER} headers are dropped "
             f"(roles from {roles_from})")
    else:
        echo(f"Responders' API and console: trust the {HEADER} header from loopback peers that also send the function key "
             f"(identity only; roles from {roles_from}); for browsers, add both headers or use --auth-jwks")
    if not _loopback(host):
        echo(f"  warning: listening on {host}, not loopback: anyone who can reach this port and has the key can "
             "call the functions; this is a development server (plain HTTP)")

    from firestop.cli import serve_lock

    stop = threading.Event()
    stopped_by: list[str] = []

    def stopping(signum: int, frame) -> None:
        stopped_by.append(signal.Signals(signum).name)
        stop.set()

    # a signal inherited as ignored stays ignored (started with SIGINT ignored — a shell's background job without
    # job control, trap '' INT — Ctrl-C in that terminal is not for this server: SIGTERM stops it)
    previous = {sig: signal.signal(sig, stopping) for sig in (signal.SIGINT, signal.SIGTERM)
                if signal.getsignal(sig) is not signal.SIG_IGN}
    held = None
    try:
        server.start()
        held = serve_lock.hold(env.settings.home, url=server.base_url)  # sandbox reset refuses while it is held
        from firestop.runtime.heap import freeze_startup_heap

        freeze_startup_heap()  # warmed up: full collections no longer walk the start-up heap (runtime/heap.py)
        echo(f"Listening on {server.base_url} (Ctrl+C to stop)")
        while not stop.wait(1.0):
            pass
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        server.stop()
        serve_lock.release(held)
        env.close()
    echo(f"Stopped ({stopped_by[0]}).")


def route_roles(app) -> dict[str, str | None]:
    """``{function name: role}`` of the app's HTTP functions that declared one with
    :func:`firestop.trust.route_roles.requires` (the role their check uses); None for one declared
    :func:`~firestop.trust.route_roles.public`. A function that declared nothing is left out."""
    from firestop.runtime.functions import index_app
    from firestop.trust.route_roles import NOT_DECLARED, declaration_of

    found: dict[str, str | None] = {}
    for entry in index_app(app).others.values():
        try:
            declared = declaration_of(entry.function.get_user_function())
        except AttributeError:
            continue
        if declared is not NOT_DECLARED:
            found[entry.name] = None if declared is None else str(declared)
    return found


def route_guard(route, roles: dict[str, str], *, bearer: bool) -> str:
    """What guards ``route`` (:class:`firestop.runtime.serve.HttpRoute`) as serve prints it: the function key for a
    ``function``/``admin`` route; for an ``anonymous`` (people's) route the role its function checks and where the
    caller comes from — App Service authentication on Azure, here ``--auth-jwks`` tokens or, without it, loopback
    callers (a claimed identity must also hold the function key)."""
    if route.auth_level != "anonymous":
        return f"function key ({route.auth_level} level)"
    if route.function not in roles:
        return "NO ROLE DECLARED: no key; declare its role with @requires, or @public"
    role = roles[route.function]
    if role is None:
        return "public: no key, no role"
    caller = "bearer token (--auth-jwks)" if bearer else "loopback; a claimed identity also needs the function key"
    return f"role {role}; caller: {caller}"
