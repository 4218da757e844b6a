"""Timer trigger ``tabletop_timer``: rehearse every tabletop scenario on a schedule.

Application settings (read when the app is indexed, i.e. at start; changing an
app setting restarts the app):

| setting | meaning | default |
|---|---|---|
| ``FIRESTOP_TABLETOP_SCHEDULE`` | NCRONTAB (six fields, UTC: second minute hour day month day-of-week); ``off`` registers no timer | ``0 0 6 * * 1`` (Mondays 06:00 UTC) |
| ``FIRESTOP_TABLETOP_SCENARIOS`` | directory of scenario files | ``tabletop/scenarios`` of the deployment |
| ``FIRESTOP_HOME`` | where run folders go (``<home>/tabletop/<run id>/``) | ``<temp dir>/firestop`` (the package directory is read-only on Azure) |

An invalid schedule does not break the Function App (incident response must
keep running): it is logged as an error and the default schedule is used.

Each scenario runs in a **child process** (``python -m firestop tabletop run
SCENARIO --json``): an exercise installs sandbox clients process-wide, which
must never happen in the worker that handles real incidents. The child's
environment is only what it needs (:data:`CHILD_ENV`): no Azure credential variables, no seal, function or
system key, no platform secret, no records connection and no notification webhook. Each result is logged (``logging`` → Application
Insights): ``INFO`` when every expectation is met, ``ERROR`` naming the missed
checks otherwise — alert on those log entries to learn that a playbook no
longer does what the team rehearsed.
"""

from __future__ import annotations

import json
import logging
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any, Callable, Mapping

import azure.durable_functions as df
import azure.functions as func

from firestop.lazy_re import LazyPattern
from firestop.settings import REPO_ROOT

log = logging.getLogger("firestop.tabletop")

SCHEDULE_ENV = "FIRESTOP_TABLETOP_SCHEDULE"
SCENARIOS_ENV = "FIRESTOP_TABLETOP_SCENARIOS"
#: Mondays at 06:00 UTC.
DEFAULT_SCHEDULE = "0 0 6 * * 1"
#: Seconds one scenario may take (wall time) before its child process is killed.
SCENARIO_TIMEOUT_S = 600
#: What an exercise's child process is given of the app's environment (leftovers10: it inherited all of it but
#: :data:`SCRUBBED_ENV`, so it held the seal key, the function and system keys and the platform's own secrets such as
#: ``WEBSITE_AUTH_ENCRYPTION_KEY``): the operating system's and Python's variables, the App Service markers that say
#: where it runs, and Firestop's settings but :data:`SECRET_SETTINGS`. The child runs on the sandbox in its own
#: ``FIRESTOP_HOME`` run folder and makes its own keys there.
CHILD_ENV = (
    "PATH", "HOME", "USER", "LOGNAME", "LANG", "LANGUAGE", "TZ", "TMPDIR", "TEMP", "TMP", "SYSTEMROOT", "COMSPEC",
    "PYTHONPATH", "PYTHONHOME", "PYTHONIOENCODING", "PYTHONUTF8", "PYTHONDONTWRITEBYTECODE", "PYTHONUNBUFFERED",
    "VIRTUAL_ENV", "WEBSITE_SITE_NAME", "WEBSITE_INSTANCE_ID", "WEBSITE_HOSTNAME",
)
#: Prefixes passed whole: the locale's ``LC_*``, and Firestop's settings (``FIRESTOP_*``, less :data:`SECRET_SETTINGS`).
CHILD_ENV_PREFIXES = ("LC_", "FIRESTOP_")
#: Firestop settings that are keys or real sinks, never passed to an exercise (:data:`SCRUBBED_ENV` holds them too).
SECRET_SETTINGS = ("FIRESTOP_SEAL_KEY", "FIRESTOP_SEAL_KEY_RETIRED", "FIRESTOP_FUNCTION_KEY", "FIRESTOP_SYSTEM_KEY", "FIRESTOP_STORAGE_BLOB_URL",
                   "FIRESTOP_NOTIFY_WEBHOOK_URL")
#: Variables never passed to an exercise's child process (credentials, real sinks) — none of them is in
#: :data:`CHILD_ENV`; kept as the named list the tests and the docs check against.
SCRUBBED_ENV = (
    "AZURE_CLIENT_ID", "AZURE_CLIENT_SECRET", "AZURE_CLIENT_CERTIFICATE_PATH", "AZURE_CLIENT_CERTIFICATE_PASSWORD",
    "AZURE_FEDERATED_TOKEN_FILE", "AZURE_USERNAME", "AZURE_PASSWORD", "AZURE_TENANT_ID",
    "IDENTITY_ENDPOINT", "IDENTITY_HEADER", "MSI_ENDPOINT", "MSI_SECRET",
    *SECRET_SETTINGS,
)

_MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
_DAYS = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")
#: (low, high, names) per NCRONTAB field: second minute hour day month day-of-week.
_FIELDS = ((0, 59, ()), (0, 59, ()), (0, 23, ()), (1, 31, ()), (1, 12, _MONTHS), (0, 6, _DAYS))
_PART = LazyPattern(r"^(\*|(\w+)(?:-(\w+))?)(?:/(\d+))?$", 0, globals())


def _value(token: str, low: int, high: int, names: tuple[str, ...]) -> int | None:
    if token.isdigit():
        number = int(token)
    elif token.lower() in names:
        number = names.index(token.lower()) + (1 if names is _MONTHS else 0)
    else:
        return None
    return number if low <= number <= high else None


def valid_ncrontab(text: str) -> bool:
    """True for a six-field NCRONTAB expression (``{second} {minute} {hour} {day} {month} {day-of-week}``):
    each field a comma list of ``*``, ``n``, ``n-m``, optionally ``/step``, numbers in range, month and day names allowed."""
    fields = text.split()
    if len(fields) != 6:
        return False
    for field, (low, high, names) in zip(fields, _FIELDS):
        for part in field.split(","):
            m = _PART.match(part)
            if not m:
                return False
            if m.group(4) is not None and int(m.group(4)) == 0:
                return False
            if m.group(1) == "*":
                continue
            first = _value(m.group(2), low, high, names)
            last = _value(m.group(3), low, high, names) if m.group(3) else first
            if first is None or last is None or last < first:
                return False
    return True


def schedule_from_env(env: Mapping[str, str] | None = None) -> str | None:
    """The timer's NCRONTAB schedule from ``FIRESTOP_TABLETOP_SCHEDULE``; None when it is ``off``.

    Unset or blank → :data:`DEFAULT_SCHEDULE`; invalid → the default, with an error logged.
    """
    raw = (os.environ if env is None else env).get(SCHEDULE_ENV, "").strip()
    if not raw:
        return DEFAULT_SCHEDULE
    if raw.lower() in ("off", "disabled", "none"):
        return None
    if not valid_ncrontab(raw):
        log.error("%s=%r is not a six-field NCRONTAB expression (e.g. %r); using the default %r",
                  SCHEDULE_ENV, raw, DEFAULT_SCHEDULE, DEFAULT_SCHEDULE)
        return DEFAULT_SCHEDULE
    return raw


def child_environment(env: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment of an exercise's child process: of ``env`` (default ``os.environ``) only :data:`CHILD_ENV` and
    the :data:`CHILD_ENV_PREFIXES` variables, never :data:`SCRUBBED_ENV`; ``FIRESTOP_HOME`` defaulting to
    ``<temp dir>/firestop``."""
    out = {k: v for k, v in (os.environ if env is None else env).items()
           if (k in CHILD_ENV or k.startswith(CHILD_ENV_PREFIXES)) and k not in SCRUBBED_ENV}
    out.setdefault("FIRESTOP_HOME", str(Path(tempfile.gettempdir()) / "firestop"))
    return out


def run_in_child(path: Path, env: Mapping[str, str] | None = None, timeout: float = SCENARIO_TIMEOUT_S) -> dict[str, Any]:
    """Run one scenario in a child process; ``{"scenario", "exit_code", "result", "missed", "scorecard", "error"}``.

    ``result``: ``met`` / ``missed`` from the scorecard, or ``error`` (bad scenario, crash, timeout).
    """
    entry: dict[str, Any] = {"scenario": str(path), "exit_code": None, "result": "error", "missed": [], "scorecard": None, "error": None}
    try:
        done = subprocess.run(
            [sys.executable, "-m", "firestop", "tabletop", "run", str(path), "--json"],
            cwd=str(REPO_ROOT), env=child_environment(env), capture_output=True, text=True, timeout=timeout,
        )
    except subprocess.TimeoutExpired:
        entry["error"] = f"no result within {timeout:g} s (killed)"
        return entry
    entry["exit_code"] = done.returncode
    try:
        card = json.loads(done.stdout)
    except ValueError:
        entry["error"] = (done.stderr or done.stdout or "no output").strip().splitlines()[-1:] or "no output"
        return entry
    if "error" in card and "result" not in card:
        entry["error"] = card["error"]
        return entry
    entry["result"] = card.get("result", "error")
    entry["missed"] = [f"{e['check']}: {e['evidence']}" for e in card.get("expectations") or [] if not e.get("met")]
    entry["scorecard"] = (card.get("files") or {}).get("markdown")
    return entry


def run_all(directory: Path | None = None, runner: Callable[[Path], dict[str, Any]] = run_in_child) -> list[dict[str, Any]]:
    """Run every scenario (``*.yaml``/``*.yml``) of ``directory`` (default: ``FIRESTOP_TABLETOP_SCENARIOS`` or the
    shipped ``tabletop/scenarios``) with ``runner``, log each result, and return the results in file order."""
    folder = Path(directory or os.environ.get(SCENARIOS_ENV) or REPO_ROOT / "tabletop" / "scenarios")
    files = sorted([*folder.glob("*.yaml"), *folder.glob("*.yml")]) if folder.is_dir() else []
    if not files:
        log.error("tabletop: no scenario files in %s (set %s)", folder, SCENARIOS_ENV)
    results = []
    for path in files:
        result = runner(path)
        if result["result"] == "met":
            log.info("tabletop %r: every expectation met (scorecard %r)", path.name, result.get("scorecard"))
        elif result["result"] == "missed":
            log.error("tabletop %r: expectations missed: %r (scorecard %r)", path.name, "; ".join(result["missed"]), result.get("scorecard"))
        else:
            log.error("tabletop %r: could not run: %r", path.name, result.get("error"))
        results.append(result)
    return results


bp = df.Blueprint()
SCHEDULE = schedule_from_env()

if SCHEDULE is not None:

    @bp.function_name("tabletop_timer")
    @bp.timer_trigger(arg_name="timer", schedule=SCHEDULE, run_on_startup=False, use_monitor=True)
    def tabletop_timer(timer: func.TimerRequest) -> None:
        """Run every scenario on the sandbox tenant and log each scorecard's result."""
        if getattr(timer, "past_due", False):
            log.warning("tabletop timer is past due; running now")
        results = run_all()
        missed = [r for r in results if r["result"] != "met"]
        log.info("tabletop: %d scenario(s) run, %d with missed expectations or errors", len(results), len(missed))
