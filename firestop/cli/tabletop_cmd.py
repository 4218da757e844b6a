"""``python -m firestop tabletop list|run`` — rehearse playbooks on the sandbox tenant.

Scenarios live in ``tabletop/scenarios/`` (or the directory named by
``FIRESTOP_TABLETOP_SCENARIOS``, or ``--dir``). ``run`` takes a file path or a
scenario name from that directory. Exit codes of ``run``: 0 every expectation
met, 3 some missed, 2 bad scenario file (or a run that would leave the sandbox),
1 internal error.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Optional

import typer

from firestop.cli.output import EXIT_BAD_INPUT, EXIT_NEEDS_RESPONDER, clean, console, err_console, fail, print_json
from firestop.settings import REPO_ROOT

tabletop_app = typer.Typer(
    help="Tabletop exercises: run scenarios on a fresh sandbox tenant and score the response.", no_args_is_help=True
)

#: Shipped scenarios.
DEFAULT_SCENARIOS_DIR = REPO_ROOT / "tabletop" / "scenarios"
SCENARIOS_ENV = "FIRESTOP_TABLETOP_SCENARIOS"


def scenarios_dir(override: Optional[str] = None) -> Path:
    """``--dir``, else ``FIRESTOP_TABLETOP_SCENARIOS``, else the shipped ``tabletop/scenarios``."""
    return Path(override or os.environ.get(SCENARIOS_ENV) or DEFAULT_SCENARIOS_DIR)


def scenario_files(directory: Path) -> list[Path]:
    return sorted([*directory.glob("*.yaml"), *directory.glob("*.yml")])


def resolve_scenario(text: str, directory: Path) -> Path | None:
    """A scenario file: ``text`` as a path, else ``<directory>/<text>.yaml|.yml``; None if neither exists."""
    path = Path(text)
    if path.is_file():
        return path
    for suffix in (".yaml", ".yml"):
        candidate = directory / f"{text}{suffix}"
        if candidate.is_file():
            return candidate
    return None


def _first_sentence(text: str, limit: int = 110) -> str:
    head = text.split(". ", 1)[0].rstrip(".") + "."
    return head if len(head) <= limit else head[: limit - 1].rstrip() + "…"


@tabletop_app.command("list")
def list_scenarios(
    directory: Optional[str] = typer.Option(None, "--dir", help="Scenario directory (default FIRESTOP_TABLETOP_SCENARIOS or tabletop/scenarios)."),
    as_json: bool = typer.Option(False, "--json", help="Print as JSON."),
) -> None:
    """Scenarios with what drives each (an attack, or alert payloads), faults, scripted answers and expectations. Exit 2 if one is invalid."""
    from rich.table import Table
    from rich.text import Text

    from firestop.tabletop import ScenarioError, load_scenario

    folder = scenarios_dir(directory)
    if not folder.is_dir():
        fail(f"--dir: {folder} is not a directory of scenarios", EXIT_BAD_INPUT, as_json=as_json)
    rows = []
    for path in scenario_files(folder):
        try:
            s = load_scenario(path)
        except ScenarioError as exc:
            rows.append({"file": str(path), "valid": False, "name": None, "problems": str(exc).splitlines()})
            continue
        faults = s.faults
        rows.append({
            "file": str(path), "valid": True, "name": s.name,
            "description": " ".join(s.description.split()),
            "driven_by": "attack" if s.attack else "alerts",  # attack: the shipped rules raise the alerts (alerts is 0)
            "alerts": len(s.alerts),
            "attack_steps": len(s.attack),
            "faults": len(faults.scripted) + len(faults.lro) + (1 if faults.random else 0),
            "answers": len(s.responder),
            "expectations": len(s.expect),
            "playbooks": str(s.playbooks_dir()) if s.playbooks else None,
        })
    bad = [r for r in rows if not r["valid"]]
    if as_json:
        print_json({"directory": str(folder), "valid": not bad, "scenarios": rows})
    else:
        table = Table(header_style="bold")
        for column in ("scenario", "driven by", "faults", "answers", "about"):
            table.add_column(column, overflow="fold")
        for r in rows:
            if r["valid"]:
                table.add_row(Text(clean(r["name"])), _driven_by(r), str(r["faults"]), str(r["answers"]), Text(clean(_first_sentence(r["description"]))))
            else:
                table.add_row(Text(clean(Path(r["file"]).name), style="red"), "", "", "", Text(clean(" ".join(r["problems"])), style="red"))
        console.print(table)
        if not rows:
            console.print(Text(clean(f"No scenarios in {folder}.")), highlight=False)
        else:
            console.print(Text(clean(f"Run one with: python -m firestop tabletop run {rows[0].get('name') or rows[0]['file']}")), highlight=False)
    raise typer.Exit(EXIT_BAD_INPUT if bad else 0)


def _driven_by(row: dict) -> str:
    """``attack, 3 steps`` (the attacker's activity; the shipped rules raise the alerts) or ``2 alerts`` (payloads given)."""
    if row["driven_by"] == "attack":
        return f"attack, {row['attack_steps']} step{'' if row['attack_steps'] == 1 else 's'}"
    return f"{row['alerts']} alert{'' if row['alerts'] == 1 else 's'}"


#: Why ``tabletop run --app`` is refused (exit 2).
REMOTE_REFUSAL = (
    "--app: tabletop run has no remote mode. An exercise runs the playbooks against a fresh sandbox tenant made for the "
    "run; inside the deployed app the same code holds the app's real Azure credential, and a request-driven exercise "
    "would also outlive the front end's 230 s request limit — so the app offers no route that runs one. Instead: run it "
    "here without --app (python -m firestop tabletop run SCENARIO: the playbooks you deploy, on a local sandbox), and "
    "read the app's own scheduled rehearsals (tabletop_timer, FIRESTOP_TABLETOP_SCHEDULE, each in a child process "
    "without credentials) in its console at /api/console/tabletop")


@tabletop_app.command("run")
def run(
    scenario: str = typer.Argument(..., metavar="SCENARIO", help="A scenario file, or a scenario name from the scenario directory."),
    directory: Optional[str] = typer.Option(None, "--dir", help="Scenario directory for names (default FIRESTOP_TABLETOP_SCENARIOS or tabletop/scenarios)."),
    run_id: Optional[str] = typer.Option(None, "--run-id", help="Name of the run folder under FIRESTOP_HOME/tabletop (default: time-scenario-random)."),
    as_json: bool = typer.Option(False, "--json", help="Print the scorecard as JSON."),
    app: Optional[str] = typer.Option(None, "--app", help="Not available: an exercise never runs on a deployed app (refused, exit 2; see README, Remote mode)."),
) -> None:
    """Run a scenario on a fresh sandbox tenant and print its scorecard. Exit 0 all met, 3 some missed, 2 bad scenario."""
    from rich.markdown import Markdown
    from rich.text import Text

    from firestop.tabletop import ScenarioError, TabletopRefused, load_scenario, render_markdown, run_scenario

    if app is not None:
        fail(REMOTE_REFUSAL, EXIT_BAD_INPUT, as_json=as_json)
    if os.environ.get("FIRESTOP_APP_URL", "").strip() and not as_json:
        err_console.print("note: tabletop run always runs here, on a fresh sandbox tenant of its own; FIRESTOP_APP_URL is not used",
                          highlight=False, markup=False, soft_wrap=True)
    folder = scenarios_dir(directory)
    path = resolve_scenario(scenario, folder)
    if path is None:
        fail(f"SCENARIO: {scenario!r} is neither a scenario file nor a scenario in {folder}; "
             "list them with: python -m firestop tabletop list", EXIT_BAD_INPUT, as_json=as_json)
    if run_id is not None and (not run_id.strip() or "/" in run_id or "\\" in run_id or run_id in (".", "..")):
        fail(f"--run-id: {run_id!r} is not a folder name; use letters, digits and dashes", EXIT_BAD_INPUT, as_json=as_json)
    try:
        loaded = load_scenario(path)
    except ScenarioError as exc:
        fail(str(exc), EXIT_BAD_INPUT, as_json=as_json)
    from firestop.cli import interrupt

    # the same SCENARIO with the same --dir (a name resolves there); never the same --run-id: its folder exists now
    again = interrupt.command("tabletop", "run", scenario, *(["--dir", directory] if directory is not None else []),
                              *(["--json"] if as_json else []))
    kept = f"; the interrupted run keeps its folder, so a --run-id must be another than {run_id}" if run_id is not None else ""
    interrupt.about(resume=f"{again} (the exercise left nothing outside its run folder under FIRESTOP_HOME/tabletop: "
                           f"run it again{kept})")
    try:
        card = run_scenario(loaded, run_id=run_id)
    except (TabletopRefused, FileExistsError) as exc:
        fail(str(exc), EXIT_BAD_INPUT, as_json=as_json)
    except KeyboardInterrupt:  # SIGINT's default handler (not through main()): the same line as main() prints
        fail(interrupt.line(), interrupt.EXIT_INTERRUPTED, as_json=as_json)
    except Exception as exc:  # noqa: BLE001
        from firestop.cli.main import _internal

        _internal(exc, as_json)
    if as_json:
        print_json(card)
    else:
        console.print(Markdown(clean(render_markdown(card))))
        console.print(Text(clean(f"Scorecard: {card['files']['markdown']} · {card['files']['json']}")), highlight=False)
    raise typer.Exit(0 if card["result"] == "met" else EXIT_NEEDS_RESPONDER)
