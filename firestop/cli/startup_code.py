"""Build the code ``python -m firestop`` would otherwise compile in every process (``scripts/build-startup-code``):
the dataclass method texts (:mod:`firestop.cli.dataclass_code`) and the regular expressions
(:mod:`firestop.cli.regex_code`) that ``--help`` and ``alert handle examples/alerts/leaked-key.json`` (on a fresh
FIRESTOP_HOME) compile, recorded in a child process without either installed."""

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

_RECORD = r"""
import dataclasses, json, os, sys, tempfile
from re import _compiler
from firestop.cli import dataclass_code
texts, patterns = [], []
original_fn, original_re = dataclasses._create_fn, _compiler.compile

def caller():
    frame = sys._getframe(2)
    while frame is not None and frame.f_globals.get("__name__", "").split(".")[0] in ("re", "sre_compile", "dataclasses"):
        frame = frame.f_back
    return frame.f_globals.get("__name__", "") if frame is not None else ""

def recording_fn(name, args, body, *, globals=None, locals=None, return_type=dataclasses.MISSING):
    args = list(args)
    names = list(locals or ())
    if return_type is not dataclasses.MISSING and "_return_type" not in names:
        names.append("_return_type")
    module = (globals or {}).get("__name__", "")
    texts.append((module, dataclass_code.method_text(name, args, body, names, return_type)))
    return original_fn(name, args, body, globals=globals, locals=locals, return_type=return_type)

def recording_re(p, flags=0):
    if type(flags) is int and isinstance(p, (str, bytes)):
        patterns.append((caller(), type(p).__name__, p if isinstance(p, str) else p.decode("latin-1"), flags))
    return original_re(p, flags)

dataclasses._create_fn, _compiler.compile = recording_fn, recording_re
from firestop.cli.main import main
os.environ["FIRESTOP_HOME"] = tempfile.mkdtemp(prefix="firestop-startup-code-")
out = sys.stdout
sys.stdout = open(os.devnull, "w")
for argv in (["--help"], ["alert", "handle", "examples/alerts/leaked-key.json"]):
    try:
        main(argv)
    except SystemExit:
        pass
sys.stdout = out
print("RECORDED " + json.dumps({"dataclass": texts, "regex": patterns}))
"""


def recorded(root: Path = ROOT) -> dict:
    """``{"dataclass": [(module, text)], "regex": [(module, type, pattern, flags)]}`` in the order ``--help`` then
    ``alert handle`` compile them (``type``: ``str``/``bytes``, a bytes pattern as latin-1 text; ``module``: the
    module that asked), from a child process run in the checkout ``root``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("FIRESTOP_")}
    env.update(PYTHONPATH=str(root), PYTHONHASHSEED="0")
    proc = subprocess.run([sys.executable, "-c", _RECORD], cwd=root, env=env, capture_output=True, text=True, check=True)
    line = [l for l in proc.stdout.splitlines() if l.startswith("RECORDED ")][-1]
    found = json.loads(line[len("RECORDED "):])
    return {"dataclass": [tuple(t) for t in found["dataclass"]], "regex": [tuple(p) for p in found["regex"]]}


def regex_key(kind: str, pattern: str, flags: int) -> tuple:
    """A recorded pattern as :mod:`firestop.cli.regex_code_built` keys it: ``(type, pattern, flags)``."""
    return (str, pattern, flags) if kind == "str" else (bytes, pattern.encode("latin-1"), flags)


def main() -> int:
    """Rewrite ``firestop/cli/dataclass_code_built.py`` and ``firestop/cli/regex_code_built.py``."""
    from firestop.cli import dataclass_code, regex_code

    found = recorded(ROOT)
    here = Path(__file__).parent
    texts = [text for _, text in found["dataclass"]]
    (here / "dataclass_code_built.py").write_text(dataclass_code.build_source(texts), encoding="utf-8")
    keys = [regex_key(kind, pattern, flags) for _, kind, pattern, flags in found["regex"]]
    (here / "regex_code_built.py").write_text(regex_code.build_source(keys), encoding="utf-8")
    print(f"{here}/dataclass_code_built.py: {len(dict.fromkeys(texts))} method texts; "
          f"regex_code_built.py: {len(dict.fromkeys(keys))} patterns")
    return 0
