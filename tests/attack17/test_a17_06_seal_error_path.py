"""A17-06 (low; an operator's mistake, seen by attacker B — the lowest role that may decide — and by A on
``POST /api/alerts``): a seal key error answers FIRESTOP_HOME's absolute path.

cli17: "no API answer carries a path". seal17 added ``FIRESTOP_HOME/seal-key.retired``; an unusable line in it (a
key shorter than 32 characters, a pasted comment) makes :func:`firestop.trust.seal.load_seal_key` raise
``SealKeyError`` whose message begins with the file's absolute path, and the responders' API answers that message
whole in its 503 (``http_api._sealed``: ``"reason": str(exc)``; ``POST /api/alerts`` likewise, ``"app setting: …"``).
The log keeps the path for the operator; the answer names the file logically (``FIRESTOP_HOME/seal-key.retired``).
"""

from __future__ import annotations

import json

from tests.e2e.test_http_api import INCIDENT, api  # noqa: F401 — api: the responders' API on a sandbox (fixture)


def test_a_seal_key_error_answers_no_path_of_the_app(api, firestop_home):  # noqa: F811
    from firestop.trust.seal import RETIRED_KEYS_FILE

    api.open_incident()
    (firestop_home / RETIRED_KEYS_FILE).write_text("too-short-a-key\n")  # an operator's slip
    status, body = api.call("decide_http", "POST", "x", route={"incident_id": INCIDENT, "step": "lock-network"},
                            body={"decision": "approve"})
    assert status == 503, (status, body)
    assert "seal-key.retired" in json.dumps(body)  # still says which file to fix
    assert str(firestop_home) not in json.dumps(body), body
