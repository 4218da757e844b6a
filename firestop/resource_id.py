"""Azure Resource Manager resource ids: canonical form, comparison, parsing.

Pure functions, no I/O.

Azure facts (MicrosoftDocs/azure-monitor-docs ``alerts-common-schema.md`` and
``alerts-payload-samples.md``, summarised in ``shared/corpus/alerts/NOTES.md``):
``alertTargetIDs`` are usually lower-cased ARM ids
(``/subscriptions/…/resourcegroups/…/providers/microsoft.compute/virtualmachines/…``),
test payloads carry mixed case, resource logs carry UPPER case, and Service
Health targets the bare subscription (``/subscriptions/<id>``). ARM treats ids
case-insensitively, so ids keep the case they were given and are *compared*
through :func:`resource_id_key`.

Grammar accepted by :func:`parse`::

    /subscriptions/{sub}
    /subscriptions/{sub}/resourceGroups/{rg}
    /subscriptions/{sub}[/resourceGroups/{rg}]/providers/{Namespace}/{type}/{name}[/{childType}/{childName}]…
        [/providers/{ExtNamespace}/{extType}/{extName}…]        (extension resources)

Field extraction uses ``azure.mgmt.core.tools.parse_resource_id``; the
structural validation (which that helper does not do: it silently drops a
trailing type without a name) is done here.
"""

from __future__ import annotations

from azure.mgmt.core.tools import parse_resource_id
from msgspec import Struct

from firestop.lazy_re import LazyPattern

__all__ = [
    "BUILTIN_DEFINITION_PREFIX",
    "builtin_definition",
    "ResourceId",
    "canonical_resource_id",
    "parse",
    "resource_id_key",
    "same_resource",
]

_EXAMPLE = "/subscriptions/<id>/resourceGroups/<rg>/providers/Microsoft.CognitiveServices/accounts/<name>"


def unpaired_surrogate(text: str) -> bool:
    """True when ``text`` holds a lone UTF-16 surrogate (U+D800..U+DFFF: what a JSON escape such as ``"\\ud800"``
    without its pair decodes to), which no UTF-8 encoding carries — so no hash, store name or ARM request of an
    identifier holding one can be made (RT9-01). ASCII text answers at once (no encode)."""
    if text.isascii():
        return False
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def canonical_resource_id(s: str) -> str:
    """Return ``s`` trimmed, with exactly one leading slash and no trailing slash.

    Case is kept as given (compare with :func:`resource_id_key`). The structure
    is not validated here (use :func:`parse` for that), so placeholder ids from
    documentation samples such as ``/subscriptions/<subscription ID>`` survive.

    Raises:
        ValueError: ``s`` is not a string, is empty / only slashes, or holds an unpaired UTF-16 surrogate
            (:func:`unpaired_surrogate`: ARM ids are ASCII, and such an id cannot be hashed or sent).
    """
    if not isinstance(s, str):
        raise ValueError(
            f"resource id must be a string, got {type(s).__name__}; "
            f"pass an ARM id such as {_EXAMPLE}"
        )
    if unpaired_surrogate(s):
        raise ValueError(f"resource id holds an unpaired UTF-16 surrogate (a lone \\ud800-\\udfff escape); pass an ARM id such as {_EXAMPLE}")
    trimmed = s.strip().strip("/").strip()
    while trimmed != (again := trimmed.strip("/").strip()):  # "./ /": slashes and spaces may alternate
        trimmed = again
    if not trimmed:
        raise ValueError(f"resource id is empty; pass an ARM id such as {_EXAMPLE}")
    return "/" + trimmed


def resource_id_key(s: str) -> str:
    """Case-insensitive comparison key: the canonical id, lower-cased.

    ARM resource names are ASCII, for which this is exact; no Unicode
    case-folding beyond ``str.lower`` is attempted.

    Raises:
        ValueError: as :func:`canonical_resource_id`.
    """
    return canonical_resource_id(s).lower()


def same_resource(a: str, b: str) -> bool:
    """True if ``a`` and ``b`` name the same ARM resource (case-insensitive).

    Raises:
        ValueError: either id is empty or not a string.
    """
    return resource_id_key(a) == resource_id_key(b)


class ResourceId(Struct, frozen=True):
    """A parsed ARM resource id.

    Attributes:
        id: the canonical id (case as given).
        subscription: subscription id segment, as given.
        resource_group: resource group name, or None for subscription-scoped ids.
        namespace: provider namespace of the leaf resource (e.g.
            ``Microsoft.CognitiveServices``; for extension resources the
            extension's namespace), or None for subscription / resource group ids.
        type: the leaf's type chain under ``namespace`` (``accounts``,
            ``accounts/deployments``), or None for subscription / resource group ids.
        name: the leaf resource's name (the subscription id or resource group
            name for those scopes).
    """

    id: str
    subscription: str
    resource_group: str | None
    namespace: str | None
    type: str | None
    name: str

    @property
    def type_key(self) -> str:
        """Lower-case ARM type, e.g. ``microsoft.cognitiveservices/accounts``.

        Subscriptions and resource groups report the ARM types
        ``microsoft.resources/subscriptions`` and
        ``microsoft.resources/resourcegroups``.
        """
        if self.namespace is None or self.type is None:
            if self.resource_group is None:
                return "microsoft.resources/subscriptions"
            return "microsoft.resources/resourcegroups"
        return f"{self.namespace}/{self.type}".lower()

    @property
    def key(self) -> str:
        """Case-insensitive comparison key (see :func:`resource_id_key`)."""
        return self.id.lower()

    def __str__(self) -> str:
        return self.id


def _malformed(s: str, what: str) -> ValueError:
    shown = s if len(s) <= 200 else s[:200] + "…"
    return ValueError(
        f"malformed resource id {shown!r}: {what}; expected the form {_EXAMPLE}"
    )


def parse(s: str) -> ResourceId:
    """Parse an ARM resource id (see the module docstring for the grammar).

    Returns:
        ResourceId, frozen; case of every segment kept as given.

    Raises:
        ValueError: the id is empty, has an empty segment (``//``), does not
            start with ``/subscriptions/<id>``, or has a provider type without a
            name. The message names the expected form.
    """
    cid = canonical_resource_id(s)
    segs = cid[1:].split("/")
    if any(not seg.strip() for seg in segs):
        raise _malformed(cid, "it has an empty segment (remove the doubled '/')")
    n = len(segs)
    if segs[0].lower() != "subscriptions" or n < 2:
        raise _malformed(cid, "it must start with /subscriptions/<subscription-id>")
    i = 2
    if i < n and segs[i].lower() == "resourcegroups":
        if i + 1 >= n:
            raise _malformed(cid, "'resourceGroups' is not followed by a name")
        i += 2
    if i < n and segs[i].lower() != "providers":
        raise _malformed(
            cid, f"expected 'providers' or 'resourceGroups' but found {segs[i]!r}"
        )
    # namespace, then one or more type/name pairs; 'providers' may start an
    # extension resource.
    leaf_namespace: str | None = None
    leaf_types: list[str] = []
    while i < n:
        if segs[i].lower() == "providers":
            if i + 1 >= n:
                raise _malformed(cid, "'providers' is not followed by a namespace")
            leaf_namespace = segs[i + 1]
            leaf_types = []
            i += 2
            if i >= n:
                raise _malformed(
                    cid, f"namespace {leaf_namespace!r} is not followed by a resource type"
                )
            continue
        if i + 1 >= n:
            raise _malformed(cid, f"resource type {segs[i]!r} is not followed by a name")
        leaf_types.append(segs[i])
        i += 2

    fields = parse_resource_id(cid)
    subscription = fields["subscription"]
    resource_group = fields.get("resource_group")
    if leaf_namespace is None:
        name = resource_group if resource_group is not None else subscription
        return ResourceId(cid, subscription, resource_group, None, None, name)
    return ResourceId(
        id=cid,
        subscription=subscription,
        resource_group=resource_group,
        namespace=leaf_namespace,
        type="/".join(leaf_types),
        name=fields["resource_name"],
    )


def type_key(resource_id: str) -> str:
    """Lower-case ARM type of ``resource_id`` (``microsoft.cognitiveservices/accounts``), or ``""`` when it
    does not parse as a provider resource. Pure; never raises."""
    try:
        return parse(resource_id).type_key
    except ValueError:
        return ""


#: Resource group names (Microsoft Learn, "Naming rules and restrictions for Azure resources",
#: Microsoft.Resources/resourcegroups): 1-90 characters of "underscores, hyphens, periods, parentheses, and
#: letters or digits" (Unicode letters and digits count: the REST spec's pattern is ``^[-\w\._\(\)]+$``);
#: "can't end with period" — so ``.`` and ``..`` are never names.
MAX_RESOURCE_GROUP_NAME = 90
_RESOURCE_GROUP_NAME = LazyPattern(r"[-\w.()]{1,90}", 0, globals())


def resource_group_name_problem(name: object) -> str | None:
    """Why ``name`` is not a resource group name (the rules above), or None when it is one."""
    if not isinstance(name, str) or not name:
        return "a resource group name is 1-90 characters"
    if len(name) > MAX_RESOURCE_GROUP_NAME:
        return f"{name[:40]!r}… is {len(name)} characters; a resource group name has at most 90"
    if not _RESOURCE_GROUP_NAME.fullmatch(name):
        return f"{name!r} is not a resource group name (letters, digits, '_', '-', '.', '(' and ')' only)"
    if name.endswith("."):
        return f"{name!r} is not a resource group name (it may not end with a period)"
    return None


#: Where built-in policy definitions live: the tenant root, ``/providers/Microsoft.Authorization/policyDefinitions/<name>``
#: (Azure Policy definition structure: a custom definition's id is under the subscription or management group that
#: holds it). RT20-06: a custom definition *named* like a built-in (its id
#: ``/subscriptions/<sub>/providers/Microsoft.Authorization/policyDefinitions/0725b4dd-…``, its rule anyone's) routed
#: and was confirmed as the built-in; only the built-in's own id routes now.
BUILTIN_DEFINITION_PREFIX = "/providers/microsoft.authorization/policydefinitions/"


def builtin_definition(definition_id: object) -> str | None:
    """The name (lower case) of ``definition_id`` when it is a built-in definition's own id (:data:`BUILTIN_DEFINITION_PREFIX`
    and one name segment, any case, no trailing slash games), else None — a custom definition of the same name included."""
    value = str(definition_id or "").strip().lower()
    if not value.startswith(BUILTIN_DEFINITION_PREFIX):
        return None
    name = value[len(BUILTIN_DEFINITION_PREFIX):]
    return name if name and "/" not in name else None
