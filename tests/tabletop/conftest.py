from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from firestop.settings import REPO_ROOT

SCENARIOS = REPO_ROOT / "tabletop" / "scenarios"
EXAMPLE = REPO_ROOT / "examples" / "alerts" / "leaked-key.json"
PLAYBOOKS = REPO_ROOT / "playbooks"
ACCOUNT = "/subscriptions/11111111-2222-3333-4444-555555555555/resourceGroups/rg-ai-prod/providers/Microsoft.CognitiveServices/accounts/contoso-openai-prod"


@pytest.fixture
def write_scenario(tmp_path):
    """Write a scenario mapping (or text) to a file in tmp_path; alert files and playbooks point at the repo's."""

    def write(data, name: str = "scenario.yaml") -> Path:
        path = tmp_path / name
        path.write_text(data if isinstance(data, str) else yaml.safe_dump(data, sort_keys=False))
        return path

    return write


def leaked_key(**changes) -> dict:
    """The leaked-key scenario as a mapping (absolute paths), with top-level ``changes``."""
    base = {
        "name": "test-leaked-key",
        "playbooks": str(PLAYBOOKS),
        "alerts": [{"at": 0, "file": str(EXAMPLE)}],
        "expect": {"status": "contained"},
    }
    base.update(changes)
    return base
