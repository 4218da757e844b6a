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
