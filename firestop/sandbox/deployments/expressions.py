"""ARM template expressions: parse and evaluate the subset Firestop's templates use.

Language (https://learn.microsoft.com/azure/azure-resource-manager/templates/template-expressions):

* A JSON string whose first character is ``[`` and last is ``]`` is an expression; one that starts
  with ``[[`` is the literal string without its first ``[`` ("escape"). Anything else is a literal.
* An expression is a function call ``name(arg, ...)`` (names case-insensitive), optionally followed by
  property access ``.name`` and index access ``[expr]``, chained (``reference(x).properties.a[0]``).
* Arguments are expressions, string literals in single quotes (``''`` is an escaped quote) and
  integers (``-1``). ``true``/``false``/``null`` are written ``true()``/``false()``/``null()`` in
  ARM's function reference; the bare words are accepted too, as the engine does.

Functions (https://learn.microsoft.com/azure/azure-resource-manager/templates/template-functions):
``parameters variables resourceId subscriptionResourceId extensionResourceId subscription
resourceGroup environment deployment concat format guid uniqueString toLower toUpper string int
bool length empty not and or equals if coalesce createArray createObject contains take skip union split
join first last copyIndex reference null true false``. Any other function is
``ExpressionError`` "The template function 'x' is not valid", as ARM words it.

``guid(a, b, …)`` is RFC 4122 UUID v5 of ``"a-b-…"`` under the namespace
``11fb06fb-712d-4ddd-98c7-e71bbd588830`` — what ARM computes (Bicep's string-functions page:
"arguments concatenated with a hyphen", SHA-1 name-based). ``uniqueString`` is deterministic,
13 characters of ``[a-z2-7]`` like ARM's, but **not** ARM's hash (names differ from Azure's).

Errors: :class:`ExpressionError` (``InvalidTemplate`` in the deployment's answer) carries the
expression text and the character offset where parsing or evaluation failed — also for a value (a
call's result, or its arguments together) larger than :data:`MAX_VALUE`.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import uuid
from dataclasses import dataclass
from typing import Any, Callable, Optional

#: ``guid()`` namespace (see the module docstring).
GUID_NAMESPACE = uuid.UUID("11fb06fb-712d-4ddd-98c7-e71bbd588830")
#: Longest expression accepted (ARM limits a template expression to 24,576 characters).
MAX_EXPRESSION = 24_576
#: Deepest nesting of calls, property accesses and indexes the sandbox parses (a bound, not ARM's documented
#: limit: evaluation recurses once per level, and a crafted expression must get InvalidTemplate, never a crash).
MAX_NESTING = 200
#: Largest value one expression may produce or take as its arguments together, in characters (a string's length;
#: 1 per array element, object property and scalar besides). ARM limits each resource definition to 1 MB "after it
#: has been expanded with iterative resource definitions, and values for variables and parameters" (Template
#: limits, learn.microsoft.com/azure/azure-resource-manager/templates/best-practices#template-limits); a crafted
#: template doubling a value through variables would otherwise grow without bound (2**n).
MAX_VALUE = 1_048_576


def value_size(value: Any, limit: int = MAX_VALUE) -> int:
    """The size of ``value`` as :data:`MAX_VALUE` counts it; counting stops once it passes ``limit`` (a bound, not the
    exact size then)."""
    total, stack = 0, [value]
    while stack and total <= limit:
        v = stack.pop()
        if isinstance(v, str):
            total += len(v)
        elif isinstance(v, list):
            total += 1
            stack.extend(v)
        elif isinstance(v, dict):
            total += 1
            for k, item in v.items():
                total += len(k) if isinstance(k, str) else 1
                stack.append(item)
        else:
            total += 1
    return total


def _too_large(fn: str, text: str, at: int) -> "ExpressionError":
    return ExpressionError(f"the value of {fn}() would be larger than {MAX_VALUE:,} characters "
                           "(ARM limits a resource definition to 1 MB after expansion)", text, at)


class ExpressionError(ValueError):
    """An expression that does not parse or evaluate. ``expression``: its text; ``offset``: 0-based."""

    def __init__(self, message: str, expression: str = "", offset: int = 0) -> None:
        super().__init__(message)
        self.message = message
        self.expression = expression
        self.offset = offset


def is_expression(value: Any) -> bool:
    """True for ``"[...]"`` strings that are expressions (not ``"[[..."`` escapes)."""
    return isinstance(value, str) and len(value) >= 2 and value[0] == "[" and value[-1] == "]" and not value.startswith("[[")


def literal(value: str) -> str:
    """A non-expression string's value (``[[x]`` -> ``[x]``)."""
    return value[1:] if value.startswith("[[") else value


# ----------------------------------------------------------------------------- syntax tree
@dataclass(frozen=True)
class Str:
    value: str
    at: int


@dataclass(frozen=True)
class Int:
    value: int
    at: int


@dataclass(frozen=True)
class Call:
    name: str
    args: tuple
    at: int


@dataclass(frozen=True)
class Member:
    target: Any
    name: str
    at: int


@dataclass(frozen=True)
class Index:
    target: Any
    index: Any
    at: int


_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)?")
_INT = re.compile(r"-?[0-9]+")


class _Parser:
    def __init__(self, text: str, base: int) -> None:
        self.text, self.pos, self.base = text, 0, base
        self.depth = 0

    def deeper(self) -> None:
        self.depth += 1
        if self.depth > MAX_NESTING:
            raise self.fail(f"the expression nests calls, properties or indexes more than {MAX_NESTING} deep")

    def fail(self, message: str) -> ExpressionError:
        return ExpressionError(message, self.text, self.base + self.pos)

    def ws(self) -> None:
        while self.pos < len(self.text) and self.text[self.pos] in " \t\r\n":
            self.pos += 1

    def peek(self) -> str:
        self.ws()
        return self.text[self.pos] if self.pos < len(self.text) else ""

    def expect(self, ch: str) -> None:
        if self.peek() != ch:
            found = repr(self.text[self.pos]) if self.pos < len(self.text) else "the end"
            raise self.fail(f"expected '{ch}' at position {self.base + self.pos}, found {found}")
        self.pos += 1

    def expression(self):
        entered = self.depth
        node = self.primary()
        while True:
            ch = self.peek()
            if ch in (".", "["):
                self.deeper()  # each access wraps the node once more: evaluation recurses through it
            if ch == ".":
                self.pos += 1
                self.ws()
                match = re.compile(r"[A-Za-z_$][A-Za-z0-9_$-]*").match(self.text, self.pos)
                if not match:
                    raise self.fail(f"expected a property name after '.' at position {self.base + self.pos}")
                node = Member(node, match.group(0), self.base + self.pos)
                self.pos = match.end()
            elif ch == "[":
                at = self.pos
                self.pos += 1
                index = self.argument()
                self.expect("]")
                node = Index(node, index, self.base + at)
            else:
                self.depth = entered
                return node

    def primary(self):
        self.deeper()
        self.ws()
        at = self.pos
        match = _IDENT.match(self.text, self.pos)
        if not match:
            raise self.fail(f"expected a function name at position {self.base + self.pos}")
        self.pos = match.end()
        name = match.group(0)
        if self.peek() != "(":
            raise self.fail(f"expected '(' after '{name}' at position {self.base + self.pos}: template functions are called as {name}(...)")
        self.pos += 1
        args = []
        if self.peek() == ")":
            self.pos += 1
        else:
            while True:
                args.append(self.argument())
                ch = self.peek()
                if ch == ",":
                    self.pos += 1
                    continue
                self.expect(")")
                break
        return Call(name, tuple(args), self.base + at)

    def argument(self):
        ch = self.peek()
        at = self.pos
        if ch == "'":
            self.pos += 1
            out = []
            while True:
                if self.pos >= len(self.text):
                    raise ExpressionError(f"unterminated string literal starting at position {self.base + at}", self.text, self.base + at)
                c = self.text[self.pos]
                if c == "'":
                    if self.text[self.pos + 1 : self.pos + 2] == "'":
                        out.append("'")
                        self.pos += 2
                        continue
                    self.pos += 1
                    return Str("".join(out), self.base + at)
                out.append(c)
                self.pos += 1
        match = _INT.match(self.text, self.pos)
        if match:
            self.pos = match.end()
            return Int(int(match.group(0)), self.base + at)
        for word, value in (("true", True), ("false", False), ("null", None)):
            if re.match(word + r"(?![A-Za-z0-9_(])", self.text[self.pos :], re.IGNORECASE):
                self.pos += len(word)
                return Call(word, (), self.base + at)
        return self.expression()


def parse(text: str):
    """The syntax tree of an expression string ``"[...]"``. ExpressionError when it does not parse."""
    if len(text) > MAX_EXPRESSION:
        raise ExpressionError(f"the expression is longer than {MAX_EXPRESSION} characters", text[:80], 0)
    inner = text[1:-1]
    parser = _Parser(inner, 1)
    if not parser.peek():
        raise ExpressionError("the expression is empty", text, 1)
    node = parser.expression()
    if parser.peek():
        raise ExpressionError(f"unexpected '{parser.text[parser.pos]}' at position {1 + parser.pos}", text, 1 + parser.pos)
    return node


# ----------------------------------------------------------------------------- evaluation
class Scope:
    """What functions can see: callbacks the template engine supplies.

    ``parameter(name)``, ``variable(name)``, ``reference(id, api_version, full)``,
    ``copy_index(loop_name_or_None)`` raise ExpressionError themselves when the name is unknown.
    ``subscription_id``, ``tenant_id``, ``resource_group`` (name), ``location``, ``deployment_name``.
    """

    def __init__(self, *, subscription_id: str, tenant_id: str, resource_group: Optional[str], location: str,
                 deployment_name: str, parameter: Callable[[str], Any], variable: Callable[[str], Any],
                 reference: Callable[[str, Optional[str], bool], Any], copy_index: Callable[[Optional[str]], int]) -> None:
        self.subscription_id = subscription_id
        self.tenant_id = tenant_id
        self.resource_group = resource_group
        self.location = location
        self.deployment_name = deployment_name
        self.parameter = parameter
        self.variable = variable
        self.reference = reference
        self.copy_index = copy_index


def evaluate_string(text: str, scope: Scope) -> Any:
    """The value of a JSON string from a template: an expression's result, or the literal."""
    if not is_expression(text):
        return literal(text)
    node = parse(text)
    try:
        return _eval(node, scope, text)
    except ExpressionError as exc:
        if not exc.expression:
            exc.expression = text
        raise


def _eval(node, scope: Scope, text: str) -> Any:
    if isinstance(node, (Str, Int)):
        return node.value
    if isinstance(node, Member):
        target = _eval(node.target, scope, text)
        if not isinstance(target, dict):
            raise ExpressionError(f"the language expression property '{node.name}' can't be evaluated: the value is not an object", text, node.at)
        for key, value in target.items():
            if key.lower() == node.name.lower():
                return value
        raise ExpressionError(f"the language expression property '{node.name}' doesn't exist, available properties are '{', '.join(target)}'", text, node.at)
    if isinstance(node, Index):
        target = _eval(node.target, scope, text)
        index = _eval(node.index, scope, text)
        if isinstance(target, list) and isinstance(index, int) and not isinstance(index, bool):
            if not 0 <= index < len(target):
                raise ExpressionError(f"the index {index} is out of range for an array of length {len(target)}", text, node.at)
            return target[index]
        if isinstance(target, dict) and isinstance(index, str):
            return _member(target, index, text, node.at)
        raise ExpressionError(f"cannot index a {_type(target)} with a {_type(index)}", text, node.at)
    assert isinstance(node, Call)
    name = node.name.lower()
    if "." in name:
        raise ExpressionError(f"The template function '{node.name}' is not valid: user-defined functions are not supported by the sandbox", text, node.at)
    fn = FUNCTIONS.get(name)
    if fn is None:
        raise ExpressionError(f"The template function '{node.name}' is not valid. Please see https://aka.ms/arm-functions for usage details.", text, node.at)
    if name == "if":  # lazy: only the branch taken is evaluated, as ARM does
        if len(node.args) != 3:
            raise ExpressionError("The template language function 'if' expects exactly three parameters.", text, node.at)
        cond = _eval(node.args[0], scope, text)
        if not isinstance(cond, bool):
            raise ExpressionError("The template language function 'if' expects its first parameter to be a boolean.", text, node.at)
        return _eval(node.args[1] if cond else node.args[2], scope, text)
    args, size = [], 0
    for a in node.args:  # together at most MAX_VALUE: a thousand copies of a large variable are refused at the second
        args.append(_eval(a, scope, text))
        size += value_size(args[-1], MAX_VALUE - size)
        if size > MAX_VALUE:
            raise _too_large(node.name, text, node.at)
    try:
        result = fn(scope, *args)
    except ExpressionError as exc:
        exc.expression, exc.offset = exc.expression or text, exc.offset or node.at
        raise
    except TypeError:
        raise ExpressionError(f"The template language function '{node.name}' got {len(args)} parameter(s) of the wrong number or type "
                              f"({', '.join(_type(a) for a in args) or 'none'}).", text, node.at) from None
    if value_size(result) > MAX_VALUE:
        raise _too_large(node.name, text, node.at)
    return result


def _member(target: dict, key: str, text: str, at: int) -> Any:
    for k, v in target.items():
        if k.lower() == key.lower():
            return v
    raise ExpressionError(f"the language expression property '{key}' doesn't exist", text, at)


def _type(value: Any) -> str:
    if isinstance(value, bool):
        return "Boolean"
    if isinstance(value, int):
        return "Integer"
    if isinstance(value, str):
        return "String"
    if isinstance(value, list):
        return "Array"
    if isinstance(value, dict):
        return "Object"
    return "Null"


def _strings(fn: str, *values: Any) -> list[str]:
    out = []
    for v in values:
        if isinstance(v, bool) or not isinstance(v, (str, int)):
            raise ExpressionError(f"The template language function '{fn}' expects its parameters to be strings or integers, got {_type(v)}.")
        out.append(str(v))
    return out


# --- functions (each: (scope, *args) -> value) --------------------------------------------
def _resource_id(scope: Scope, *args: Any) -> str:
    """resourceId([subscriptionId], [resourceGroupName], resourceType, resourceName1, ...)."""
    args = list(_strings("resourceId", *args))
    type_at = next((i for i, a in enumerate(args) if "/" in a and "." in a.split("/")[0]), None)
    if type_at is None or type_at > 2:
        raise ExpressionError("The template language function 'resourceId' expects a resource type such as 'Microsoft.Web/sites'.")
    before, rtype, names = args[:type_at], args[type_at], args[type_at + 1 :]
    segments = rtype.split("/")[1:]
    if len(names) != len(segments):
        raise ExpressionError(f"The template language function 'resourceId' expects {len(segments)} resource name(s) for type '{rtype}', got {len(names)}.")
    sub, rg = scope.subscription_id, scope.resource_group
    if len(before) == 2:
        sub, rg = before
    elif len(before) == 1:
        rg = before[0]
    path = rtype.split("/")[0] + "".join(f"/{t}/{n}" for t, n in zip(segments, names))
    if rg is None:
        return f"/subscriptions/{sub}/providers/{path}"
    return f"/subscriptions/{sub}/resourceGroups/{rg}/providers/{path}"


def _subscription_resource_id(scope: Scope, *args: Any) -> str:
    args = list(_strings("subscriptionResourceId", *args))
    sub = scope.subscription_id
    if args and "/" not in args[0]:
        sub, args = args[0], args[1:]
    rtype, names = args[0], args[1:]
    segments = rtype.split("/")[1:]
    if len(names) != len(segments):
        raise ExpressionError(f"The template language function 'subscriptionResourceId' expects {len(segments)} resource name(s) for type '{rtype}'.")
    return f"/subscriptions/{sub}/providers/{rtype.split('/')[0]}" + "".join(f"/{t}/{n}" for t, n in zip(segments, names))


def _extension_resource_id(scope: Scope, base: str, rtype: str, *names: Any) -> str:
    segments = rtype.split("/")[1:]
    if len(names) != len(segments):
        raise ExpressionError(f"The template language function 'extensionResourceId' expects {len(segments)} resource name(s) for type '{rtype}'.")
    return f"{base}/providers/{rtype.split('/')[0]}" + "".join(f"/{t}/{n}" for t, n in zip(segments, _strings("extensionResourceId", *names)))


def _subscription(scope: Scope) -> dict:
    return {"id": f"/subscriptions/{scope.subscription_id}", "subscriptionId": scope.subscription_id,
            "tenantId": scope.tenant_id, "displayName": "Firestop sandbox subscription"}


def _resource_group(scope: Scope) -> dict:
    if scope.resource_group is None:
        raise ExpressionError("The template function 'resourceGroup' is not expected at this location: the deployment is not at a resource group.")
    return {"id": f"/subscriptions/{scope.subscription_id}/resourceGroups/{scope.resource_group}", "name": scope.resource_group,
            "type": "Microsoft.Resources/resourceGroups", "location": scope.location, "properties": {"provisioningState": "Succeeded"}}


def _environment(scope: Scope) -> dict:
    """AzureCloud's endpoints (environment() in the template function reference)."""
    return {"name": "AzureCloud", "gallery": "https://gallery.azure.com/", "graph": "https://graph.windows.net/",
            "portal": "https://portal.azure.com", "resourceManager": "https://management.azure.com/",
            "authentication": {"loginEndpoint": "https://login.microsoftonline.com/", "audiences": ["https://management.core.windows.net/", "https://management.azure.com/"]},
            "suffixes": {"storage": "core.windows.net", "keyvaultDns": ".vault.azure.net", "sqlServerHostname": ".database.windows.net"}}


def _concat(scope: Scope, *args: Any) -> Any:
    if args and all(isinstance(a, list) for a in args):
        return [x for a in args for x in a]
    return "".join(_strings("concat", *args))


def _format(scope: Scope, fmt: str, *args: Any) -> str:
    if not isinstance(fmt, str):
        raise ExpressionError("The template language function 'format' expects a format string first.")

    def sub(match: re.Match) -> str:
        i = int(match.group(1))
        if i >= len(args):
            raise ExpressionError(f"The template language function 'format' has no argument {{{i}}} (got {len(args)}).")
        value = args[i]
        return json.dumps(value) if isinstance(value, bool) else str(value) if not isinstance(value, (dict, list)) else json.dumps(value)

    return re.sub(r"\{(\d+)(?::[^}]*)?\}", sub, fmt).replace("{{", "{").replace("}}", "}")


def _guid(scope: Scope, *args: Any) -> str:
    if not args:
        raise ExpressionError("The template language function 'guid' expects at least one parameter.")
    return str(uuid.uuid5(GUID_NAMESPACE, "-".join(_strings("guid", *args))))


def _unique_string(scope: Scope, *args: Any) -> str:
    if not args:
        raise ExpressionError("The template language function 'uniqueString' expects at least one parameter.")
    digest = hashlib.sha256("-".join(_strings("uniqueString", *args)).encode()).digest()
    return base64.b32encode(digest).decode().lower()[:13]


def _length(scope: Scope, value: Any) -> int:
    if isinstance(value, (str, list, dict)):
        return len(value)
    raise ExpressionError(f"The template language function 'length' expects an array, object or string, got {_type(value)}.")


def _empty(scope: Scope, value: Any) -> bool:
    return value is None or (isinstance(value, (str, list, dict)) and len(value) == 0)


def _bool_args(fn: str, *values: Any) -> list[bool]:
    if not all(isinstance(v, bool) for v in values):
        raise ExpressionError(f"The template language function '{fn}' expects boolean parameters.")
    return list(values)


def _equals(scope: Scope, a: Any, b: Any) -> bool:
    return a == b and type(a) is type(b)


def _string(scope: Scope, value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "True" if value else "False"
    if isinstance(value, int):
        return str(value)
    return json.dumps(value, separators=(",", ":"))


def _int(scope: Scope, value: Any) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        raise ExpressionError(f"The template language function 'int' cannot convert {value!r} to an integer.") from None


def _create_object(scope: Scope, *args: Any) -> dict:
    if len(args) % 2:
        raise ExpressionError("The template language function 'createObject' expects an even number of parameters.")
    return {str(args[i]): args[i + 1] for i in range(0, len(args), 2)}


def _contains(scope: Scope, container: Any, item: Any) -> bool:
    if isinstance(container, str):
        return str(item) in container  # case-sensitive for strings (template function reference)
    if isinstance(container, dict):
        return any(k.lower() == str(item).lower() for k in container)
    if isinstance(container, list):
        return item in container
    raise ExpressionError("The template language function 'contains' expects an array, object or string first.")


def _take(scope: Scope, value: Any, n: int) -> Any:
    return value[: max(n, 0)]


def _skip(scope: Scope, value: Any, n: int) -> Any:
    return value[max(n, 0) :]


def _split(scope: Scope, text: Any, delimiter: Any) -> list[str]:
    """split(inputString, delimiter): ``delimiter`` a string or an array of strings (template functions, string)."""
    if not isinstance(text, str):
        raise ExpressionError(f"The template language function 'split' expects its first parameter to be a string, got {_type(text)}.")
    delimiters = delimiter if isinstance(delimiter, list) else [delimiter]
    if not delimiters or not all(isinstance(d, str) and d for d in delimiters):
        raise ExpressionError("The template language function 'split' expects a non-empty delimiter string or array of strings.")
    return re.split("|".join(re.escape(d) for d in delimiters), text)


def _join(scope: Scope, values: Any, delimiter: Any) -> str:
    """join(inputArray, delimiter): the array's strings (and integers) joined by the string ``delimiter`` (template
    functions, array: "Joins a string array into a single string, separated using a delimiter"); an element of any
    other type is ExpressionError."""
    if not isinstance(values, list) or not isinstance(delimiter, str):
        raise ExpressionError("The template language function 'join' expects an array and a delimiter string.")
    return delimiter.join(_strings("join", *values))


def _union(scope: Scope, *values: Any) -> Any:
    if all(isinstance(v, dict) for v in values):
        out: dict = {}
        for v in values:
            out.update(v)
        return out
    if all(isinstance(v, list) for v in values):
        out_list: list = []
        for v in values:
            out_list += [x for x in v if x not in out_list]
        return out_list
    raise ExpressionError("The template language function 'union' expects all arrays or all objects.")


def _coalesce(scope: Scope, *values: Any) -> Any:
    return next((v for v in values if v is not None), None)


def _reference(scope: Scope, target: str, api_version: Optional[str] = None, full: Optional[str] = None) -> Any:
    if not isinstance(target, str):
        raise ExpressionError("The template language function 'reference' expects a resource ID or name.")
    return scope.reference(target, api_version, isinstance(full, str) and full.lower() == "full")


def _copy_index(scope: Scope, *args: Any) -> int:
    loop, offset = None, 0
    for a in args:
        if isinstance(a, str):
            loop = a
        elif isinstance(a, int) and not isinstance(a, bool):
            offset = a
    return scope.copy_index(loop) + offset


def _deployment(scope: Scope) -> dict:
    return {"name": scope.deployment_name, "properties": {"templateLink": None}}


FUNCTIONS: dict[str, Callable[..., Any]] = {
    "parameters": lambda s, name: s.parameter(name),
    "variables": lambda s, name: s.variable(name),
    "resourceid": _resource_id,
    "subscriptionresourceid": _subscription_resource_id,
    "extensionresourceid": _extension_resource_id,
    "subscription": _subscription,
    "resourcegroup": _resource_group,
    "environment": _environment,
    "deployment": _deployment,
    "concat": _concat,
    "format": _format,
    "guid": _guid,
    "uniquestring": _unique_string,
    "tolower": lambda s, v: _strings("toLower", v)[0].lower(),
    "toupper": lambda s, v: _strings("toUpper", v)[0].upper(),
    "string": _string,
    "int": _int,
    "bool": lambda s, v: v if isinstance(v, bool) else str(v).lower() == "true",
    "length": _length,
    "empty": _empty,
    "not": lambda s, v: not _bool_args("not", v)[0],
    "and": lambda s, *v: all(_bool_args("and", *v)),
    "or": lambda s, *v: any(_bool_args("or", *v)),
    "equals": _equals,
    "if": lambda s, *v: None,  # evaluated lazily in _eval
    "coalesce": _coalesce,
    "createarray": lambda s, *v: list(v),
    "createobject": _create_object,
    "contains": _contains,
    "take": _take,
    "skip": _skip,
    "union": _union,
    "split": _split,
    "join": _join,
    "first": lambda s, v: v[0] if v else None,
    "last": lambda s, v: v[-1] if v else None,
    "copyindex": _copy_index,
    "reference": _reference,
    "null": lambda s: None,
    "true": lambda s: True,
    "false": lambda s: False,
}
