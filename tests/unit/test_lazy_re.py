"""firestop.lazy_re: module-level patterns compiled on first use, equal to what re.compile gives, rebound in place."""

from __future__ import annotations

import importlib
import re
import subprocess
import sys
import types

import pytest

from firestop import lazy_re
from firestop.lazy_re import LazyPattern

#: Modules whose import-time patterns are stand-ins (alert handle imports them; these patterns serve other paths).
LAZY_MODULES = {
    "firestop.telemetry.logs": ("_CONTROL", "_CONTROL_FIELD", "_NEEDS_QUOTES", "_SUSPECT_RUN", "_PLAIN"),
    "firestop.alerts.source_refs": ("_DEFENDER_ALERT_ID", "_SENTINEL_INCIDENT_ID"),
    "firestop.alerts.essentials": ("_SEVERITY_RE",),
    "firestop.alerts.indicators": ("_IPV4",),
    "firestop.markup": ("_CONTROL_KEEP_NL",),
    "firestop.lifecycle.cli_hints": ("_PLAIN_ID",),
    "firestop.functions.tabletop_timer": ("_PART",),
    "firestop.functions.audit": ("_ACCOUNT_NAME",),
    "firestop.boundary": ("_STRING", "_INSTANCE_ID_BAD"),
    "firestop.resource_id": ("_RESOURCE_GROUP_NAME",),
    "firestop.playbooks.detect": ("_COLUMN", "_DURATION", "_RULE_NAME", "_SIGNATURE", "_SIGNATURE_FILTER"),
    "firestop.playbooks.expressions": ("_TOKEN",),
    "firestop.playbooks.models": ("_NAME",),
}


def test_first_use_compiles_once_and_rebinds_the_module_name():
    namespace = types.ModuleType("m").__dict__
    namespace["_X"] = namespace["_ALIAS"] = pattern = LazyPattern(r"(?i)ab+c", 0, namespace)
    assert not pattern.is_compiled
    assert namespace["_X"] is pattern
    assert pattern.fullmatch("ABBC").group(0) == "ABBC"  # first use: compiled, forwarded
    compiled = pattern.compiled()
    assert isinstance(compiled, re.Pattern) and compiled is pattern.compiled()
    assert namespace["_X"] is compiled and namespace["_ALIAS"] is compiled  # the module now holds the re.Pattern
    assert pattern.search("xabcx").span() == (1, 4)  # a held stand-in keeps forwarding


def test_same_pattern_and_flags_as_re_compile():
    pattern = LazyPattern(r"^(?:sev\s*)?([0-4])$", re.IGNORECASE)
    assert pattern.compiled() == re.compile(r"^(?:sev\s*)?([0-4])$", re.IGNORECASE)
    assert pattern.pattern == r"^(?:sev\s*)?([0-4])$" and pattern.flags & re.IGNORECASE
    assert pattern.sub("x", "Sev 3") == "x"


def test_bad_pattern_raises_re_error_at_first_use():
    pattern = LazyPattern(r"(unclosed")
    try:
        with pytest.raises(re.error):
            pattern.search("anything")
        assert not pattern.is_compiled
    finally:
        lazy_re.made.remove(pattern)  # the one stand-in here that must not compile


@pytest.mark.parametrize("module", sorted(LAZY_MODULES))
def test_every_stand_in_compiles_to_what_re_compile_gives(module):
    mod = importlib.import_module(module)
    for name in LAZY_MODULES[module]:
        value = getattr(mod, name)
        stand_in = next(p for p in lazy_re.made if p is value or p._compiled is value)  # noqa: SLF001
        assert stand_in.compiled() == re.compile(stand_in._pattern, stand_in._flags)  # noqa: SLF001
    for stand_in in lazy_re.made:  # any other stand-in made so far compiles too
        stand_in.compiled()


def test_importing_the_modules_compiles_none_of_their_patterns():
    """In a fresh process (other tests here compile them): importing leaves every stand-in uncompiled."""
    code = ("import importlib, sys\nfrom firestop import lazy_re\n"
            f"for m in {sorted(LAZY_MODULES)!r}:\n    importlib.import_module(m)\n"
            f"names = {LAZY_MODULES!r}\n"
            "for m, ns in names.items():\n"
            "    for n in ns:\n"
            "        v = getattr(sys.modules[m], n)\n"
            "        assert isinstance(v, lazy_re.LazyPattern) and not v.is_compiled, (m, n, v)\n"
            "print('ok')\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "ok", out.stderr
