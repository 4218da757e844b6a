"""Resource group names by Azure's rules (firestop.resource_id.resource_group_name_problem)."""

from __future__ import annotations

import pytest

from firestop.resource_id import resource_group_name_problem


@pytest.mark.parametrize("name", ["rg-ai-prod", "RG_1", "a", "(x).y", "r" * 90, "rg-évian"])
def test_names_azure_accepts(name):
    assert resource_group_name_problem(name) is None


@pytest.mark.parametrize("name", ["", ".", "..", "rg.", "r" * 91, "rg ai", "rg/x", "rg\n", "rg\\x", "rg#", None, 5])
def test_names_azure_refuses_say_why(name):
    problem = resource_group_name_problem(name)
    assert problem and ("resource group name" in problem)
