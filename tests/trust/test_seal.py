"""firestop.trust.seal: the key (environment, generated once, fail closed on Azure), the MAC, and what never leaks."""

from __future__ import annotations

import json
import os
import stat

import pytest

from firestop.seal_contract import canonical_json, digest
from firestop.trust.seal import (
    SEAL_KEY_ENV,
    Purpose,
    SealKey,
    SealKeyError,
    load_seal_key,
    seal,
    verify,
)

SECRET = "s3cret-seal-key-for-tests-0123456789abcdef"


def test_generated_once_private_and_shared_by_later_loads(tmp_path):
    first = load_seal_key(tmp_path, {})
    path = tmp_path / "seal-key"
    assert first.origin == f"generated, stored in {path}"
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    again = load_seal_key(tmp_path, {})
    assert again.kid == first.kid and again.origin == f"stored in {path}"
    assert [p.name for p in tmp_path.iterdir()] == ["seal-key"]  # no temporary file left behind


def test_the_environment_wins_and_a_weak_key_is_refused_without_echoing_it(tmp_path):
    key = load_seal_key(tmp_path, {SEAL_KEY_ENV: SECRET})
    assert key.origin == "environment" and not (tmp_path / "seal-key").exists()
    with pytest.raises(SealKeyError) as raised:
        load_seal_key(tmp_path, {SEAL_KEY_ENV: "short-secret"})
    assert SEAL_KEY_ENV in str(raised.value) and "short-secret" not in str(raised.value)


@pytest.mark.parametrize("marker", ["WEBSITE_SITE_NAME", "WEBSITE_INSTANCE_ID"])
def test_on_azure_a_missing_key_fails_closed(tmp_path, marker):
    with pytest.raises(SealKeyError, match=SEAL_KEY_ENV):
        load_seal_key(tmp_path, {marker: "firestop-prod"})
    assert not (tmp_path / "seal-key").exists()  # never generated per instance
    assert load_seal_key(tmp_path, {marker: "firestop-prod", SEAL_KEY_ENV: SECRET}).origin == "environment"


def test_the_key_is_never_shown():
    key = SealKey(SECRET, "environment")
    sealed = seal(Purpose.INCIDENT, {"a": 1}, binding="inc-1", key=key)
    assert SECRET not in repr(key) and SECRET not in json.dumps(sealed)
    with pytest.raises(ValueError) as raised:
        key.sign(Purpose.INCIDENT, "two\nlines", digest({}))
    assert SECRET not in str(raised.value)


def test_a_seal_covers_content_purpose_and_binding():
    key = SealKey(SECRET, "environment")
    doc = {"incident_id": "inc-1", "playbook": None, "alert": {"ips": ["203.0.113.77"], "n": 1.5}}
    sealed = seal(Purpose.INCIDENT, doc, binding="inc-1", key=key)
    assert verify(Purpose.INCIDENT, sealed, binding="inc-1", key=key) == (True, "sealed by this app")
    assert verify(Purpose.INCIDENT, json.loads(json.dumps(sealed)), binding="inc-1", key=key)[0]  # survives history
    assert not verify(Purpose.INCIDENT, {**sealed, "requested_by": "oid-mallory"}, binding="inc-1", key=key)[0]
    assert not verify(Purpose.INCIDENT, sealed, binding="inc-2", key=key)[0]
    assert not verify(Purpose.STEP_GROUP, sealed, binding="inc-1", key=key)[0]
    ok, reason = verify(Purpose.INCIDENT, sealed, binding="inc-1", key=SealKey(SECRET + "x", "environment"))
    assert not ok and "another key" in reason
    assert verify(Purpose.INCIDENT, doc, binding="inc-1", key=key)[1].startswith("no seal")
    for bad in (123, "x" * 500, "v1.a.b.c", "v2.abcdefgh.xyz"):
        assert not verify(Purpose.INCIDENT, {**doc, "seal": bad}, binding="inc-1", key=key)[0]


def test_canonical_form_ignores_key_order_and_the_seal_field():
    assert canonical_json({"b": 1, "a": [1, (2, 3)], "seal": "x"}) == '{"a":[1,[2,3]],"b":1}'
    assert digest({"a": 1, "b": "é"}) == digest({"b": "é", "a": 1})


def test_verify_activity_refuses_without_a_usable_key_on_azure(monkeypatch, firestop_home, caplog):
    from firestop.functions.activities import verify_seal

    monkeypatch.setenv("WEBSITE_SITE_NAME", "firestop-prod")
    monkeypatch.delenv(SEAL_KEY_ENV, raising=False)
    answer = verify_seal._function.get_user_function()({"purpose": "incident", "binding": "inc-1", "digest": digest({}), "seal": "v1.x.y", "about": "t"})
    assert answer["ok"] is False and SEAL_KEY_ENV in answer["reason"]
    assert "refused incident input for 'inc-1'" in caplog.text


def test_intake_answers_503_naming_the_setting_when_azure_has_no_seal_key(monkeypatch, firestop_home):
    import azure.functions as func

    from firestop.cli.wiring import function_app, sandbox_environment
    from firestop.runtime import ManagementServer, invoke_http_function
    from firestop.settings import REPO_ROOT

    # The app is imported before the Azure marker is set: importing function_app on Azure with missing settings
    # refuses to start (check_startup), which is a different test; this one is about a request reaching intake.
    app = function_app()
    monkeypatch.setenv("WEBSITE_INSTANCE_ID", "abc")
    monkeypatch.delenv(SEAL_KEY_ENV, raising=False)
    env = sandbox_environment()
    try:
        with ManagementServer(env.host) as server:
            request = func.HttpRequest(method="POST", url="http://localhost:7071/api/alerts", headers={"content-type": "application/json"},
                                       body=(REPO_ROOT / "examples" / "alerts" / "leaked-key.json").read_bytes())
            response = invoke_http_function(app, "post_alert", request, server=server)
        assert response.status_code == 503 and SEAL_KEY_ENV in json.loads(response.get_body())["reason"]
        assert env.host.list_instances() == []  # nothing started unsealed
    finally:
        env.close()


def test_canonical_json_is_the_round_tripped_sorted_dump_whatever_the_keys() -> None:
    """canonical_json dumps a str-keyed document once; it must equal the JSON round trip + sorted dump
    (the definition), and documents it cannot take that way (non-str keys, shared or circular
    containers, subclasses) take the round trip."""
    import json
    from collections import OrderedDict

    from firestop.seal_contract import canonical_json

    def definition(doc):
        if isinstance(doc, dict):
            doc = {k: v for k, v in doc.items() if k != "seal"}
        return json.dumps(json.loads(json.dumps(doc)), sort_keys=True, separators=(",", ":"), ensure_ascii=True)

    shared = [1, 2]
    documents = [
        {"b": (1, 2.5, float("nan")), "a": {"é": "ü\u202e", "z": [None, True, {"y": -0.0}]}, "seal": "x"},
        {10: "a", 9: "b", "c": {1: 2}},
        {"x": shared, "y": shared},
        OrderedDict([("b", 1), ("a", OrderedDict([("d", 2), ("c", 3)]))]),
        {"outer": [OrderedDict([(10, "a"), (9, "b")])], "b": {2: 1, "1": 0}},
        {"deep": [[[[{"x": (1, {3: "int key deep down"})}]]]]},
        [{"b": 1, "a": 2}, ({"k": (3,)},)],
        {"n": 10**30, "f": 1e-7, "t": True, "none": None},
        "text",
    ]
    for doc in documents:
        assert canonical_json(doc) == definition(doc), doc
    loop: dict = {"a": 1}
    loop["self"] = loop
    with pytest.raises(ValueError):
        canonical_json(loop)


def test_a_stored_key_is_read_once_and_a_replaced_or_broken_file_is_noticed(tmp_path, monkeypatch):
    load_seal_key(tmp_path, env={})  # generates it
    first = load_seal_key(tmp_path, env={})  # reads it
    reads = []
    real = type(tmp_path).read_text
    monkeypatch.setattr(type(tmp_path), "read_text", lambda self, *a, **k: reads.append(self) or real(self, *a, **k))
    assert load_seal_key(tmp_path, env={}).kid == first.kid and reads == []  # the unchanged file is not reread
    stored = tmp_path / "seal-key"
    replacement = tmp_path / "seal-key.new"
    replacement.write_text("b" * 43 + "\n")
    os.replace(replacement, stored)  # how an operator rotates it: a new file moved into place
    second = load_seal_key(tmp_path, env={})
    assert second.kid != first.kid and reads == [stored]
    stored.write_text("short\n")  # rewritten in place, unusable: refused, never the cached key
    with pytest.raises(SealKeyError):
        load_seal_key(tmp_path, env={})


@pytest.mark.parametrize("length", [32, 33, 63, 64, 65, 100, 200])
def test_the_mac_is_hmac_sha256_whatever_the_key_length(length):
    """SealKey._mac keys HMAC-SHA256's pads once and copies them per MAC: the same MAC as the standard library's
    one-shot hmac.digest (RFC 2104), for keys shorter than, as long as and longer than SHA-256's 64-byte block
    (a longer key is hashed first), with non-ASCII key characters and bindings."""
    import base64
    import hmac

    for secret in ("k" * length, ("é" * length)[:length], "".join(chr(33 + (i * 7) % 90) for i in range(length))):
        key = SealKey(secret, "environment")
        for purpose, binding, document_digest in ((Purpose.INCIDENT, "inc-0123456789abcdef", digest({"a": 1})),
                                                  (Purpose.APPROVAL, "inc-1/step-é", "0" * 64),
                                                  (Purpose.STOP, "", digest({}))):
            message = f"firestop-seal/v1\n{purpose}\n{binding}\n{document_digest}".encode()
            expected = base64.urlsafe_b64encode(hmac.digest(secret.encode(), message, "sha256")).rstrip(b"=").decode()
            assert key.sign(purpose, binding, document_digest) == f"v1.{key.kid}.{expected}"
            assert key._mac(purpose, binding, document_digest) == key._mac(purpose, binding, document_digest)
