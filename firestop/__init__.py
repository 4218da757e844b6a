"""Firestop: incident response and runbook automation for Azure OpenAI.

Layers (imports point down only): entry points (``function_app.py``,
``firestop.cli``) → Functions bindings (``firestop.functions``) → lifecycle
(``firestop.lifecycle``, pure) / intake (``firestop.alerts``) → ``runbooks`` →
Azure access (``firestop.azure``). The local durable host lives in
``firestop.runtime``; the simulated tenant in ``firestop.sandbox`` and is only
ever reached by injection through ``firestop.azure.clients``.
"""

__version__ = "0.1.0"
