"""tests/alerts/data is a byte-for-byte copy of shared/corpus/alerts (when that folder is beside the repo).

The suite reads only the copy, so it runs anywhere; this test catches the copy
drifting from the shared corpus on machines where both exist.
"""

from __future__ import annotations

from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
DATA = HERE / "data"
SHARED = HERE.parents[2] / "shared" / "corpus" / "alerts"


def _files(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_copy_has_every_corpus_folder() -> None:
    for folder in ("common-schema", "test-actions", "context-fragments", "legacy"):
        assert list((DATA / folder).glob("*.json")), folder


@pytest.mark.skipif(not SHARED.is_dir(), reason="shared/corpus/alerts is not beside the repo (e.g. CI clone)")
def test_copy_matches_shared_corpus() -> None:
    shared, copied = _files(SHARED), _files(DATA)
    assert sorted(shared) == sorted(copied)
    changed = [name for name in shared if shared[name] != copied[name]]
    assert changed == []
