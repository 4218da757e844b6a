"""``python -m firestop sandbox simulate FILE``: play an attack on the persisted sandbox tenant, for live demos.

FILE is a scenario (its ``attack:`` section; ``playbooks:`` for the rules) or a YAML file with just
those keys. The command deploys the playbooks' alert rules and the action group on the sandbox
under ``FIRESTOP_HOME/sandbox`` (the tenant ``firestop serve`` uses; ``--no-deploy`` keeps what is
there), then moves the virtual clock one simulated minute at a time from now to the attack's end
plus :data:`~firestop.tabletop.detection.HORIZON_S`: the attacker's calls are answered, rows,
Activity Log events and metrics appear, rules run, and every alert is delivered — with ``--to URL``
(``http://127.0.0.1:<port>/api/alerts`` of ``firestop serve``) as a POST with the function key
(``x-functions-key``, :func:`firestop.runtime.serve.function_key`), retried as action groups
retry (:mod:`firestop.sandbox.monitor.delivery`, waits on the virtual clock); without ``--to`` the
alerts are only listed. ``--realtime F`` spends F wall seconds per simulated second (0: never wait).

Exit codes: 0 done (with ``--to``: every alert delivered, a 2xx); 2 bad input (unreadable file, no attack, a bad
URL) or the webhook refused an alert (a 4xx: e.g. 401, another ``FIRESTOP_HOME``'s function key); 1 an alert could not
be delivered (nothing listening, a transport error or 5xx after Azure's retries) or an internal error — as remote
mode's exit codes. The output is printed first; then one ``--to:`` line (stderr; with ``--json`` the result's
``undelivered`` list and no second document).
Output: one line per alert (rule, condition, simulated time, delivery statuses) and the attacker's
tally; ``--json``: ``{"alerts": [...], "requests": {...}, "first_malicious_at", "clock"}``.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Optional
from urllib.parse import urlsplit

import typer

from firestop.cli.output import EXIT_BAD_INPUT, EXIT_INTERNAL, clean, console, fail, print_json
from firestop.times import instant
from firestop.private import private_dirs


def simulate(
    file: Path = typer.Argument(..., help="Scenario (or attack) YAML file with an attack: section."),
    to: Optional[str] = typer.Option(None, "--to", metavar="URL", help="Deliver alerts to this webhook (firestop serve's /api/alerts)."),
    deploy: bool = typer.Option(True, "--deploy/--no-deploy", help="Deploy the playbooks' alert rules and the action group first."),
    realtime: float = typer.Option(0.0, "--realtime", min=0.0, max=10.0, help="Wall seconds per simulated second (0 = as fast as possible)."),
    as_json: bool = typer.Option(False, "--json", help="Print the result as JSON."),
) -> None:
    """Play an attack on the sandbox tenant: requests, logs, Activity Log, metrics; rules fire; alerts are delivered."""
    import yaml
    from pydantic import ValidationError

    from firestop.sandbox import Tenant
    from firestop.sandbox.monitor.delivery import deliver, redact
    from firestop.settings import Settings
    from firestop.tabletop.attack import AttackStep, Driver, check_bounds
    from firestop.tabletop.detection import HORIZON_S, deploy_detection

    try:
        data = yaml.safe_load(file.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        fail(f"FILE: {file} cannot be read as YAML: {clean(str(exc))}", EXIT_BAD_INPUT, as_json=as_json)
    if not isinstance(data, dict) or not isinstance(data.get("attack"), list) or not data["attack"]:
        fail(f"FILE: {file} has no attack: list; see firestop/tabletop/attack.py for the format", EXIT_BAD_INPUT, as_json=as_json)
    try:
        steps = [AttackStep.model_validate(s) for s in data["attack"]]
        check_bounds(steps)
    except (ValidationError, ValueError) as exc:
        fail(f"FILE: attack: {clean(str(exc).splitlines()[0])}", EXIT_BAD_INPUT, as_json=as_json)
    if to is not None and (urlsplit(to).scheme not in ("http", "https") or not urlsplit(to).hostname):
        fail("--to: give the webhook URL, e.g. http://127.0.0.1:7071/api/alerts", EXIT_BAD_INPUT, as_json=as_json)
    settings = Settings.from_env()
    private_dirs(settings.home)
    playbooks = (file.parent / data["playbooks"]) if data.get("playbooks") else settings.playbooks_dir
    tenant = Tenant.open(settings.sandbox_dir)
    tenant.realtime_factor = realtime
    if deploy:
        deploy_detection(tenant, playbooks)
    post = None
    if to is not None:
        import urllib.error
        import urllib.request

        from firestop.runtime.serve import KEY_HEADER, function_key

        key, _ = function_key(settings.home)

        def post(url: str, body: bytes) -> int:
            request = urllib.request.Request(to, data=body, method="POST",
                                             headers={"Content-Type": "application/json", KEY_HEADER: key})
            try:
                with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 — the operator's own URL
                    return response.status
            except urllib.error.HTTPError as exc:
                return exc.code

    alerts: list[dict] = []

    def notify(n) -> None:
        entry = {"rule": n.rule_name, "condition": n.condition, "at": n.at.isoformat(), "explain": n.explain, "delivery": []}
        if post is not None and n.webhooks:
            entry["delivery"] = deliver(n.payload, [{"serviceUri": to}], post, tenant.clock.sleep)
            entry["delivery"] = [{**d, "url": redact(to)} for d in entry["delivery"]]
        alerts.append(entry)
        if not as_json:
            statuses = ", ".join(str(d.get("status", d.get("error"))) for d in entry["delivery"]) or "not delivered (no --to)"
            console.print(clean(f"{instant(n.at)}  {n.condition:9} {n.rule_name}  → {statuses}"), highlight=False, markup=False)

    before = len(tenant.data_plane_log())
    driver = Driver(tenant, steps, notify)
    t0 = tenant.clock.now()
    driver.start(t0)
    arm = sorted(driver.arm_steps())
    end = driver.end + timedelta(seconds=HORIZON_S)
    now = t0
    while now < end:
        now = min(now.replace(second=0, microsecond=0) + timedelta(minutes=1), end)
        while arm and arm[0][0] <= now:
            when, index = arm.pop(0)
            if when > tenant.clock.now():
                tenant.clock.set(when)
            driver.on_clock(tenant.clock.now())
            driver.run_arm_step(index)
        if now > tenant.clock.now():
            step_s = (now - tenant.clock.now()).total_seconds()
            tenant.clock.set(now)
            if realtime:
                import time

                time.sleep(step_s * realtime)
        driver.on_clock(tenant.clock.now())
        now = tenant.clock.now()
    calls = [c for c in tenant.data_plane_log()[before:] if c.get("tag")]
    tally = {"malicious": len(calls), "served": sum(1 for c in calls if c["status"] == 200),
             "refused": sum(1 for c in calls if c["status"] in (401, 403))}
    result = {"alerts": alerts, "requests": tally, "first_malicious_at": driver.first_malicious_at.isoformat() if driver.first_malicious_at else None,
              "clock": tenant.clock.now().isoformat()}
    undelivered = [a for a in alerts if a["delivery"] and not any(200 <= int(d.get("status") or 0) < 300 for d in a["delivery"])]
    if to is not None:
        result["undelivered"] = [{"rule": a["rule"], "condition": a["condition"], "at": a["at"], "last": a["delivery"][-1]}
                                 for a in undelivered]
    if as_json:
        print_json(result)
    else:
        console.print(clean(f"Attacker: {tally['malicious']} requests, {tally['served']} served, {tally['refused']} refused; "
                            f"sandbox clock now {instant(result['clock'])}"), highlight=False, markup=False)
    if undelivered:
        last = undelivered[-1]["delivery"][-1]
        refused = "status" in last and 400 <= int(last["status"]) < 500
        answer = f"answered {last['status']}" if "status" in last else str(last.get("error"))
        message = (f"--to: {len(undelivered)} of {len(alerts)} alert(s) not delivered to {redact(to or '')} (last: {answer}); "
                   + ("check that the URL is serve's /api/alerts and that serve runs on this FIRESTOP_HOME (its function key)"
                      if refused else "is firestop serve listening there? (it prints 'Listening on …')"))
        if not as_json:
            typer.echo(f"error: {clean(message)}", err=True)
        raise typer.Exit(EXIT_BAD_INPUT if refused else EXIT_INTERNAL)


def register(sandbox_app: typer.Typer) -> None:
    sandbox_app.command("simulate")(simulate)
