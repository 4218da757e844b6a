"""firestop.cli.regex_code: regular expressions made from arguments compiled once are the patterns re compiles."""

import re
import subprocess
import sys
import warnings
from pathlib import Path
from re import _compiler

import pytest

from firestop.cli import regex_code, regex_code_built, startup_code

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.skipif(tuple(sys.version_info[:3]) != regex_code_built.PYTHON,
                                reason="built on another Python release (scripts/build-startup-code rebuilds it)")


@pytest.fixture
def installed():
    assert regex_code.install()
    try:
        yield
    finally:
        regex_code.uninstall()


def test_every_built_pattern_is_the_pattern_re_compiles(installed):
    assert len(regex_code_built.PATTERNS) > 100
    for (kind, pattern, flags), arguments in regex_code_built.PATTERNS.items():
        ours = regex_code._compile(pattern, flags)
        theirs = regex_code._original(pattern, flags)
        assert ours == theirs, pattern  # flags, code and pattern (CPython's pattern_richcompare)
        assert (ours.flags, ours.groups, dict(ours.groupindex)) == (theirs.flags, theirs.groups, dict(theirs.groupindex))
        assert arguments == regex_code.compiled_arguments(pattern, flags)


def test_the_built_module_covers_every_firestop_pattern_of_help_and_alert_handle():
    """Fails after a Firestop pattern on these paths changes until scripts/build-startup-code is run (the CLI
    meanwhile compiles that pattern as before)."""
    recorded = startup_code.recorded(ROOT)["regex"]
    own = [startup_code.regex_key(kind, pattern, flags) for module, kind, pattern, flags in recorded
           if module.split(".")[0] in ("firestop", "runbooks")]
    assert len(own) > 20
    missing = [key for key in own if key not in regex_code_built.PATTERNS]
    assert not missing, f"run scripts/build-startup-code: {len(missing)} patterns are not built, e.g. {missing[:3]}"


def test_a_pattern_that_is_not_built_goes_to_re_and_works(installed):
    calls = []
    original = regex_code._original

    def counting(p, flags=0):
        calls.append(p)
        return original(p, flags)

    regex_code._original = counting
    try:
        compiled = _compiler.compile(r"(?P<never_built_9f2c>\d+)-x", 0)
    finally:
        regex_code._original = original
    assert calls == [r"(?P<never_built_9f2c>\d+)-x"]
    assert compiled.match("12-x").group("never_built_9f2c") == "12"


def test_patterns_made_from_built_arguments_match_as_re_s(installed, monkeypatch):
    pattern, flags = r"(?i)(?P<word>[a-z]+)\s+(\d{2,})|\bend\b", 0
    monkeypatch.setitem(regex_code._built, (str, pattern, flags), regex_code.compiled_arguments(pattern, flags))
    ours, theirs = regex_code._compile(pattern, flags), regex_code._original(pattern, flags)
    assert ours == theirs and ours is not theirs
    for text in ("Hello 123", "x END y", "no", "ABC 1"):
        assert [m.groups() for m in ours.finditer(text)] == [m.groups() for m in theirs.finditer(text)]
    assert ours.flags == theirs.flags and ours.flags & re.IGNORECASE and ours.groupindex == {"word": 1}


def test_a_pattern_whose_parse_warns_is_not_built():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert regex_code.compiled_arguments("[[a]", 0) is None  # FutureWarning: possible nested set
    assert regex_code.compiled_arguments("(", 0) is None  # invalid: left to re, which raises
    assert regex_code.compiled_arguments("a", re.DEBUG) is None


def test_install_is_idempotent_and_uninstall_restores():
    original = _compiler.compile
    try:
        assert regex_code.install() and regex_code.install()
        assert _compiler.compile is regex_code._compile
    finally:
        regex_code.uninstall()
    assert _compiler.compile is original


def test_python_m_firestop_installs_it():
    probe = subprocess.run([sys.executable, "-c", "import firestop.__main__, firestop.cli.regex_code as r; from re import _compiler;"
                            "print(_compiler.compile is r._compile)"], cwd=ROOT, capture_output=True, text=True)
    assert probe.stdout.strip() == "True", probe.stderr
