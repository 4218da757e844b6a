"""Observability: one structured log line per request and per decision, and OpenTelemetry traces and metrics.

The contract, stated once here:

* **Log lines** (:mod:`firestop.telemetry.logs`) go through the standard library's ``logging``: on Azure the
  Functions host collects them (the message is a ``key=value`` line; with OpenTelemetry configured the same
  fields are the record's attributes). ``firestop serve`` prints them on stderr
  (:func:`~firestop.telemetry.logs.configure_logging`), as JSON lines when ``FIRESTOP_LOG_FORMAT=json``.
  Three kinds of line:

  - ``request`` — one per HTTP request: ``method``, ``path`` (never the query string: ``?code=`` holds the
    function key), ``route`` (the function), ``status``, ``duration_ms``, ``caller`` / ``caller_id`` (the
    principal :func:`firestop.trust.authorize` believed — never one a client merely claimed —, or
    ``function-key`` / ``system-key`` for the machine routes), ``incident_id`` and ``outcome`` when the route
    knows them (:mod:`firestop.telemetry.requests`);
  - ``decision`` — one per timeline entry the incident orchestrator records while not replaying: ``incident_id``,
    ``phase``, ``step``, ``outcome`` (``done``, ``failed``, ``awaiting approval``, ``approved`` …), ``runbook``,
    ``target``, ``duration_ms``, ``caller`` (who decided or stopped), and ``incident`` — one per incident outcome
    (``outcome`` = the record's status, ``mttd_s``, ``mttc_s``) (:mod:`firestop.lifecycle.observe`);
  - ``event_intake`` — one per event ``POST /api/events`` accepted: what intake did with it (``outcome``,
    ``incident_id``, ``alert_id``, ``correlated_to``, ``part_of``, ``follows``, ``detail`` = ``events[<i>] id=<id>``),
    which the route's answer does not say (:mod:`firestop.functions.http_events`).

  Every value from outside is made safe where the line is built (:func:`~firestop.telemetry.logs.safe`): control
  characters and newlines escaped (no forged lines), at most :data:`~firestop.telemetry.logs.MAX_VALUE_CHARS`
  characters, registered secrets (:func:`~firestop.telemetry.logs.register_secret`: the function, system and seal
  keys) and credential-shaped values (keys, tokens, webhook URLs, ``runbooks.redact``'s patterns) replaced by
  ``[redacted]``.

* **OpenTelemetry** (:mod:`firestop.telemetry.otel`) only when ``APPLICATIONINSIGHTS_CONNECTION_STRING`` is set
  (``configure_azure_monitor()`` once, from ``function_app.py`` on the Functions host and from ``firestop serve``),
  or, locally, when ``FIRESTOP_OTEL_CONSOLE=1`` asks for the console exporter. Nothing else exports anything.
  The instruments go through ``opentelemetry-api``: without a configured SDK they are no-ops. Names:

  | instrument | kind | unit | attributes |
  |---|---|---|---|
  | ``firestop.incidents`` | counter | ``{incident}`` | ``outcome``, ``playbook``, ``sandbox``, ``exercise`` |
  | ``firestop.incident.mttd`` | histogram | ``s`` | ``playbook``, ``sandbox`` |
  | ``firestop.incident.mttc`` | histogram | ``s`` | ``playbook``, ``sandbox`` |
  | ``firestop.runbook.failures`` | counter | ``{failure}`` | ``runbook``, ``kind``, ``action`` |

  Spans: one trace per incident, emitted when its record is filed — ``incident`` (the whole incident), a child
  ``phase <name>`` per phase on the timeline and a grandchild ``step <step id>`` per runbook step, each with
  ``firestop.incident.id`` and the timeline's own times (the sandbox's simulated clock locally). Attributes carry
  ids, names and outcomes, never a secret value or a free-text detail.

Imports: the standard library only at import time; ``opentelemetry`` lazily, when something is recorded, and
``azure.monitor.opentelemetry`` only inside :func:`~firestop.telemetry.otel.configure` — the CLI's start-up path
imports neither.
"""
