"""firestop.cli.dataclass_code: dataclass methods made from code compiled once give the same functions as exec."""

import dataclasses
import subprocess
import sys
import types
from pathlib import Path

import pytest

from firestop.cli import dataclass_code, dataclass_code_built, startup_code

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.skipif(sys.version_info[:2] != (3, 11), reason="installed only on CPython 3.11")


def _outer(text: str) -> types.CodeType:
    return next(c for c in compile(text, "<string>", "exec").co_consts if isinstance(c, types.CodeType))


def _inner(code: types.CodeType) -> types.CodeType:
    return next(c for c in code.co_consts if isinstance(c, types.CodeType))


@pytest.fixture
def installed():
    assert dataclass_code.install()
    try:
        yield
    finally:
        dataclass_code.uninstall()


def test_every_built_code_is_what_compiling_its_text_gives():
    assert len(dataclass_code_built.CODES) > 100
    for text, built in dataclass_code_built.CODES.items():
        fixed = dataclass_code._as_exec_compiles(built)
        expected = _outer(text)
        assert fixed == expected, text
        assert _inner(fixed) == _inner(expected), text
        for code in (fixed, _inner(fixed)):
            assert code.co_filename == "<string>"
        assert (fixed.co_firstlineno, _inner(fixed).co_firstlineno) == (1, 2)
        assert list(fixed.co_lines()) == list(expected.co_lines())
        assert list(_inner(fixed).co_lines()) == list(_inner(expected).co_lines())


def test_the_built_module_covers_every_firestop_dataclass_of_help_and_alert_handle():
    """Fails after a Firestop dataclass on these paths changes until scripts/build-startup-code is run (the
    CLI meanwhile compiles that class's methods as before)."""
    recorded = startup_code.recorded(ROOT)["dataclass"]
    own = [text for module, text in recorded if module.split(".")[0] in ("firestop", "runbooks")]
    assert len(own) > 50
    missing = [text.splitlines()[1] for text in own if text not in dataclass_code_built.CODES]
    assert not missing, f"run scripts/build-startup-code: {len(missing)} method texts are not built, e.g. {missing[:3]}"


def _make(frozen: bool, *, unseen: str = ""):
    """A dataclass exercising every generated method (defaults, a factory, ordering, a hash), made fresh."""
    namespace = {"__name__": __name__, "__builtins__": __builtins__, "dataclasses": dataclasses}
    exec(f"""
@dataclasses.dataclass(frozen={frozen}, order=True, unsafe_hash={not frozen})
class Sample:
    a: int
    b: str = "x"
    c: tuple = dataclasses.field(default_factory=tuple)
    {unseen}
""", namespace)
    return namespace["Sample"]


def test_a_dataclass_made_with_built_code_behaves_and_looks_as_one_made_by_exec(installed, monkeypatch):
    for frozen in (True, False):
        text_seen = []
        recorder = dataclass_code._create_fn

        def record(name, args, body, **kwargs):
            args = list(args)
            names = list(kwargs.get("locals") or ())
            if kwargs.get("return_type", dataclasses.MISSING) is not dataclasses.MISSING:
                names.append("_return_type")
            text_seen.append(dataclass_code.method_text(name, args, body, names, kwargs.get("return_type", dataclasses.MISSING)))
            return recorder(name, args, body, **kwargs)

        dataclasses._create_fn = record
        try:
            plain = _make(frozen)  # the texts: not built yet, so through the original exec
        finally:
            dataclasses._create_fn = recorder
        monkeypatch.setitem(dataclass_code.__dict__, "_built",
                            {**dataclass_code._built, **{t: _outer(t).replace(co_filename="elsewhere.py") for t in text_seen}})
        built = _make(frozen)
        for method in ("__init__", "__repr__", "__eq__", "__lt__", "__hash__", "__setattr__", "__delattr__"):
            mine, theirs = built.__dict__.get(method), plain.__dict__.get(method)
            if theirs is None or not isinstance(theirs, types.FunctionType):
                assert mine is theirs or not isinstance(mine, types.FunctionType), method
                continue
            if method in ("__setattr__", "__delattr__") and not frozen:
                continue
            assert isinstance(mine, types.FunctionType), method
            mine, theirs = getattr(mine, "__wrapped__", mine), getattr(theirs, "__wrapped__", theirs)  # __repr__'s guard
            assert mine.__code__ == theirs.__code__, method
            assert mine.__code__.co_filename == "<string>", method
            assert (mine.__qualname__, mine.__module__, mine.__annotations__) == (theirs.__qualname__, theirs.__module__, theirs.__annotations__), method
            assert mine.__globals__ is not dataclass_code_built.__dict__
        one, other = built(1, "y"), built(2)
        assert repr(one) == "Sample(a=1, b='y', c=())" and one < other and one == built(1, "y") and one != other
        assert hash(one) == hash(built(1, "y"))
        if frozen:
            with pytest.raises(dataclasses.FrozenInstanceError):
                one.a = 3
        assert str(built.__init__.__annotations__) == str(plain.__init__.__annotations__)


def test_a_text_that_is_not_built_goes_to_the_original(installed):
    calls = []
    original = dataclass_code._original

    def counting(*args, **kwargs):
        calls.append(args[0])
        return original(*args, **kwargs)

    dataclass_code._original = counting
    try:
        cls = _make(True, unseen="never_built_field_9f2c: int = 0")
    finally:
        dataclass_code._original = original
    assert "__init__" in calls and "__repr__" in calls
    assert repr(cls(1)) == "Sample(a=1, b='x', c=(), never_built_field_9f2c=0)"


def test_install_is_idempotent_and_uninstall_restores():
    original = dataclasses._create_fn
    try:
        assert dataclass_code.install() and dataclass_code.install()
        assert dataclasses._create_fn is dataclass_code._create_fn
    finally:
        dataclass_code.uninstall()
    assert dataclasses._create_fn is original


def test_python_m_firestop_installs_it():
    """firestop/__main__.py installs it before importing the CLI (its import alone runs no command)."""
    probe = subprocess.run([sys.executable, "-c", "import firestop.__main__, dataclasses, firestop.cli.dataclass_code as d;"
                            "print(dataclasses._create_fn is d._create_fn)"], cwd=ROOT, capture_output=True, text=True)
    assert probe.stdout.strip() == "True", probe.stderr
