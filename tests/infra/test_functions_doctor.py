"""azure-functions-doctor (PyPI) on the repository: no failure, and no warning the repository could fix.

Profile ``deploy`` (Azure runtime, hosting and deployment correctness): about 8 s of CPU. The ``full``
profile adds the local-development checks (40 s on this machine) and, run by hand on this tree, finds
no failure and only the machine-dependent warnings below (README "Python versions and
azure-functions-doctor").

The warnings left depend on the machine, not the repository: no virtual environment, no Core Tools
(``func``), no ``local.settings.json`` (copied from ``local.settings.json.example`` on a developer's
machine, never committed) and no ``APPLICATIONINSIGHTS_CONNECTION_STRING`` (set by the template on Azure).
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from firestop.settings import REPO_ROOT

MACHINE_DEPENDENT = {"Virtual environment", "local.settings.json", "Azure Functions Core Tools (func)",
                     "Azure Functions Core Tools version", "Application Insights configuration"}
# Native dependencies Firestop accepts: each ships manylinux wheels for the Functions Python versions (3.11, 3.13),
# so a remote build installs a wheel and compiles nothing (orjson: pypi.org/project/orjson/#files).
ACCEPTED_NATIVE = {"orjson"}


def _findings(node, out):
    if isinstance(node, dict):
        if node.get("status") in ("warn", "fail") and node.get("label"):
            out.append((node["status"], node["label"], node.get("value")))
        for value in node.values():
            _findings(value, out)
    elif isinstance(node, list):
        for value in node:
            _findings(value, out)
    return out


#: A Python file with none of these cannot declare a Functions trigger, binding or Blueprint (every check of the
#: doctor's Python side reads decorators: programming model, Blueprint registration, decorator order, binding
#: connections, orchestrator determinism): it needs the azure.functions / azure.durable_functions names, or a
#: decorator with an attribute (``@bp.route``, ``@x.activity_trigger`` on a Blueprint imported from elsewhere).
_FUNCTIONS_CODE = re.compile(r"azure\.functions|azure\.durable_functions|azure import functions|Blueprint|FunctionApp|@\w+\.|_trigger")


def _copy_of_the_repository(target):
    """The repository's files as .funcignore packages them for Azure (no tests/, bench/, node_modules/,
    .git): what the Function App runs is what the doctor should judge. The doctor walks the AST of every
    Python file several times (187 files: 8.6 s of CPU); Python files that cannot hold Functions code
    (:data:`_FUNCTIONS_CODE`) are left out — every other file is copied — which gave the identical report
    (every check's status and value) on this tree with 40 files and 3.6 s of CPU."""
    skip = {"node_modules", ".git", ".firestop", "__pycache__", ".pytest_cache", ".hypothesis", ".venv", "tests", "bench"}
    for path in REPO_ROOT.rglob("*"):
        rel = path.relative_to(REPO_ROOT)
        if any(part in skip for part in rel.parts) or path.is_symlink() or not path.is_file():
            continue
        if path.suffix == ".py" and not _FUNCTIONS_CODE.search(path.read_text("utf-8", errors="replace")):
            continue
        (target / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, target / rel)
    return target


def test_functions_doctor_finds_nothing_the_repository_can_fix(tmp_path):
    # the interpreter's own script first: a pyenv shim on PATH costs a bash and a pyenv start
    exe = shutil.which("azure-functions-doctor", path=str(Path(sys.executable).parent)) or shutil.which("azure-functions-doctor")
    if exe is None:
        pytest.skip("azure-functions-doctor is not installed (pip install -r requirements-dev.txt)")
    repo = _copy_of_the_repository(tmp_path / "repo")
    out = tmp_path / "doctor.json"
    done = subprocess.run([exe, "doctor", "--path", str(repo), "--profile", "deploy", "--format", "json", "--output", str(out)],
                          capture_output=True, text=True, timeout=120, cwd=repo,
                          env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)})
    assert out.exists(), done.stdout[-2000:] + done.stderr[-2000:]
    findings = _findings(json.loads(out.read_text()), [])
    assert [f for f in findings if f[0] == "fail"] == []
    native = [value for status, label, value in findings if status == "warn" and label == "Native dependency risk"]
    for value in native:  # "Native dependencies detected: orjson, …" then one advice line each: only the accepted ones
        first_line = str(value).splitlines()[0]
        named = {n.strip() for n in first_line.split(":", 1)[-1].split(",") if n.strip()}
        assert named <= ACCEPTED_NATIVE, value
    warned = {label for status, label, _ in findings if status == "warn"} - ({"Native dependency risk"} if native else set())
    assert warned <= MACHINE_DEPENDENT, findings
