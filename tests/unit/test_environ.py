"""firestop.environ reads os.environ as its get does, without a KeyError per unset name."""

from __future__ import annotations

import os

from firestop.environ import ENVIRON, environ_get


def test_it_answers_what_os_environ_get_answers_after_every_kind_of_change(monkeypatch):
    name = "FIRESTOP_TEST_ENVIRON_VALUE"
    monkeypatch.delenv(name, raising=False)
    assert environ_get(name) is None and environ_get(name, "dflt") == "dflt" and ENVIRON.get(name) is None
    monkeypatch.setenv(name, "one ünïcode")
    assert environ_get(name) == os.environ.get(name) == ENVIRON.get(name) == "one ünïcode"
    os.environ[name] = ""
    assert environ_get(name, "dflt") == "" == os.environ.get(name, "dflt")
    del os.environ[name]
    assert environ_get(name, "dflt") == "dflt"


def test_a_plain_mapping_in_os_environs_place_is_read_with_its_get(monkeypatch):
    monkeypatch.setattr(os, "environ", {"FIRESTOP_TEST_ENVIRON_VALUE": "from the mapping"})
    assert environ_get("FIRESTOP_TEST_ENVIRON_VALUE") == "from the mapping"
    assert environ_get("FIRESTOP_TEST_UNSET", "dflt") == "dflt"


def test_the_readers_on_the_webhook_path_see_a_change_at_once(monkeypatch):
    from firestop.intake import CorrelationSettings
    from firestop.trust.seal import AZURE_MARKERS, on_azure

    monkeypatch.delenv("FIRESTOP_CORRELATION_WINDOW_SECONDS", raising=False)
    before = CorrelationSettings.from_env().window_seconds
    monkeypatch.setenv("FIRESTOP_CORRELATION_WINDOW_SECONDS", "42")
    assert CorrelationSettings.from_env().window_seconds == 42 != before
    for marker in AZURE_MARKERS:
        monkeypatch.delenv(marker, raising=False)
    assert not on_azure()
    monkeypatch.setenv(AZURE_MARKERS[0], "x")
    assert on_azure()


_PROBES = ("FIRESTOP_TEST_ENVIRON_A", "FIRESTOP_TEST_ENVIRON_B", "FIRESTOP_SEAL_KEY", "WEBSITE_INSTANCE_ID", "PATH", "HOME",
           "firestop_test_environ_a", "FIRESTOP_TEST_ÜNÏCODE", "")


def _same_as_os_environ() -> None:
    """Every name os.environ holds, and the probes, answer as os.environ.get answers (value, default)."""
    for name in [*os.environ, *_PROBES]:
        assert environ_get(name) == os.environ.get(name), name
        assert environ_get(name, "dflt") == os.environ.get(name, "dflt") == ENVIRON.get(name, "dflt"), name


def test_pinned_to_os_environ_get_on_this_interpreter_through_every_way_tests_change_it(monkeypatch):
    """firestop.environ reads CPython's private ``os.environ._data`` (it saves ~13 µs of CPU per correlated alert,
    8 % of the corpus mix's, docstring): this pins it to ``os.environ.get`` after each way tests and code change the
    environment — monkeypatch, item assignment, update, setdefault, pop, del — and after ``os.putenv`` and
    ``os.unsetenv`` behind os.environ's back, which (as the os module documents) neither reader sees."""
    a, b = _PROBES[:2]
    for name in (a, b, _PROBES[7]):
        monkeypatch.delenv(name, raising=False)
    _same_as_os_environ()
    monkeypatch.setenv(a, "set by monkeypatch")
    _same_as_os_environ()
    os.environ[b] = "ünïcode = value"
    monkeypatch.setenv(_PROBES[7], "x")
    _same_as_os_environ()
    os.environ.update({a: "updated", b: ""})
    _same_as_os_environ()
    assert environ_get(b, "dflt") == ""
    os.environ.pop(b)
    os.environ.setdefault(b, "set by default")
    _same_as_os_environ()
    del os.environ[b]
    _same_as_os_environ()
    os.putenv(b, "putenv only")  # the process environment changes, os.environ does not
    try:
        _same_as_os_environ()
        assert environ_get(b) is None
        os.unsetenv(a)  # gone from the process environment, still in os.environ
        _same_as_os_environ()
        assert environ_get(a) == "updated"
    finally:
        os.unsetenv(b)
        os.putenv(a, os.environ[a])


def test_pinned_when_os_environ_is_a_new_environ_object(monkeypatch):
    """A fresh ``os._Environ`` in os.environ's place (the per-object key cache is not reused for it)."""
    environ_get("FIRESTOP_TEST_ENVIRON_A")  # fill the cache for the current object
    fresh = os._Environ({b"FIRESTOP_TEST_ENVIRON_A": b"fresh"}, os.environ.encodekey, os.environ.decodekey,
                        os.environ.encodevalue, os.environ.decodevalue)
    monkeypatch.setattr(os, "environ", fresh)
    assert environ_get("FIRESTOP_TEST_ENVIRON_A") == "fresh" == os.environ.get("FIRESTOP_TEST_ENVIRON_A")
    _same_as_os_environ()
