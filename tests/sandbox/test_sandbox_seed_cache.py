"""The seed cache (firestop.sandbox.seed.seed_document): a cached tenant is the tenant the seed builds."""

from __future__ import annotations

import json

import pytest

from firestop.sandbox import Tenant
from firestop.sandbox import seed as seed_module
from firestop.sandbox.seed import SEED_CACHE_ENV, build_document, read_seed_file, seed_document


@pytest.fixture
def cache(tmp_path, monkeypatch):
    where = tmp_path / "cache"
    monkeypatch.setenv(SEED_CACHE_ENV, str(where))
    return where


def test_cached_document_is_the_built_one(cache, tmp_path):
    built = json.loads(json.dumps(build_document(read_seed_file())))
    first = seed_document()
    assert [p.name for p in cache.iterdir()] and not list(cache.glob(".seed-*.tmp"))
    second = seed_document()
    assert first == second == built
    assert first is not second  # every caller gets its own document
    fresh, cached = Tenant.open(tmp_path / "a"), Tenant.open(tmp_path / "b")
    assert fresh._state.doc == cached._state.doc  # noqa: SLF001


def test_another_seed_file_or_changed_code_is_another_entry(cache, tmp_path, monkeypatch):
    seed_document()
    other = tmp_path / "other.yaml"
    other.write_text(read_seed_file_text().replace("seed: ", "seed: 1", 1), encoding="utf-8")
    assert seed_document(other) == json.loads(json.dumps(build_document(read_seed_file(other))))
    monkeypatch.setattr(seed_module, "_code_digest", "another version of the seeding code")
    seed_document()
    assert len(list(cache.glob("seed-*.json"))) == 3


def test_a_corrupt_or_unwritable_cache_is_skipped(cache, tmp_path, monkeypatch):
    seed_document()
    (entry,) = cache.glob("seed-*.json")
    entry.write_text('{"half": ', encoding="utf-8")
    assert seed_document() == json.loads(json.dumps(build_document(read_seed_file())))
    blocked = tmp_path / "a-file"
    blocked.write_text("not a directory")
    monkeypatch.setenv(SEED_CACHE_ENV, str(blocked / "cache"))
    assert seed_document()["subscription_id"]
    monkeypatch.setenv(SEED_CACHE_ENV, "off")
    assert seed_document() == build_document(read_seed_file())


def read_seed_file_text() -> str:
    return seed_module.DEFAULT_SEED_FILE.read_text(encoding="utf-8")
