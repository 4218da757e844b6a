"""Azure Monitor metrics of a resource: ``GET /{resourceUri}/providers/Microsoft.Insights/metrics`` (``Metrics_List``,
REST 2021-05-01, azure-rest-api-specs ``specification/monitor/resource-manager/Microsoft.Insights/stable/2021-05-01/
metrics_API.json``; what azure-mgmt-monitor 6.0.2's ``metrics.list`` sends), answered from the platform metrics the
sandbox records per minute (:mod:`.traffic`).

Query: ``timespan`` (``<start>/<end>``, ISO 8601), ``interval`` (only ``PT1M`` is modelled: the minutes as recorded),
``metricnames`` (one name), ``aggregation`` (``Total``/``Count``/``Average``/``Maximum``/``Minimum``: each point
carries the recorded minute's value under that name in lower case), ``$filter`` — ``Dim eq 'value'`` clauses joined by
`` and `` (values in single quotes, a quote doubled; ``'*'`` splits by that dimension). Answer ``{"cost", "timespan",
"interval", "namespace", "resourceregion", "value": [{"id", "type": "Microsoft.Insights/metrics", "name": {"value",
"localizedValue"}, "unit": "Count", "timeseries": [{"metadatavalues": [{"name": {"value", "localizedValue"},
"value"}], "data": [{"timeStamp", "<aggregation>"}]}]}]}``: one time series per combination of the filtered
dimensions' values that has data in the timespan (only metrics with recorded dimensions can be filtered: another
is a 400 ``BadRequest``, as Azure answers a dimension a metric does not have). An unknown resource: 404.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Optional

from ..core.armapi import ok, state_of
from ..core.clock import parse_utc
from ..core.errors import error
from ..core.router import RequestContext, Route
from ..core.wire import SandboxResponse
from . import room, traffic

_CLAUSE = re.compile(r"^\s*([A-Za-z][A-Za-z0-9_]{0,63})\s+eq\s+'((?:[^']|'')*)'\s*$", re.IGNORECASE)


def _filter(text: Optional[str]) -> Optional[list[tuple[str, str]]]:
    """``[(dimension, value)]`` of a ``$filter`` (``[]`` for none), None when it is not ``Dim eq 'v' and …``."""
    if not text or not text.strip():
        return []
    out = []
    for clause in re.split(r"\s+and\s+", text.strip(), flags=re.IGNORECASE):
        match = _CLAUSE.match(clause)
        if match is None:
            return None
        out.append((match.group(1), match.group(2).replace("''", "'")))
    return out


def list_metrics(ctx: RequestContext) -> SandboxResponse:
    p = ctx.params
    state = state_of(ctx)
    resource_id = f"/subscriptions/{p['sub']}/resourceGroups/{p['rg']}/providers/{p['ns']}/{p['rtype']}/{p['rname']}"
    if state.resource(resource_id) is None:
        return error(404, "ResourceNotFound", f"The Resource '{p['ns']}/{p['rtype']}/{p['rname']}' under resource group '{p['rg']}' was not found.")
    query = ctx.request.query  # (keys lower-cased)

    def get(key: str) -> Optional[str]:
        return query.get(key.lower())

    name, aggregation = str(get("metricnames") or ""), str(get("aggregation") or "Total")
    clauses = _filter(get("$filter"))
    if clauses is None:
        return error(400, "BadRequest", "Invalid $filter: only \"Dimension eq 'value'\" clauses joined by 'and' are supported.")
    try:
        first, _, second = str(get("timespan") or "").partition("/")
        start, end = parse_utc(first), parse_utc(second)
    except ValueError:
        return error(400, "BadRequest", "Invalid timespan: give <start>/<end> in ISO 8601.")
    recorded = {d.lower(): d for d in traffic.recorded_dimensions(name)}
    if clauses and any(d.lower() not in recorded for d, _ in clauses):
        return error(400, "BadRequest", f"Metric {name!r} has no dimension {next(d for d, _ in clauses if d.lower() not in recorded)!r}.")

    def inside(minute: str) -> bool:
        return start <= parse_utc(minute) < end

    series: dict[tuple, dict[str, float]] = {}
    if clauses:
        for minute, values, count in traffic.metric_split(state, resource_id, name):
            lowered = {k.lower(): v for k, v in values.items()}
            if not inside(minute) or any(v != "*" and str(lowered.get(d.lower(), "")).lower() != v.lower() for d, v in clauses):
                continue
            key = tuple((recorded[d.lower()], str(lowered.get(d.lower(), ""))) for d, _ in clauses)
            series.setdefault(key, {})[minute] = series.setdefault(key, {}).get(minute, 0.0) + count
    else:
        series[()] = {m: v for m, v in traffic.metric_series(state, resource_id, name).items() if inside(m) and v}
    field = aggregation.split(",")[0].strip().lower() or "total"
    timeseries = [{"metadatavalues": [{"name": {"value": d, "localizedValue": d}, "value": v} for d, v in key],
                   "data": [{"timeStamp": m, field: value} for m, value in sorted(points.items())]}
                  for key, points in sorted(series.items()) if points]
    return ok({"cost": 0, "timespan": f"{first}/{second}", "interval": "PT1M", "namespace": f"{p['ns']}/{p['rtype']}",
               "resourceregion": (state.resource(resource_id) or {}).get("location"),
               "value": [{"id": f"{resource_id}/providers/Microsoft.Insights/metrics/{name}", "type": "Microsoft.Insights/metrics",
                          "name": {"value": name, "localizedValue": name}, "unit": "Count", "timeseries": timeseries}]})


room.add(Route("GET", "management.azure.com",
               "/subscriptions/{sub}/resourceGroups/{rg}/providers/{ns}/{rtype}/{rname}/providers/Microsoft.Insights/metrics",
               "metrics.list", "arm", list_metrics))
