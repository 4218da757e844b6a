"""firestop.cli.forward_refs: typing.ForwardRef compiles each text once per process, with the same result."""

import subprocess
import sys
import typing
from pathlib import Path

import pytest

from firestop.cli import forward_refs

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def installed():
    assert forward_refs.install()
    try:
        yield
    finally:
        forward_refs.uninstall()


def test_a_text_is_compiled_once_and_refs_behave_as_before(installed):
    forward_refs._compiled.cache_clear()
    first, second = typing.ForwardRef("dict[str, int] | None"), typing.ForwardRef("dict[str, int] | None")
    assert first.__forward_code__ is second.__forward_code__
    assert first.__forward_code__ == compile("dict[str, int] | None", "<string>", "eval")
    assert forward_refs._compiled.cache_info().hits == 1
    assert first == second and hash(first) == hash(second)
    assert first._evaluate(globals(), None, recursive_guard=frozenset()) == (dict[str, int] | None)
    starred = typing.ForwardRef("*Ts")  # typing compiles '(*Ts,)[0]' for it: remembered as that text
    assert starred.__forward_code__ == compile("(*Ts,)[0]", "<string>", "eval")


def test_a_text_that_does_not_compile_raises_every_time(installed):
    for _ in range(2):
        with pytest.raises(SyntaxError, match="Forward reference must be an expression"):
            typing.ForwardRef("not an expression ::")


def test_other_calls_go_to_the_builtin(installed):
    assert forward_refs.compile("x = 1", "<string>", "exec").co_names == ("x",)
    assert forward_refs.compile("1", "f.py", "eval").co_filename == "f.py"
    assert forward_refs.compile(b"1", "<string>", "eval") is not forward_refs.compile(b"1", "<string>", "eval")


def test_install_is_idempotent_and_uninstall_restores():
    try:
        assert forward_refs.install() and forward_refs.install()
        assert typing.compile is forward_refs.compile
    finally:
        forward_refs.uninstall()
    assert "compile" not in vars(typing)


def test_python_m_firestop_installs_it():
    probe = subprocess.run([sys.executable, "-c", "import firestop.__main__, typing, firestop.cli.forward_refs as f;"
                            "print(typing.compile is f.compile)"], cwd=ROOT, capture_output=True, text=True)
    assert probe.stdout.strip() == "True", probe.stderr
