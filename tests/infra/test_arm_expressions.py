"""The ARM expression parser and evaluator (firestop/sandbox/deployments/expressions.py)."""

from __future__ import annotations

import uuid

import pytest

from firestop.sandbox.deployments.expressions import ExpressionError, Scope, evaluate_string, is_expression, parse

SUB = "11111111-2222-3333-4444-555555555555"


def scope(params=None, variables=None, copy_index=None):
    params = params or {}
    variables = variables or {}

    def parameter(name):
        if name not in params:
            raise ExpressionError(f"The template parameter '{name}' is not found.")
        return params[name]

    def variable(name):
        if name not in variables:
            raise ExpressionError(f"The template variable '{name}' is not found.")
        return variables[name]

    def index(loop):
        if copy_index is None:
            raise ExpressionError("The template function 'copyIndex' is not expected at this location.")
        return copy_index

    return Scope(subscription_id=SUB, tenant_id="t", resource_group="rg-ai-prod", location="swedencentral", deployment_name="d",
                 parameter=parameter, variable=variable, reference=lambda i, a, f: {"principalId": "p-" + i.rsplit("/", 1)[-1]},
                 copy_index=index)


def ev(text, **kw):
    return evaluate_string(text, scope(**kw))


def test_literals_and_escapes():
    assert ev("plain") == "plain"
    assert ev("[[not an expression]") == "[not an expression]"
    assert not is_expression("[[x]") and is_expression("[x()]") and not is_expression("x]")
    assert ev("[concat('it''s')]") == "it's"
    assert ev("[concat('a'") == "[concat('a'"  # no closing bracket: a literal, as ARM reads it
    assert ev("[concat('a', 'b', 1)]") == "ab1"


def test_nested_calls_property_and_index_access():
    assert ev("[toUpper(concat(parameters('a'), '-', string(length(parameters('list')))))]", params={"a": "x", "list": [1, 2]}) == "X-2"
    assert ev("[parameters('o').inner.list[1]]", params={"o": {"inner": {"list": ["a", "b"]}}}) == "b"
    assert ev("[parameters('items')[copyIndex()].rg]", params={"items": [{"rg": "a"}, {"rg": "b"}]}, copy_index=1) == "b"
    assert ev("[parameters('o')['Key']]", params={"o": {"key": 1}}) == 1  # property names are case-insensitive
    assert ev("[reference('/x/id-1', '2023-01-31').principalId]") == "p-id-1"


def test_scope_functions_and_ids():
    assert ev("[resourceId('Microsoft.Web/sites', 'app')]") == f"/subscriptions/{SUB}/resourceGroups/rg-ai-prod/providers/Microsoft.Web/sites/app"
    assert ev("[resourceId('other', 'Microsoft.Storage/storageAccounts/blobServices', 'st', 'default')]") == \
        f"/subscriptions/{SUB}/resourceGroups/other/providers/Microsoft.Storage/storageAccounts/st/blobServices/default"
    assert ev("[subscriptionResourceId('Microsoft.Authorization/roleDefinitions', 'g')]") == f"/subscriptions/{SUB}/providers/Microsoft.Authorization/roleDefinitions/g"
    assert ev("[subscription().subscriptionId]") == SUB and ev("[resourceGroup().name]") == "rg-ai-prod"
    assert ev("[environment().suffixes.storage]") == "core.windows.net"
    with pytest.raises(ExpressionError, match="expects 1 resource name"):
        ev("[resourceId('Microsoft.Web/sites')]")


def test_guid_is_arms_uuid5_and_unique_string_is_13_chars():
    assert ev("[guid('a', 'b')]") == str(uuid.uuid5(uuid.UUID("11fb06fb-712d-4ddd-98c7-e71bbd588830"), "a-b"))
    value = ev("[uniqueString('x')]")
    assert len(value) == 13 and value == ev("[uniqueString('x')]") != ev("[uniqueString('y')]")
    assert set(value) <= set("abcdefghijklmnopqrstuvwxyz234567")


def test_logic_is_lazy_and_typed():
    assert ev("[if(equals(parameters('a'), 1), 'one', parameters('missing'))]", params={"a": 1}) == "one"  # untaken branch not evaluated
    assert ev("[not(empty(createArray()))]") is False and ev("[and(true(), or(false, true))]") is True
    assert ev("[format('{0}/{1}', 'a', 2)]") == "a/2" and ev("[take('abcdef', 3)]") == "abc"
    assert ev("[union(createObject('a', 1), createObject('b', 2))]") == {"a": 1, "b": 2}
    with pytest.raises(ExpressionError, match="expects boolean"):
        ev("[not('x')]")


@pytest.mark.parametrize("text, message", [
    ("[nosuch('x')]", "The template function 'nosuch' is not valid"),
    ("[concat('a']", "expected ')'"),
    ("[concat('a)]", "unterminated string literal"),
    ("[concat('a') extra]", "unexpected 'e'"),
    ("[parameters]", "expected '(' after 'parameters'"),
    ("[]", "the expression is empty"),
    ("[parameters('nope')]", "The template parameter 'nope' is not found"),
    ("[parameters('o').missing]", "property 'missing' doesn't exist"),
    ("[parameters('l')[5]]", "out of range"),
    ("[copyIndex()]", "copyIndex' is not expected"),
    ("[my.fn()]", "user-defined functions are not supported"),
])
def test_errors_name_the_problem_and_position(text, message):
    with pytest.raises(ExpressionError) as info:
        ev(text, params={"o": {}, "l": [1]})
    assert message in info.value.message and info.value.expression


def test_positions_point_into_the_expression():
    with pytest.raises(ExpressionError) as info:
        ev("[concat('a', nosuch())]")
    assert info.value.offset == len("[concat('a', ")
    assert parse("[a(b(), 'c')]").args[0].name == "b"


def test_join_makes_one_string_of_an_array():
    """deploy18: the template joins its array parameters into comma-separated app settings (ARM's join)."""
    assert ev("[join(parameters('groups'), ',')]", params={"groups": ["rg-a", "rg-b"]}) == "rg-a,rg-b"
    assert ev("[join(parameters('groups'), ',')]", params={"groups": []}) == ""
    with pytest.raises(ExpressionError):
        ev("[join(parameters('groups'), ',')]", params={"groups": [{"a": 1}]})
    with pytest.raises(ExpressionError):
        ev("[join('not an array', ',')]")
