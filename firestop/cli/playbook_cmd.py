"""``python -m firestop playbook list|validate|schema``."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Optional

import typer

from firestop.cli.output import EXIT_BAD_INPUT, clean, console, fail, print_json, safe

playbook_app = typer.Typer(help="Playbooks: list what each matches, validate files, print the JSON Schema.", no_args_is_help=True)


def _files(paths: list[Path]) -> list[Path]:
    out: list[Path] = []
    for path in paths:
        if path.is_dir():
            out.extend(sorted([*path.glob("*.yaml"), *path.glob("*.yml")]))
        else:
            out.append(path)
    return out


@playbook_app.command("validate")
def validate(
    paths: list[Path] = typer.Argument(..., metavar="PATH...", help="Playbook files or directories."),
    as_json: bool = typer.Option(False, "--json", help="Print the result as JSON."),
) -> None:
    """Check playbook files; every problem is reported with file, line and field. Exit 2 if any is invalid."""
    from firestop.playbooks import PlaybookError, load_playbook

    files = _files(paths)
    if not files:
        fail("PATH: no playbook files (*.yaml, *.yml) found there", EXIT_BAD_INPUT, as_json=as_json)
    results = []
    for path in files:
        try:
            playbook = load_playbook(path)
            results.append({"file": str(path), "valid": True, "name": playbook.name, "problems": []})
        except PlaybookError as exc:
            results.append({
                "file": str(path),
                "valid": False,
                "problems": [{"line": line, "field": field, "message": message} for line, field, message in exc.problems],
            })
    names: dict[str, str] = {}
    for result in results:
        if result["valid"]:
            if result["name"] in names:
                result["valid"] = False
                result["problems"].append({"line": None, "field": "name", "message": f"{result['name']!r} is also the name of {names[result['name']]}"})
            names.setdefault(result["name"], result["file"])
    bad = [r for r in results if not r["valid"]]
    if as_json:
        print_json({"valid": not bad, "files": results})
    else:
        for result in results:
            if result["valid"]:
                console.print(f"[green]ok[/]    {safe(result['file'])} ({safe(result['name'])})", highlight=False)
            for problem in result["problems"]:
                where = result["file"] if problem["line"] is None else f"{result['file']}:{problem['line']}"
                sys.stderr.write(f"{where}: {problem['field'] or '(file)'}: {problem['message']}\n")
    if bad:
        raise typer.Exit(EXIT_BAD_INPUT)


@playbook_app.command("schema")
def schema(
    as_json: bool = typer.Option(False, "--json", help="Accepted for symmetry: the schema is always printed as JSON."),
) -> None:
    """Print the playbook JSON Schema (for editor validation, e.g. yaml-language-server)."""
    from firestop.playbooks import Playbook

    doc = Playbook.model_json_schema(by_alias=True)
    doc["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    doc["title"] = "Firestop playbook"
    sys.stdout.write(json.dumps(doc, indent=2) + "\n")


@playbook_app.command("list")
def list_playbooks(
    directory: Optional[Path] = typer.Option(None, "--playbooks", help="Directory of playbooks (default FIRESTOP_PLAYBOOKS or ./playbooks)."),
    as_json: bool = typer.Option(False, "--json", help="Print as JSON."),
) -> None:
    """Show each playbook, what it matches and what it does, in the order they are tried."""
    from rich.table import Table
    from rich.text import Text

    from firestop.playbooks import PlaybookError, load_playbooks
    from firestop.settings import get_settings

    folder = directory or get_settings().playbooks_dir
    flag = "--playbooks" if directory else "FIRESTOP_PLAYBOOKS"
    if not Path(folder).is_dir():
        fail(f"{flag}: {folder} is not a directory; point it at a folder of playbook YAML files", EXIT_BAD_INPUT, as_json=as_json)
    try:
        playbooks = load_playbooks(folder)
    except PlaybookError as exc:
        fail(f"{exc} (run: python -m firestop playbook validate {folder})", EXIT_BAD_INPUT, as_json=as_json)
    if not playbooks:
        fail(f"{flag}: {folder} holds no playbook files (*.yaml, *.yml)", EXIT_BAD_INPUT, as_json=as_json)
    rows = []
    for pb in sorted(playbooks, key=lambda p: (p.priority, p.name)):
        match = pb.match.model_dump(exclude_defaults=True)
        rows.append({
            "name": pb.name,
            "version": pb.version,
            "priority": pb.priority,
            "match": match,
            "routes_with": f"firestop-playbook: {pb.name}",
            "steps": {phase: [getattr(s, "runbook", None) or f"undo {s.undo}" for s in pb.steps(phase)] for phase in ("analyze", "contain", "resolve", "learn")},
            "approvals": [s.id for s in pb.steps() if s.approval and s.approval.mode != "auto"],
        })
    if as_json:
        print_json(rows)
        return
    table = Table(header_style="bold")
    for column in ("playbook", "priority", "matches", "contain", "approval"):
        table.add_column(column, overflow="fold")
    for row in rows:
        matches = "; ".join(f"{k}={v}" for k, v in row["match"].items()) or "(only by custom property)"
        table.add_row(*(Text(clean(v)) for v in (f"{row['name']} v{row['version']}", str(row["priority"]), matches + f"\nor {row['routes_with']}",
                      ", ".join(row["steps"]["contain"]), ", ".join(row["approvals"]) or "—")))
    console.print(table)
