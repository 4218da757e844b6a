"""Remote mode: the responders' commands with ``--app`` against ``firestop serve`` acting as App Service
authentication (``--auth-jwks``), the caller authenticated by a bearer token from azure-identity's
``AzureCliCredential`` — the same output and exit codes as the local commands on the same FIRESTOP_HOME.

The token issuer is this test: an RSA key made here (never written to disk); serve gets only the public JWKS.
``az`` is a stand-in program on PATH that prints ``az account get-access-token``'s JSON with the token, so
azure-identity's own AzureCliCredential code runs unchanged.
"""

from __future__ import annotations

import base64
import json
import os
import re
import stat
import sys
import time
import urllib.error
import urllib.request

import pytest

from firestop.settings import REPO_ROOT
from firestop.trust import encode_principal
from tests.console.test_console_browser import EXAMPLE, KEY, _playbooks
from tests.trust.conftest import serve_process

ISSUER = "https://login.example.test/firestop-tests/v2.0"
AUDIENCE = "api://firestop-tests"
SCOPE = AUDIENCE + "/.default"


def _b64(number: int) -> str:
    raw = number.to_bytes((number.bit_length() + 7) // 8, "big")
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


class Issuer:
    """A token issuer that exists only in this test process."""

    def __init__(self, kid: str = "test-key") -> None:
        from cryptography.hazmat.primitives.asymmetric import rsa

        self.kid = kid
        self.private = rsa.generate_private_key(public_exponent=65537, key_size=2048)

    def jwks(self) -> dict:
        numbers = self.private.public_key().public_numbers()
        return {"keys": [{"kty": "RSA", "use": "sig", "alg": "RS256", "kid": self.kid, "n": _b64(numbers.n), "e": _b64(numbers.e)}]}

    def token(self, oid: str, *, audience: str = AUDIENCE, issuer: str = ISSUER, lifetime: int = 3600, **claims) -> str:
        import jwt

        now = int(time.time())
        body = {"iss": issuer, "aud": audience, "oid": oid, "tid": "tenant-test", "iat": now, "nbf": now - 5,
                "exp": now + lifetime, **claims}
        return jwt.encode(body, self.private, algorithm="RS256", headers={"kid": self.kid})


@pytest.fixture(scope="module")
def remote(tmp_path_factory):
    root = tmp_path_factory.mktemp("remote")
    issuer = Issuer()
    jwks = root / "jwks.json"
    jwks.write_text(json.dumps(issuer.jwks()))
    playbooks = _playbooks(root / "playbooks")
    with serve_process(root / "home", "--auth-jwks", str(jwks), "--auth-issuer", ISSUER, "--auth-audience", AUDIENCE,
                       function_key=KEY, extra_env={"FIRESTOP_PLAYBOOKS": str(playbooks)}) as (port, lines, _):
        assert any("bearer tokens of issuer" in line for line in lines), lines
        yield port, root, issuer, playbooks


def _fake_az(folder, token: str) -> str:
    """A directory holding an ``az`` that answers ``az account get-access-token`` with ``token``."""
    folder.mkdir(exist_ok=True)
    script = folder / "az"
    answer = json.dumps({"accessToken": token, "expires_on": int(time.time()) + 3600, "tokenType": "Bearer"})
    script.write_text(f"#!{sys.executable}\nimport sys\nassert sys.argv[1:3] == ['account', 'get-access-token']\nprint({answer!r})\n")
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    return str(folder)


class Result:
    def __init__(self, returncode: int, stdout: str, stderr: str) -> None:
        self.returncode, self.stdout, self.stderr = returncode, stdout, stderr


def cli(root, *args: str, home=None, path: str | None = None, **extra: str) -> Result:
    """``python -m firestop *args`` in-process (typer's CliRunner) with its own environment: FIRESTOP_HOME ``home``
    (serve's for a local command, another for a remote one), ``path`` first on PATH (the ``az`` stand-in)."""
    from typer.testing import CliRunner

    from firestop.cli.main import app
    from firestop.settings import configure_settings

    env = {k: None for k in os.environ if k.startswith(("WEBSITE_", "FIRESTOP_"))}
    env.update(FIRESTOP_HOME=str(home or root / "elsewhere"), FIRESTOP_APP_SCOPE=SCOPE, COLUMNS="200",
               FIRESTOP_PLAYBOOKS=str(root / "playbooks"), PATH=(path + os.pathsep if path else "") + os.environ.get("PATH", ""))
    env.update(extra)
    configure_settings(None)
    result = CliRunner().invoke(app, list(args), env=env, catch_exceptions=False)
    configure_settings(None)
    return Result(result.exit_code, result.stdout, result.stderr)


def _diff(local: str, far: str) -> str:
    import difflib

    return "".join(difflib.unified_diff(local.splitlines(True), far.splitlines(True), "local", "remote"))


def _post(port: int, path: str, body: bytes, headers: dict) -> tuple[int, dict]:
    request = urllib.request.Request(f"http://127.0.0.1:{port}{path}", data=body, method="POST",
                                     headers={"content-type": "application/json", **headers})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"null")


def _get(port: int, path: str, headers: dict) -> tuple[int, object]:
    request = urllib.request.Request(f"http://127.0.0.1:{port}{path}", headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"null")


def test_remote_commands_give_the_local_output_and_exit_codes(remote):
    port, root, issuer, _ = remote
    status, accepted = _post(port, "/api/alerts", EXAMPLE.read_bytes(), {"x-functions-key": KEY})
    assert status == 202 and set(accepted) == {"deliveryId", "statusUri"}  # no incident named (intake16)
    bearer = {"Authorization": f"Bearer {issuer.token('oid-alice', name='Alice')}"}
    status, rows = _get(port, "/api/incidents", bearer)  # the responder's route names it
    assert status == 200, rows
    [incident_id] = [row["incident_id"] for row in rows]
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:  # bounded: the orchestration runs in serve's background driver
        status, view = _get(port, f"/api/incidents/{incident_id}", bearer)
        if status == 200 and view.get("status") == "awaiting_approval":
            break
        time.sleep(0.2)
    assert view["status"] == "awaiting_approval", view
    az = _fake_az(root / "bin-alice", issuer.token("oid-alice", name="Alice"))
    app = f"http://127.0.0.1:{port}"
    home = root / "home"

    for args in (["incident", "list", "--json"], ["incident", "show", incident_id, "--json"], ["incident", "show", incident_id]):
        local = cli(root, *args, home=home)
        far = cli(root, *args, "--app", app, path=az)
        # one difference, on purpose: how to decide names the identity where the incident lives (--as locally,
        # --app remotely: firestop.lifecycle.cli_hints)
        expected = re.sub(r"--as <your object id(?:, e\.g\. [^>]+)?>", f"--app {app}", local.stdout)
        assert "--json" in args or expected != local.stdout, local.stdout
        assert (far.returncode, far.stdout) == (local.returncode, expected), (args, far.stderr, local.stderr, _diff(expected, far.stdout))
    assert incident_id in far.stdout

    decided = cli(root, "incident", "approve", incident_id, "--step", "lock-network", "--comment", "remote", "--app", app, path=az)
    assert decided.returncode == 0, decided.stderr
    assert "contained" in decided.stdout
    local = cli(root, "incident", "show", incident_id, home=home)
    far = cli(root, "incident", "show", incident_id, "--app", app, path=az)
    # one difference, on purpose: the app names its files' logical locations, never its paths (cli17)
    assert (far.returncode, far.stdout) == (local.returncode, local.stdout.replace(f"{home}/", "FIRESTOP_HOME/"))
    record = json.loads(cli(root, "incident", "show", incident_id, "--json", "--app", app, path=az).stdout)
    assert [(a["by"], a["verdict"]) for a in record["approvals"]] == [("oid-alice", "approve")]

    # refusals keep the local exit codes: no such incident → 2; a reader deciding → 2 naming the role
    missing = cli(root, "incident", "show", "inc-0000000000000000", "--app", app, path=az)
    assert missing.returncode == 2 and "no incident" in missing.stderr
    reader = _fake_az(root / "bin-mallory", issuer.token("oid-mallory"))
    refused = cli(root, "incident", "approve", incident_id, "--step", "lock-network", "--app", app, path=reader)
    assert refused.returncode == 2 and "approver role" in refused.stderr


def test_serve_believes_no_principal_without_a_token_it_can_verify(remote):
    port, root, issuer, _ = remote
    forged = {"X-MS-CLIENT-PRINCIPAL": encode_principal("oid-admin")}  # from loopback, which serve used to believe
    assert _get(port, "/api/incidents", forged)[0] == 401
    other = Issuer(kid="test-key")  # same key id, another private key
    cases = {
        "another issuer's key": other.token("oid-admin"),
        "wrong audience": issuer.token("oid-admin", audience="api://someone-else"),
        "wrong issuer": issuer.token("oid-admin", issuer="https://evil.example/v2.0"),
        "expired": issuer.token("oid-admin", lifetime=-600),
        "unsigned": base64.urlsafe_b64encode(b'{"alg":"none"}').decode().rstrip("=") + "."
                    + base64.urlsafe_b64encode(json.dumps({"iss": ISSUER, "aud": AUDIENCE, "oid": "oid-admin",
                                                           "exp": int(time.time()) + 600}).encode()).decode().rstrip("=") + ".",
    }
    for name, token in cases.items():
        status, body = _get(port, "/api/incidents", {"Authorization": f"Bearer {token}", **forged})
        assert status == 401 and body["error"] == "Authorization", (name, body)
        assert token not in json.dumps(body)
    status, listed = _get(port, "/api/incidents", {"Authorization": f"Bearer {issuer.token('oid-mallory')}", **forged})
    assert status == 200 and isinstance(listed, list)  # mallory (reader), not the forged admin
    status, body = _post(port, "/api/runbooks/network.lock", b"{}", {"Authorization": f"Bearer {issuer.token('oid-mallory')}", **forged})
    assert status == 403 and "'oid-mallory'" in body["reason"]


def test_bad_app_urls_and_sign_in_methods_are_exit_2_naming_the_fix(tmp_path):
    for url, said in [("http://example.com", "https://"), ("ftp://x", "https://"), ("https://app.example/api", "origin only")]:
        result = cli(tmp_path, "incident", "list", "--app", url)
        assert result.returncode == 2 and said in result.stderr, result.stderr
    no_az = cli(tmp_path, "incident", "list", "--app", "https://app.example", path=str(tmp_path / "nothing"))
    assert no_az.returncode == 2 and ("az login" in no_az.stderr or "sign-in" in no_az.stderr), no_az.stderr
    result = cli(tmp_path, "incident", "list", "--auth", "telepathy", FIRESTOP_APP_URL="https://app.example")
    assert result.returncode == 2 and "--auth" in result.stderr
