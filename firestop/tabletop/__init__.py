"""Tabletop exercises: rehearse a playbook on the sandbox tenant and score the response.

A *scenario* (YAML, :mod:`firestop.tabletop.models`) says which tenant state,
which alerts at which simulated times, which faults, how the responder answers
approval requests, and what must (not) happen. :func:`run_scenario`
(:mod:`firestop.tabletop.runner`) runs it on a fresh in-memory sandbox and the
local durable host under ``FIRESTOP_HOME/tabletop/<run id>/`` — never on Azure,
never in the real incidents' history — and writes the scorecard
(:mod:`firestop.tabletop.scorecard`). Shipped scenarios: ``tabletop/scenarios/``.

CLI: ``python -m firestop tabletop list`` / ``tabletop run SCENARIO [--json]``.
"""

from firestop.tabletop.models import Scenario, ScenarioError, load_scenario
from firestop.tabletop.runner import TabletopRefused, run_scenario
from firestop.tabletop.scorecard import render_markdown

__all__ = ["Scenario", "ScenarioError", "TabletopRefused", "load_scenario", "render_markdown", "run_scenario"]
