"""Sentinel state and JSON (REST 2024-03-01; shapes of the spec examples ``GetIncidentById.json``,
``GetAllIncidentAlerts.json``, copies in ``tests/alerts/samples/sentinel/``)."""

from __future__ import annotations

SI = "/providers/Microsoft.SecurityInsights"
INCIDENT_TYPE = "Microsoft.SecurityInsights/incidents"
COMMENT_TYPE = "Microsoft.SecurityInsights/incidents/comments"
ENTITY_TYPE = "Microsoft.SecurityInsights/Entities"
SEVERITIES = ("High", "Medium", "Low", "Informational")
STATUSES = ("New", "Active", "Closed")
CLASSIFICATIONS = ("Undetermined", "TruePositive", "BenignPositive", "FalsePositive")
#: classification → the classificationReason values the API accepts with it (REST 2024-03-01 enums).
REASONS = {
    "TruePositive": ("SuspiciousActivity",),
    "BenignPositive": ("SuspiciousButExpected",),
    "FalsePositive": ("IncorrectAlertLogic", "InaccurateData"),
    "Undetermined": (),
}
#: Longest comment message the sandbox accepts (Sentinel documents 30,000 characters per comment).
MAX_COMMENT_CHARS = 30_000


def sentinel(state) -> dict:
    section = state.doc.setdefault("sentinel", {})
    for key in ("incidents", "alerts", "entities", "comments"):
        section.setdefault(key, {})
    return section


#: Sev of a delivered alert (the Common Alert Schema's scale, what ``payload_of`` writes) → Sentinel's severity.
SEVERITY_OF_SEV = {"Sev0": "High", "Sev1": "High", "Sev2": "Medium", "Sev3": "Low", "Sev4": "Informational"}


def record_delivered(state, payload: dict, now: str) -> "str | None":
    """Register the Sentinel incident a delivered payload describes (``payload_of`` of a parsed Sentinel incident:
    ``data.essentials`` and ``data.source`` — ``ref``, the incident's ARM id, and ``alertTypes``), as Sentinel holds
    an incident before its automation rule relays it: what ``alert handle`` and tabletop scenarios fire
    (``Tenant.fire_alert``). One alert per alert type naming the targets, an AzureResource entity per target. An
    incident already held is left as Sentinel has it. Returns its id, or None (another schema, no incident id of a
    workspace the tenant holds)."""
    data = payload.get("data") if isinstance(payload, dict) else None
    if not isinstance(data, dict) or payload.get("schemaId") != "sentinel:incident":
        return None
    source = data.get("source") if isinstance(data.get("source"), dict) else {}
    essentials = data.get("essentials") if isinstance(data.get("essentials"), dict) else {}
    ref = source.get("ref")
    if not isinstance(ref, str) or f"{SI}/incidents/".lower() not in ref.lower():
        return None
    workspace, name = ref[: ref.lower().index(f"{SI}/incidents/".lower())], ref.rstrip("/").rsplit("/", 1)[-1]
    if state.resource(workspace) is None or workspace.split("/")[2].lower() != state.subscription_id.lower():
        return None
    section = sentinel(state)
    if ref.lower() in section["incidents"]:
        return section["incidents"][ref.lower()]["id"]
    targets = [t for t in essentials.get("alertTargetIDs") or [] if isinstance(t, str)]
    severity = SEVERITY_OF_SEV.get(str(essentials.get("severity")), "Medium")
    fired = essentials.get("firedDateTime") or now
    types = [t for t in source.get("alertTypes") or [] if isinstance(t, str)] or [str(essentials.get("alertRule") or "")]
    number = max([int(i["properties"].get("incidentNumber") or 0) for i in section["incidents"].values()] + [0]) + 1
    section["incidents"][ref.lower()] = {
        "id": ref, "name": name, "type": INCIDENT_TYPE, "etag": state.new_etag(),
        "properties": {"title": str(essentials.get("description") or types[0]), "description": "", "severity": severity,
                       "status": "Closed" if essentials.get("monitorCondition") == "Resolved" else "New",
                       "owner": {"objectId": None, "email": None, "userPrincipalName": None, "assignedTo": None},
                       "labels": [], "incidentNumber": number, "providerName": "Azure Sentinel", "providerIncidentId": str(number),
                       "createdTimeUtc": fired, "lastModifiedTimeUtc": fired, "firstActivityTimeUtc": source.get("start") or fired,
                       "lastActivityTimeUtc": source.get("end") or fired, "relatedAnalyticRuleIds": [],
                       "additionalData": {"alertsCount": len(types), "bookmarksCount": 0, "commentsCount": 0,
                                          "alertProductNames": [], "tactics": []}},
    }
    section["alerts"][ref.lower()] = [{
        "id": f"{workspace}{SI}/Entities/{state.new_guid('sentinel-alert')}", "type": ENTITY_TYPE, "kind": "SecurityAlert",
        "properties": {"alertType": t, "severity": severity, "status": "New", "timeGenerated": fired,
                       "resourceIdentifiers": [{"type": "AzureResource", "azureResourceId": r} for r in targets]}} for t in types]
    section["entities"][ref.lower()] = [{
        "id": f"{workspace}{SI}/Entities/{state.new_guid('sentinel-entity')}", "type": ENTITY_TYPE, "kind": "AzureResource",
        "properties": {"resourceId": r, "friendlyName": r.rstrip("/").rsplit("/", 1)[-1]}} for r in targets]
    # the delivered indicators as the incident's entities (Ip, Account, CloudApplication): the source check compares them
    found = source.get("indicators") if isinstance(source.get("indicators"), dict) else {}
    kinds = (("caller_ips", "Ip", "address"), ("principal_ids", "Account", "aadUserId"), ("end_user_ids", "Account", "name"),
             ("applications", "CloudApplication", "name"))
    for indicator, kind, field in kinds:
        for value in [v for v in found.get(indicator) or [] if isinstance(v, str)]:
            section["entities"][ref.lower()].append({
                "id": f"{workspace}{SI}/Entities/{state.new_guid('sentinel-entity')}", "type": ENTITY_TYPE, "kind": kind,
                "properties": {field: value, "friendlyName": value}})
    for rows in (section["alerts"][ref.lower()], section["entities"][ref.lower()]):
        for row in rows:
            row["name"] = row["id"].rsplit("/", 1)[-1]
    return ref
