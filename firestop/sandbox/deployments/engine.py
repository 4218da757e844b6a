"""Deploy an ARM template into the sandbox tenant: parameters, variables, resources, outputs.

What it evaluates (template structure: https://learn.microsoft.com/azure/azure-resource-manager/templates/syntax):

* ``parameters``: the supplied value or ``defaultValue``; types ``string securestring int bool array
  object secureObject``; ``allowedValues``, ``minLength``/``maxLength``, ``minValue``/``maxValue``.
  A supplied parameter the template does not declare, a missing required one, a wrong type → ``InvalidTemplate``.
* ``variables`` (evaluated on first use, cycles refused), expressions in values **and** in property names.
* ``resources``: ``condition``, ``copy`` (``count``; ``copyIndex()``), child ``resources`` (type and
  name joined to the parent's), ``scope`` on extension resources (``<ns>/<type>/<name>`` relative to
  the deployment's resource group, or a full ID), ``dependsOn`` (IDs or names; unknown → error;
  deployment order is a topological sort; a ``reference()`` to a resource of this template needs a
  ``dependsOn`` on it, so a template never races itself on Azure either).
* nested ``Microsoft.Resources/deployments`` with an inline ``template`` and
  ``expressionEvaluationOptions.scope`` ``inner`` (parameters passed in), into ``resourceGroup`` (must
  exist) or, with ``subscriptionId`` and no ``resourceGroup``, at subscription scope. ``outer``
  scope, ``templateLink`` and ``functions`` are refused as unsupported by the sandbox.
* ``outputs``.

What it creates: role definitions and role assignments go to the tenant's authorization state
(``doc["role_definitions"]``, ``doc["role_assignments"]`` — the same table the role-assignment routes
serve), so role enforcement can use exactly what was deployed. Every other resource is recorded in
``doc["deployed_resources"]`` (id, type, apiVersion, name, location, kind, sku, identity, tags,
properties) plus the runtime properties ``reference()`` returns (:data:`RUNTIME`).

Errors: :class:`TemplateError` with ARM's code (``InvalidTemplate`` for the language and
parameters, ``InvalidTemplateDeployment`` for a resource the sandbox refuses to create,
``ResourceGroupNotFound``) and a message naming the expression and its line/column in the request.
"""

from __future__ import annotations

import copy
import re
import uuid
from dataclasses import dataclass, field
from typing import Any, Callable, Optional

from .expressions import ExpressionError, Scope, evaluate_string, is_expression, value_size

TEMPLATE_SCHEMAS = ("deploymentTemplate.json", "subscriptionDeploymentTemplate.json")
_GUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
#: Resources and nested deployments one deployment may create (ARM's limit is 800 resources per template).
MAX_RESOURCES = 800
MAX_DEPTH = 5
#: Everything one deployment's expressions produce together, in :func:`~.expressions.value_size` characters: ARM
#: limits a template to 4 MB "after it has been expanded with iterative resource definitions, and values for
#: variables and parameters" (Template limits, learn.microsoft.com/azure/azure-resource-manager/templates/best-practices#template-limits).
MAX_EXPANDED = 4 * 1_048_576


class TemplateError(Exception):
    """A refused deployment: ``code`` (ARM error code), ``message``, ``status`` (HTTP)."""

    def __init__(self, code: str, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.code, self.message, self.status = code, message, status


@dataclass
class Target:
    """Where a (nested) template deploys: subscription and, for resource-group scope, the group."""

    subscription_id: str
    resource_group: Optional[str]
    location: str

    @property
    def id(self) -> str:
        base = f"/subscriptions/{self.subscription_id}"
        return base if self.resource_group is None else f"{base}/resourceGroups/{self.resource_group}"


@dataclass
class Planned:
    """One resource instance after copy/condition expansion (evaluated lazily)."""

    raw: dict
    path: tuple
    copy_name: Optional[str]
    copy_index: Optional[int]
    parent: Optional["Planned"] = None
    symbol: str = ""
    id: str = ""
    type: str = ""
    name: str = ""
    depends: list = field(default_factory=list)


@dataclass
class Outcome:
    """What a deployment did: the resources in deployment order and the outputs."""

    resources: list[dict]
    outputs: dict
    skipped: list[str]


def template_hash(template: Any) -> str:
    """``properties.templateHash`` of a deployment: a hash of the template as sent (ARM's own algorithm is not
    published; the sandbox's is the SHA-256 of its canonical JSON, decimal like ARM's). Equal templates, equal hash."""
    import hashlib
    import json

    digest = hashlib.sha256(json.dumps(template, sort_keys=True, separators=(",", ":"), default=str).encode("utf-8")).digest()
    return str(int.from_bytes(digest[:8], "big"))


def public_parameters(template: Any, supplied: Any) -> dict:
    """The supplied parameters as a deployment record shows them: secure ones without their value (ARM never echoes
    them), each ``{"type", "value"}``."""
    declared = {k.lower(): str(v.get("type", "")).lower()
                for k, v in ((template.get("parameters") if isinstance(template, dict) else None) or {}).items() if isinstance(v, dict)}
    out = {}
    for name, spec in (supplied or {}).items():
        ptype = declared.get(name.lower(), "")
        out[name] = {"type": ptype or "string"} if ptype.startswith("secure") else {"type": ptype, "value": (spec or {}).get("value") if isinstance(spec, dict) else None}
    return out


def deployment_record(did: str, name: str, *, now: str, template: Any, parameters: Any, outputs: dict,
                      output_resources: list[str], mode: str = "Incremental") -> dict:
    """A deployment as ``Deployments - Get`` answers it (DeploymentExtended, azure-rest-api-specs
    specification/resources/resource-manager/Microsoft.Resources/stable/2025-04-01/resources.json:
    ``properties.{provisioningState, correlationId, timestamp, duration, outputs, outputResources, parameters, mode,
    templateHash}``, all read-only but ``mode``/``parameters``): the top-level deployment's and each nested
    ``Microsoft.Resources/deployments`` resource's (a nested deployment is a deployment at its own scope, listed and
    read like any other). Secure parameters and secure outputs are kept without their value."""
    record = {
        "id": did, "name": name, "type": "Microsoft.Resources/deployments",
        "properties": {
            "provisioningState": "Succeeded", "mode": mode, "timestamp": now,
            "correlationId": str(uuid.uuid5(uuid.NAMESPACE_URL, f"{did}:{now}")),
            "parameters": public_parameters(template, parameters), "outputs": copy.deepcopy(outputs),
            "outputResources": [{"id": rid} for rid in output_resources],
            "templateHash": template_hash(template), "duration": "PT1S",
        },
    }
    for key, value in record["properties"]["outputs"].items():
        if str(value.get("type", "")).lower().startswith("secure"):
            record["properties"]["outputs"][key] = {"type": value["type"]}
    return record


def _runtime_properties(state, rtype: str, rid: str, name: str, body: dict) -> dict:
    """Read-only properties ARM would return from ``reference()`` for a resource the sandbox records."""
    t = rtype.lower()
    seed = f"{state.doc.get('seed')}:{rid.lower()}"
    ident = lambda purpose: str(uuid.uuid5(uuid.NAMESPACE_URL, f"firestop-sandbox:{purpose}:{seed}"))
    props = copy.deepcopy(body.get("properties") or {})
    if t == "microsoft.managedidentity/userassignedidentities":
        props.update(principalId=ident("principal"), clientId=ident("client"), tenantId=state.tenant_id)
    elif t == "microsoft.insights/components":
        key = ident("ikey")
        props.update(InstrumentationKey=key, ConnectionString=f"InstrumentationKey={key};IngestionEndpoint=https://{body.get('location', 'westeurope')}.in.applicationinsights.azure.com/")
    elif t == "microsoft.storage/storageaccounts":
        props.update(primaryEndpoints={s: f"https://{name}.{s}.core.windows.net/" for s in ("blob", "queue", "table", "file", "dfs", "web")})
    elif t == "microsoft.operationalinsights/workspaces":
        props.update(customerId=ident("workspace"))
    elif t == "microsoft.web/sites":
        props.update(defaultHostName=f"{name}.azurewebsites.net", state="Running")
    props.setdefault("provisioningState", "Succeeded")
    return props


class Deployer:
    """Evaluates and applies one template (recursively for nested deployments).

    ``state``: the tenant's :class:`~firestop.sandbox.state.TenantState`; ``now``: ISO time for
    ``createdOn``; ``caller``: object ID for ``createdBy``; ``position(path)``: (line, column) of a
    JSON path of the request body; ``apply``: False for what-if (nothing is written).
    """

    def __init__(self, state, *, now: str, caller: str, position: Callable[[tuple], Optional[tuple[int, int]]],
                 apply: bool, group_exists: Callable[[str], bool]) -> None:
        self.state = state
        self.now = now
        self.caller = caller
        self.position = position
        self.apply = apply
        self.group_exists = group_exists
        self.created: list[dict] = []
        self.skipped: list[str] = []
        self.deployed: dict[str, dict] = {}  # lower id -> runtime view (for reference())
        self.count = 0
        self.expanded = 0  # what expressions produced so far (MAX_EXPANDED)
        #: The resource being evaluated (a reference() to a resource of the template needs its dependsOn).
        self.current_item: Optional[Planned] = None

    # ------------------------------------------------------------------ errors
    def where(self, path: tuple) -> str:
        pos = self.position(path)
        return f"at line '{pos[0]}' and column '{pos[1]}'" if pos else "at an unknown line"

    def invalid(self, path: tuple, message: str, code: str = "InvalidTemplate") -> TemplateError:
        dotted = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in path).lstrip(".")
        return TemplateError(code, f"Deployment template validation failed: 'The template value '{dotted}' {self.where(path)} is not valid: {message}'.")

    # ------------------------------------------------------------------ template
    def deploy(self, template: Any, parameters: Any, target: Target, name: str, path: tuple, depth: int = 0) -> Outcome:
        if depth > MAX_DEPTH:
            raise self.invalid(path, f"nested deployments are limited to {MAX_DEPTH} levels in the sandbox")
        if not isinstance(template, dict):
            raise self.invalid(path, "the template must be a JSON object")
        schema = str(template.get("$schema", ""))
        if not schema.rstrip("#").endswith(TEMPLATE_SCHEMAS):
            raise self.invalid(path + ("$schema",), f"the template $schema '{schema}' is not a deployment template schema")
        for unsupported in ("functions", "apiProfile"):
            if unsupported in template:
                raise self.invalid(path + (unsupported,), f"'{unsupported}' is not supported by the sandbox")
        declared = template.get("parameters") or {}
        supplied = parameters or {}
        if not isinstance(declared, dict) or not isinstance(supplied, dict):
            raise self.invalid(path + ("parameters",), "parameters must be an object")
        unknown = sorted(k for k in supplied if k.lower() not in {d.lower() for d in declared})
        if unknown:
            raise TemplateError(
                "InvalidTemplate",
                f"Deployment template validation failed: 'The template parameters '{', '.join(unknown)}' in the parameters file are not valid; "
                "they are not present in the original template and can therefore not be provided at deployment time. "
                f"The only supported parameters for this template are '{', '.join(declared)}'.'",
            )
        ctx = _Context(self, template, target, name, path)
        for pname, spec in declared.items():
            ctx.parameter_value(pname, spec, _lookup(supplied, pname))
        planned = ctx.plan(template.get("resources") or [], path + ("resources",))
        order = ctx.order(planned)
        for item in order:
            ctx.deploy_one(item, depth)
        outputs = {}
        for oname, spec in (template.get("outputs") or {}).items():
            opath = path + ("outputs", oname)
            outputs[oname] = {"type": spec.get("type", "string"), "value": ctx.value(spec.get("value"), opath + ("value",), None)}
        return Outcome(resources=[{"id": p.id, "type": p.type} for p in order if p.id], outputs=outputs, skipped=list(self.skipped))


def _lookup(mapping: dict, key: str):
    for k, v in mapping.items():
        if k.lower() == key.lower():
            return v
    return None


class _Context:
    """Evaluation state of one template (its parameters, variables and resources)."""

    TYPES = {"string": str, "securestring": str, "int": int, "bool": bool, "array": list, "object": dict, "secureobject": dict}

    def __init__(self, deployer: Deployer, template: dict, target: Target, name: str, path: tuple) -> None:
        self.d = deployer
        self.template = template
        self.target = target
        self.name = name
        self.path = path
        self.params: dict[str, Any] = {}
        self.vars: dict[str, Any] = {}
        self.evaluating: set[str] = set()
        self.by_id: dict[str, Planned] = {}
        self.current: Optional[Planned] = None

    # -- scope ---------------------------------------------------------------------
    def scope(self, item: Optional[Planned]) -> Scope:
        def copy_index(loop: Optional[str]) -> int:
            if item is None or item.copy_index is None or (loop and loop.lower() != (item.copy_name or "").lower()):
                raise ExpressionError(f"The template function 'copyIndex' is not expected at this location{f' (no copy loop {loop!r})' if loop else ''}.")
            return item.copy_index

        return Scope(subscription_id=self.target.subscription_id, tenant_id=self.d.state.tenant_id,
                     resource_group=self.target.resource_group, location=self.target.location,
                     deployment_name=self.name, parameter=self.parameter, variable=self.variable,
                     reference=self.reference, copy_index=copy_index)

    def parameter(self, name: str) -> Any:
        for k, v in self.params.items():
            if k.lower() == str(name).lower():
                return copy.deepcopy(v)
        raise ExpressionError(f"The template parameter '{name}' is not found. Please see https://aka.ms/arm-syntax-parameters for usage details.")

    def variable(self, name: str) -> Any:
        declared = self.template.get("variables") or {}
        key = next((k for k in declared if k.lower() == str(name).lower()), None)
        if key is None:
            raise ExpressionError(f"The template variable '{name}' is not found. Please see https://aka.ms/arm-syntax-variables for usage details.")
        if key not in self.vars:
            if key in self.evaluating:
                raise ExpressionError(f"The template variable '{name}' refers to itself (circular reference).")
            if key == "copy":
                raise ExpressionError("variable copy loops are not supported by the sandbox")
            self.evaluating.add(key)
            try:
                self.vars[key] = self.value(declared[key], self.path + ("variables", key), None)
            finally:
                self.evaluating.discard(key)
        return copy.deepcopy(self.vars[key])

    def reference(self, target: str, api_version: Optional[str], full: bool) -> Any:
        rid = target if target.startswith("/") else None
        if rid is None:  # by name: a resource of this template
            match = [p for p in self.by_id.values() if p.name.lower() == target.lower()]
            if not match:
                raise ExpressionError(f"The resource '{target}' referenced by reference() is not defined in the template.")
            rid = match[0].id
        planned = self.by_id.get(rid.lower())
        if planned is not None and self.d.current_item is not None and rid.lower() not in {x.lower() for x in self.d.current_item.depends}:
            raise ExpressionError(f"reference() to '{rid}', which this template deploys, needs a dependsOn on it (Azure deploys resources in parallel otherwise).")
        view = self.d.deployed.get(rid.lower())
        if view is None:
            existing = self.d.state.resource(rid) or self.d.state.doc.get("deployed_resources", {}).get(rid.lower())
            if existing is None:
                raise ExpressionError(f"The Resource '{rid}' was not found (reference()).")
            view = {"properties": existing.get("properties", {}), "full": existing}
        return copy.deepcopy(view["full"] if full else view["properties"])

    # -- values --------------------------------------------------------------------
    def value(self, raw: Any, path: tuple, item: Optional[Planned]) -> Any:
        """``raw`` with every expression (in values and in property names) evaluated."""
        if isinstance(raw, str):
            if not is_expression(raw):
                return evaluate_string(raw, self.scope(item))
            try:
                result = evaluate_string(raw, self.scope(item))
            except ExpressionError as exc:
                raise self.d.invalid(path, f"The language expression '{exc.expression}' is not valid: {exc.message} (position {exc.offset})") from None
            self.d.expanded += value_size(result, MAX_EXPANDED - self.d.expanded)
            if self.d.expanded > MAX_EXPANDED:
                raise self.d.invalid(path, f"the template's expressions expand to more than {MAX_EXPANDED:,} characters "
                                           "(ARM limits a template to 4 MB after expansion)")
            return result
        if isinstance(raw, list):
            return [self.value(v, path + (i,), item) for i, v in enumerate(raw)]
        if isinstance(raw, dict):
            out = {}
            for k, v in raw.items():
                key = self.value(k, path + (k,), item) if is_expression(k) else k
                if not isinstance(key, str):
                    raise self.d.invalid(path + (k,), "a property name expression must evaluate to a string")
                out[key] = self.value(v, path + (k,), item)
            return out
        return raw

    def parameter_value(self, name: str, spec: Any, supplied: Any) -> None:
        path = self.path + ("parameters", name)
        if not isinstance(spec, dict) or "type" not in spec:
            raise self.d.invalid(path, f"the template parameter '{name}' needs a 'type'")
        ptype = str(spec["type"]).lower()
        if ptype not in self.TYPES:
            raise self.d.invalid(path + ("type",), f"the template parameter '{name}' has the unknown type '{spec['type']}'")
        if supplied is not None:
            if not isinstance(supplied, dict) or "value" not in supplied:
                what = "Key Vault references are not supported by the sandbox" if isinstance(supplied, dict) and "reference" in supplied else "give {\"value\": ...}"
                raise TemplateError("InvalidTemplate", f"Deployment template validation failed: 'The value for the template parameter '{name}' is not valid: {what}.'")
            value = supplied["value"]
        elif "defaultValue" in spec:
            value = self.value(spec["defaultValue"], path + ("defaultValue",), None)
        else:
            raise self.d.invalid(path, f"The value for the template parameter '{name}' is not provided. Please see https://aka.ms/arm-create-parameter-file for usage details")
        expected = self.TYPES[ptype]
        if isinstance(value, bool) and expected is int or not isinstance(value, expected):
            raise self.d.invalid(path, f"the value of the template parameter '{name}' is of type '{type(value).__name__}', expected '{spec['type']}'")
        allowed = spec.get("allowedValues")
        if allowed is not None and value not in allowed:
            raise self.d.invalid(path, f"The provided value '{value}' for the template parameter '{name}' is not valid. The parameter value is not part of the allowed value(s): '{','.join(map(str, allowed))}'")
        for key, ok in (("minLength", lambda n: len(value) >= n), ("maxLength", lambda n: len(value) <= n),
                        ("minValue", lambda n: value >= n), ("maxValue", lambda n: value <= n)):
            if key in spec and not ok(spec[key]):
                raise self.d.invalid(path, f"the value of the template parameter '{name}' does not satisfy {key} {spec[key]}")
        self.params[name] = value

    # -- resources -----------------------------------------------------------------
    def plan(self, resources: Any, path: tuple, parent: Optional[Planned] = None) -> list[Planned]:
        if not isinstance(resources, list):
            raise self.d.invalid(path, "resources must be an array (symbolic names are not supported by the sandbox)")
        out: list[Planned] = []
        for i, raw in enumerate(resources):
            rpath = path + (i,)
            if not isinstance(raw, dict) or "type" not in raw or "name" not in raw:
                raise self.d.invalid(rpath, "a resource needs 'type' and 'name'")
            loop = raw.get("copy")
            if loop is None:
                instances = [Planned(raw, rpath, None, None, parent)]
            else:
                if parent is not None:
                    raise self.d.invalid(rpath + ("copy",), "copy is not supported on child resources")
                count = self.value(loop.get("count"), rpath + ("copy", "count"), None)
                if not isinstance(count, int) or isinstance(count, bool) or not 0 <= count <= MAX_RESOURCES:
                    raise self.d.invalid(rpath + ("copy", "count"), f"the copy count must be an integer from 0 to {MAX_RESOURCES}, got {count!r}")
                instances = [Planned(raw, rpath, str(loop.get("name", "")), n, parent) for n in range(count)]
            for item in instances:
                condition = raw.get("condition", True)
                if condition is not True:
                    condition = self.value(condition, rpath + ("condition",), item)
                    if not isinstance(condition, bool):
                        raise self.d.invalid(rpath + ("condition",), "the condition must evaluate to a boolean")
                if not condition:  # skipped: nothing else of it is evaluated (its name only if it can be)
                    try:
                        self.identify(item)
                        self.d.skipped.append(item.id)
                    except TemplateError:
                        self.d.skipped.append("/".join(map(str, rpath)))
                    continue
                self.identify(item)
                if item.id.lower() in self.by_id:
                    raise self.d.invalid(rpath, f"The resource '{item.id}' is defined multiple times in a template.")
                self.by_id[item.id.lower()] = item
                out.append(item)
                if raw.get("resources"):
                    out += self.plan(raw["resources"], rpath + ("resources",), item)
        self.d.count += len(out)
        if self.d.count > MAX_RESOURCES:
            raise self.d.invalid(path, f"the deployment has more than {MAX_RESOURCES} resources")
        return out

    def identify(self, item: Planned) -> None:
        raw, rpath = item.raw, item.path
        rtype = self.value(raw["type"], rpath + ("type",), item)
        name = self.value(raw["name"], rpath + ("name",), item)
        if not isinstance(rtype, str) or not isinstance(name, str) or not name:
            raise self.d.invalid(rpath + ("name",), "the resource type and name must be non-empty strings")
        if item.parent is not None and "/" not in rtype:
            rtype, name = f"{item.parent.type}/{rtype}", f"{item.parent.name}/{name}"
        segments = rtype.split("/")
        names = name.split("/")
        if len(segments) < 2 or len(names) != len(segments) - 1:
            raise self.d.invalid(rpath + ("name",), f"The template resource '{name}' for type '{rtype}' has an incorrect segment length. "
                                 "A nested resource type must have identical number of segments as its resource name.")
        provider_path = segments[0] + "".join(f"/{t}/{n}" for t, n in zip(segments[1:], names))
        scope_raw = raw.get("scope")
        if scope_raw is not None:
            scope = self.value(scope_raw, rpath + ("scope",), item)
            if not isinstance(scope, str) or not scope:
                raise self.d.invalid(rpath + ("scope",), "scope must be a non-empty string")
            base = scope.rstrip("/") if scope.startswith("/") else f"{self.target.id}/providers/{scope.strip('/')}"
        elif rtype.lower() == "microsoft.resources/deployments" and (raw.get("resourceGroup") or raw.get("subscriptionId")):
            sub = self.value(raw.get("subscriptionId") or self.target.subscription_id, rpath + ("subscriptionId",), item)
            rg = self.value(raw["resourceGroup"], rpath + ("resourceGroup",), item) if raw.get("resourceGroup") else None
            base = f"/subscriptions/{sub}" + (f"/resourceGroups/{rg}" if rg else "")
        else:
            base = self.target.id
        item.type, item.name, item.id = rtype, name, f"{base}/providers/{provider_path}"

    def order(self, planned: list[Planned]) -> list[Planned]:
        names: dict[str, list[Planned]] = {}
        for p in planned:
            names.setdefault(p.name.lower(), []).append(p)
            names.setdefault(p.name.split("/")[-1].lower(), []).append(p)
            if p.copy_name:
                names.setdefault(p.copy_name.lower(), []).append(p)
        for p in planned:
            deps = []
            for j, raw in enumerate(p.raw.get("dependsOn") or []):
                ref = self.value(raw, p.path + ("dependsOn", j), p)
                key = str(ref).lower()
                hit = [self.by_id[key]] if key in self.by_id else names.get(key, [])
                if not hit:
                    tail = key.split("/providers/", 1)[-1] if "/providers/" in key else key
                    hit = [q for q in planned if q.id.lower().endswith(tail)] if "/" in tail else []
                if not hit:
                    if key in {s.lower() for s in self.d.skipped}:
                        continue  # a dependency on a resource whose condition is false is ignored, as ARM does
                    raise self.d.invalid(p.path + ("dependsOn", j), f"The resource '{ref}' is not defined in the template.")
                deps += [q.id for q in hit]
            if p.parent is not None:
                deps.append(p.parent.id)
            p.depends = deps
        done: list[Planned] = []
        seen: set[str] = set()
        visiting: set[str] = set()

        def visit(p: Planned) -> None:
            key = p.id.lower()
            if key in seen:
                return
            if key in visiting:
                raise self.d.invalid(p.path + ("dependsOn",), f"Circular dependency detected on resource: '{p.id}'.")
            visiting.add(key)
            for dep in p.depends:
                visit(self.by_id[dep.lower()])
            visiting.discard(key)
            seen.add(key)
            done.append(p)

        for p in planned:
            visit(p)
        return done

    def deploy_one(self, item: Planned, depth: int) -> None:
        self.d.current_item = item
        raw, rpath = item.raw, item.path
        api_version = raw.get("apiVersion")
        if not isinstance(api_version, str) or not re.match(r"^\d{4}-\d{2}-\d{2}(-preview)?$", api_version):
            raise self.d.invalid(rpath + ("apiVersion",), f"the resource '{item.id}' needs an apiVersion like '2023-05-01'")
        body = {k: self.value(v, rpath + (k,), item) for k, v in raw.items()
                if k in ("location", "kind", "sku", "identity", "tags", "properties", "zones", "plan") and not (item.type.lower() == "microsoft.resources/deployments" and k == "properties")}
        t = item.type.lower()
        if t == "microsoft.resources/deployments":
            self.nested(item, depth)
        elif t == "microsoft.authorization/roledefinitions":
            self.role_definition(item, body, api_version)
        elif t == "microsoft.authorization/roleassignments":
            self.role_assignment(item, body, api_version)
        else:
            self.record(item, body, api_version)
        self.d.current_item = None

    def record(self, item: Planned, body: dict, api_version: str) -> None:
        props = _runtime_properties(self.d.state, item.type, item.id, item.name.split("/")[-1], body)
        full = {"id": item.id, "name": item.name.split("/")[-1], "type": item.type, "apiVersion": api_version, **body, "properties": props}
        self.d.deployed[item.id.lower()] = {"properties": props, "full": full}
        recorded = {"id": item.id, "name": item.name, "type": item.type, "apiVersion": api_version, **copy.deepcopy(body)}
        self.d.created.append(recorded)
        if self.d.apply:
            from ..monitor.models import stamp  # (an alert rule a template deploys answers when it changed: A13-09)

            deployed = self.d.state.doc.setdefault("deployed_resources", {})
            entry = {**recorded, "runtime": props}
            stamp(entry, deployed.get(item.id.lower()), self.d.now, self.d.caller)
            deployed[item.id.lower()] = entry

    def role_definition(self, item: Planned, body: dict, api_version: str) -> None:
        props = body.get("properties") or {}
        guid = item.name.split("/")[-1]
        if not _GUID.match(guid):
            raise self.d.invalid(item.path + ("name",), f"The role definition ID '{guid}' is not valid: it must be a GUID.", "InvalidTemplateDeployment")
        perms = props.get("permissions")
        if not isinstance(perms, list) or not perms or not all(isinstance(p, dict) for p in perms):
            raise self.d.invalid(item.path + ("properties", "permissions"), "a role definition needs permissions [{actions, notActions, dataActions, notDataActions}]", "InvalidTemplateDeployment")
        if not props.get("roleName") or not props.get("assignableScopes"):
            raise self.d.invalid(item.path + ("properties",), "a role definition needs roleName and assignableScopes", "InvalidTemplateDeployment")
        rid = f"/subscriptions/{self.target.subscription_id}/providers/Microsoft.Authorization/roleDefinitions/{guid}"
        stored = {"id": rid, "name": guid, "type": "Microsoft.Authorization/roleDefinitions", "apiVersion": api_version,
                  "properties": {**props, "type": "CustomRole", "createdOn": self.d.now, "updatedOn": self.d.now, "createdBy": self.d.caller}}
        self.d.deployed[item.id.lower()] = {"properties": stored["properties"], "full": stored}
        self.d.created.append({k: v for k, v in stored.items()})
        if self.d.apply:
            self.d.state.doc.setdefault("role_definitions", {})[rid.lower()] = stored

    def role_assignment(self, item: Planned, body: dict, api_version: str) -> None:
        from ..authorization.models import assignments, new_assignment

        props = body.get("properties") or {}
        guid = item.name.split("/")[-1]
        scope = item.id.rsplit("/providers/Microsoft.Authorization/roleAssignments/", 1)[0]
        role, principal = props.get("roleDefinitionId"), props.get("principalId")
        problems = []
        if not _GUID.match(guid):
            problems.append(f"The role assignment ID '{guid}' is not valid. The role assignment ID must be a GUID.")
        if not isinstance(role, str) or not _GUID.match(role.rsplit("/", 1)[-1]):
            problems.append(f"The role definition ID '{role}' is not valid.")
        if not isinstance(principal, str) or not _GUID.match(principal):
            problems.append(f"The principal ID '{principal}' is not valid: it must be a GUID.")
        if "/resourcegroups/" in scope.lower() and "/providers/" in scope.lower() and not self.scope_exists(scope):
            problems.append(f"The scope '{scope}' of the role assignment is not a resource the tenant has.")
        if problems:
            raise self.d.invalid(item.path, " ".join(problems), "InvalidTemplateDeployment")
        existing = assignments(self.d.state).get(item.id.lower())
        if existing is not None:
            same = (existing["properties"]["roleDefinitionId"].lower() == role.lower()
                    and existing["properties"]["principalId"].lower() == principal.lower())
            if not same:
                raise self.d.invalid(item.path, "RoleAssignmentUpdateNotPermitted: Tenant ID, application ID, principal ID, and scope are not allowed to be updated.", "InvalidTemplateDeployment")
            self.d.deployed[item.id.lower()] = {"properties": existing["properties"], "full": existing}
            self.d.created.append({"id": existing["id"], "name": guid, "type": item.type, "apiVersion": api_version, "properties": existing["properties"]})
            return  # re-deploying an assignment is a no-op, as on Azure
        stored = new_assignment(scope=scope, name=guid, role_definition_id=role, principal_id=principal,
                                principal_type=props.get("principalType") or "ServicePrincipal", created_on=self.d.now,
                                created_by=self.d.caller, description=props.get("description"))
        self.d.deployed[item.id.lower()] = {"properties": stored["properties"], "full": stored}
        self.d.created.append({"id": stored["id"], "name": guid, "type": item.type, "apiVersion": api_version, "properties": stored["properties"]})
        if self.d.apply:
            assignments(self.d.state)[stored["id"].lower()] = stored

    def scope_exists(self, scope: str) -> bool:
        """A resource scope the tenant has: a resource, one deployed (now or before), or a Key Vault secret."""
        state, key = self.d.state, scope.lower().rstrip("/")
        if state.resource(scope) is not None or key in state.doc.get("deployed_resources", {}) or key in self.d.deployed:
            return True
        m = re.match(r"^(.*/providers/microsoft\.keyvault/vaults/([^/]+))/secrets/([^/]+)$", key)
        if m:
            vault = state.doc.get("vaults", {}).get(m.group(2))
            return bool(vault) and vault["resource_id"].lower() == m.group(1) and m.group(3) in vault["secrets"]
        return False

    def nested(self, item: Planned, depth: int) -> None:
        raw, rpath = item.raw, item.path
        props = raw.get("properties")
        if not isinstance(props, dict):
            raise self.d.invalid(rpath + ("properties",), "a deployment needs properties")
        if "templateLink" in props or "template" not in props:
            raise self.d.invalid(rpath + ("properties",), "only inline nested templates (properties.template) are supported by the sandbox; templateLink is not")
        options = props.get("expressionEvaluationOptions") or {}
        if str(options.get("scope", "outer")).lower() != "inner":
            raise self.d.invalid(rpath + ("properties", "expressionEvaluationOptions"), "nested templates must use expressionEvaluationOptions.scope 'inner' in the sandbox (outer scope is not supported)")
        params = self.value(props.get("parameters") or {}, rpath + ("properties", "parameters"), item)
        sub = self.value(raw.get("subscriptionId") or self.target.subscription_id, rpath + ("subscriptionId",), item)
        if str(sub).lower() != self.target.subscription_id.lower():
            raise self.d.invalid(rpath + ("subscriptionId",), f"the sandbox tenant has only subscription '{self.target.subscription_id}'", "InvalidTemplateDeployment")
        if raw.get("resourceGroup"):
            rg = self.value(raw["resourceGroup"], rpath + ("resourceGroup",), item)
            if not self.d.group_exists(rg):
                raise TemplateError("ResourceGroupNotFound", f"Resource group '{rg}' could not be found.", 404)
            target = Target(self.target.subscription_id, rg, self.target.location)
        elif raw.get("subscriptionId"):
            location = self.value(raw.get("location"), rpath + ("location",), item)
            if not location:
                raise self.d.invalid(rpath + ("location",), "a subscription-scope nested deployment needs a location")
            target = Target(self.target.subscription_id, None, location)
        else:
            target = Target(self.target.subscription_id, self.target.resource_group, self.target.location)
        name = item.name
        saved = self.d.current_item
        outcome = self.d.deploy(props["template"], params, target, name, rpath + ("properties", "template"), depth + 1)
        self.d.current_item = saved
        view = {"provisioningState": "Succeeded", "outputs": outcome.outputs, "mode": props.get("mode", "Incremental")}
        self.d.deployed[item.id.lower()] = {"properties": view, "full": {"id": item.id, "name": name, "properties": view}}
        record = deployment_record(item.id, name, now=self.d.now, template=props["template"], parameters=params,
                                   outputs=outcome.outputs, output_resources=[r["id"] for r in outcome.resources],
                                   mode=str(props.get("mode", "Incremental")))
        self.d.created.append({"id": item.id, "name": name, "type": item.type, "apiVersion": raw.get("apiVersion"),
                               "properties": {"mode": props.get("mode", "Incremental"), "resources": outcome.resources},
                               "record": record})
        if self.d.apply:  # a nested deployment is a deployment of its own at its scope, kept as the top-level one is
            self.d.state.doc.setdefault("deployments", {})[item.id.lower()] = copy.deepcopy(record)

