"""Room ``monitor``: Azure Monitor — alert rules, action groups, diagnostic settings, metrics.

Contract (see :mod:`firestop.sandbox.core.rooms`):

* ``models.py`` — state layout and the small Python API other code uses. ``Microsoft.Insights``
  resources live in ``doc["monitor"]`` (seeded or PUT) and ``doc["deployed_resources"]``
  (template deployments), keyed by lower-case ARM id and read as one, so a rule or
  diagnostic setting deployed by ``firestop infra``'s template is the same thing as one
  PUT through ``azure-mgmt-monitor``: ``{id, name, type, apiVersion, location?, tags?, kind?, properties}``.
* ``routes.py`` — ARM CRUD of ``actionGroups`` (REST 2023-01-01), ``scheduledQueryRules``
  (Log Alerts V2, 2023-12-01 / 2022-08-01-preview), ``activityLogAlerts`` (2020-10-01),
  ``metricAlerts`` (2018-03-01) and ``diagnosticSettings`` (2021-05-01-preview) on a
  Cognitive Services account (any api-version accepted and logged). A scheduled query
  rule's query is compiled by the sandbox's KQL engine against its workspace at PUT time:
  an unknown column or table is a 400 ``BadRequest`` quoting the engine, as Azure refuses
  such a rule.
* ``metrics.py`` — ``metrics.list`` (``Metrics_List`` 2021-05-01): the recorded platform metrics of a resource, split
  and filtered by the dimensions the sandbox records;
* ``traffic.py`` — data-plane calls answered by the sandbox (403/401/429/400/200 in Azure's
  order), the log rows (only where a diagnostic setting sends them) and platform metrics they leave;
* ``evaluate.py`` — the rule evaluator on the virtual clock; ``payloads.py`` — the Common Alert
  Schema it delivers; ``delivery.py`` — the action group's webhook with Azure's retries;
* ``seed.py`` — the seed file's ``monitor:`` section (order 60): action groups and
  diagnostic settings.

Rule of this room: it imports ``core`` and, to read workspaces and accounts, other rooms'
``models`` and the ``logs.kql`` engine; nothing outside the sandbox imports it.
"""

from ..core.rooms import Room

room = Room(
    "monitor",
    latency={
        "actionGroups.get": 0.1,
        "actionGroups.createOrUpdate": 0.5,
        "actionGroups.delete": 0.3,
        "actionGroups.list": 0.2,
        "scheduledQueryRules.get": 0.1,
        "scheduledQueryRules.createOrUpdate": 1.0,
        "scheduledQueryRules.delete": 0.3,
        "scheduledQueryRules.list": 0.2,
        "activityLogAlerts.get": 0.1,
        "activityLogAlerts.createOrUpdate": 0.5,
        "activityLogAlerts.delete": 0.3,
        "activityLogAlerts.list": 0.2,
        "metricAlerts.get": 0.1,
        "metricAlerts.createOrUpdate": 0.5,
        "metricAlerts.delete": 0.3,
        "metricAlerts.list": 0.2,
        "diagnosticSettings.get": 0.1,
        "diagnosticSettings.createOrUpdate": 0.5,
        "diagnosticSettings.delete": 0.3,
        "diagnosticSettings.list": 0.1,
        "metrics.list": 0.2,
        # not requests: resource-log rows reach the workspace this long after the call (Azure: 30 s to 3 min)
        "diagnostics.ingestion": 120.0,
        # not requests: a platform-metric minute is published this long after it ends
        "metrics.latency": 60.0,
    },
    modules=("metrics", "routes", "seed"),  # register on ``room`` (imported by ``room.load()``)
)
