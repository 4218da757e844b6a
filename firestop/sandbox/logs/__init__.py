"""Room ``logs``: the Log Analytics query API, its KQL engine and the seeded log tables.

Contract (see :mod:`firestop.sandbox.core.rooms`): ``models.py`` (workspace ARM
body, ``doc["workspaces"]`` layout), ``routes.py`` (``logs.query``,
``logs.batch``, ``logs.queryResource`` on ``api.loganalytics.io`` / ``api.loganalytics.azure.com``), ``management.py``
(``workspaces.get`` on ARM: the workspace and its ``customerId``),
``seed.py`` (``workspaces``, order 30); ``kql/`` (the KQL subset: lexer,
parser, evaluator), ``incident.py`` (the leaked-key incident's rows) and
``scenarios.py`` (the other shipped scenarios' rows).
"""

from ..core.rooms import Room

room = Room(
    "logs",
    latency={
        "logs.query": 3.0,
        "logs.batch": 3.0,  # one batch, sub-queries run in parallel
        "logs.queryResource": 3.0,
        "workspaces.get": 0.1,
    },
    modules=("management", "routes", "seed"),  # register on ``room`` (imported by ``room.load()``)
)
