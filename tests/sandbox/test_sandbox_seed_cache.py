"""The seed cache (firestop.sandbox.seed.seed_document): a cached tenant is the tenant the seed builds."""

from __future__ import annotations

import json
import os

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


def _tree(root):
    (root / "pkg" / "__pycache__").mkdir(parents=True)
    (root / "a.py").write_text("x = 1\n")
    (root / "pkg" / "b.yaml").write_text("k: v\n")
    (root / "pkg" / "__pycache__" / "c.json").write_text("{}")  # not source: never part of the digest
    (root / "notes.txt").write_text("not source either")
    return root


def _read_digest(root) -> str:
    """The digest read from the files, as the seed cache defined it before the stat memo (sorted rglob)."""
    import hashlib
    import sys

    sha = hashlib.sha256(sys.version.encode())
    for path in sorted(root.rglob("*")):
        if path.is_file() and path.suffix in (".py", ".yaml", ".yml", ".json") and "__pycache__" not in path.parts:
            sha.update(str(path.relative_to(root)).encode() + b"\0" + path.read_bytes() + b"\0")
    return sha.hexdigest()


def test_code_digest_is_the_files_digest_and_its_memo_follows_every_edit(tmp_path):
    """The stat memo gives the digest the files gave, and is not used once a file changed, was added or removed."""
    root, memo_dir = _tree(tmp_path / "src"), tmp_path / "cache"
    want = _read_digest(root)
    assert seed_module.code_digest(root, None) == want  # no cache: the files are read
    assert seed_module.code_digest(root, memo_dir) == want  # computed, and remembered
    (memo,) = memo_dir.glob("code-*.txt")
    assert memo.read_text() == want and not list(memo_dir.glob(".seed-*.tmp"))
    memo.write_text("f" * 64)  # what the memo says is what is used while the files' signatures hold
    assert seed_module.code_digest(root, memo_dir) == "f" * 64
    edits = [
        lambda: (root / "a.py").write_text("x = 2\n"),  # same size, other bytes
        lambda: (root / "pkg" / "new.py").write_text(""),
        lambda: (root / "pkg" / "b.yaml").unlink(),
    ]
    for n, edit in enumerate(edits):
        edit()
        if (root / "a.py").exists():
            os.utime(root / "a.py", ns=(10**18 + n, 10**18 + n))  # a distinct mtime whatever the clock's tick
        assert seed_module.code_digest(root, memo_dir) == _read_digest(root) != want


def test_the_shipped_sandbox_digest_is_its_files_digest(tmp_path):
    from pathlib import Path

    root = Path(seed_module.__file__).resolve().parent
    assert seed_module.code_digest(root, tmp_path) == seed_module.code_digest(root, tmp_path) == _read_digest(root)


def test_a_cached_document_orjson_refuses_is_read_by_json(cache):
    seed_document()
    (entry,) = cache.glob("seed-*.json")
    doc = json.loads(entry.read_bytes())
    doc["latency"]["odd"] = float("nan")  # json writes NaN; orjson does not read it
    entry.write_text(json.dumps(doc, separators=(",", ":"), ensure_ascii=False), encoding="utf-8")
    again = seed_document()
    assert again["latency"]["odd"] != again["latency"]["odd"]


def test_a_cached_seed_document_keeps_integers_past_64_bits_exact(tmp_path):
    """The seed cache's decoder gave orjson's float for an integer past 64 bits (orjson reads 2**64 as
    1.8446744073709552e+19 without error) where ``json.loads`` keeps it: the cached document must be the built one."""
    from firestop.sandbox.seed import _decoded

    raw = b'{"quota": 18446744073709551616, "n": [123456789012345678901234]}'
    assert _decoded(raw) == json.loads(raw) and isinstance(_decoded(raw)["quota"], int)
