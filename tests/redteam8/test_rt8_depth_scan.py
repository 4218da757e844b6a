"""RT8-01: the depth check of every responders' API body (:func:`firestop.boundary.json_depth`, the strict path
:func:`~firestop.boundary.loads_bounded` takes for whatever orjson refuses) strips strings with a regex that rescans
to the end of the text from every ``"`` of an *unterminated* string: a body ``"`` + ``\\"`` × n is quadratic. 48 KB
cost ~16 s of CPU, the 1 MB the API accepts about two hours — one request from a responder (any ``POST`` route:
stop, undo, approvals, runbooks) pins a worker, a few pin the app. Fixed: an unterminated string runs to the end of
the text in one match (linear); a body like it answers 400 at once."""

from __future__ import annotations

import json
import time

import azure.functions as func

from firestop.boundary import BoundaryError, json_depth, loads_bounded
from firestop.trust import encode_principal, stamp_peer
from tests.trust.conftest import INCIDENT, api, handled_home  # noqa: F401

#: CPU seconds a 48 KB body may cost (main took ~16 s on a 2-core machine; linear is ~1 ms).
BUDGET_S = 2.0


def _unterminated(size: int) -> bytes:
    return b'"' + b'\\"' * (size // 2)


def _cpu(fn) -> float:
    started = time.process_time()
    fn()
    return time.process_time() - started


def test_an_unterminated_string_of_escaped_quotes_costs_linear_time():
    body = _unterminated(48 * 1024)

    def refuse():
        try:
            loads_bounded(body)
        except BoundaryError as exc:
            assert exc.status == 400
        else:  # pragma: no cover - it is not JSON
            raise AssertionError("an unterminated string decoded")

    assert _cpu(refuse) < BUDGET_S


def test_a_trailing_backslash_does_not_bring_the_rescan_back():
    assert _cpu(lambda: json_depth('"' + '\\"' * 24_000 + "\\")) < BUDGET_S
    assert _cpu(lambda: json_depth('["' + '\\"' * 24_000 + '[[[')) < BUDGET_S


def test_depth_of_valid_json_is_unchanged():
    assert json_depth('[{"a": "[[[\\"]]]", "b": [[1]]}]') == 4
    assert json_depth('"[[\\\\"') == 0  # an escaped backslash closes the string
    assert json_depth("[" * 70 + "]" * 70) == 70


def test_the_stop_route_answers_such_a_body_400_at_once(api):  # noqa: F811 - the fixture
    from firestop.runtime import invoke_http_function

    headers = {"content-type": "application/json", "accept": "application/json",
               "X-MS-CLIENT-PRINCIPAL": encode_principal("oid-bob")}  # a responder of the sandbox's demo table
    request = func.HttpRequest(method="POST", url=f"http://localhost:7071/api/incidents/{INCIDENT}/stop",
                               headers=stamp_peer(headers, "127.0.0.1"), body=_unterminated(48 * 1024),
                               route_params={"incident_id": INCIDENT}, params={})
    answer = {}
    cost = _cpu(lambda: answer.update(r=invoke_http_function(api.app, "stop_http", request, server=api.server)))
    assert answer["r"].status_code == 400, answer["r"].get_body()[:200]
    assert json.loads(answer["r"].get_body())["error"] == "$"
    assert cost < BUDGET_S
