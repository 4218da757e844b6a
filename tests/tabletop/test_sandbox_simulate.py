"""firestop sandbox simulate: an attack on the persisted sandbox; the alerts reach a webhook over HTTP,
with the function key, retried as action groups retry (a 503 first)."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler

from typer.testing import CliRunner

from firestop.cli.main import app
from tests.stub_servers import ThreadingHTTPServer  # shutdown() at once (no 0.05 s poll per teardown)

ATTACK = """
playbooks: {playbooks}
attack:
  - {{at: 0, kind: requests, account: contoso-openai-prod, from_ip: 203.0.113.77, key: key1, per_minute: 40, duration: 120}}
"""


@contextmanager
def _webhook(answer: Callable[[str | None, bytes], int]) -> Iterator[str]:
    """A stand-in action-group receiver on loopback: each POST's ``x-functions-key`` and body go to ``answer``, whose
    status it sends (empty body). Yields the receiver's ``/api/alerts`` URL; stopped when the block ends."""
    class Hook(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802
            status = answer(self.headers.get("x-functions-key"), self.rfile.read(int(self.headers["Content-Length"])))
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Hook)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/api/alerts"
    finally:
        server.shutdown()
        server.server_close()


def test_simulate_delivers_the_common_schema_with_the_key_and_retries(tmp_path, monkeypatch):
    from firestop.settings import REPO_ROOT

    monkeypatch.setenv("FIRESTOP_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("FIRESTOP_FUNCTION_KEY", "test-key-123")
    got: list[tuple[str | None, dict]] = []

    def answer(key: str | None, body: bytes) -> int:
        got.append((key, json.loads(body)))
        return 503 if len(got) == 1 else 202

    with _webhook(answer) as url:
        path = tmp_path / "attack.yaml"
        path.write_text(ATTACK.format(playbooks=REPO_ROOT / "playbooks"))
        result = CliRunner().invoke(app, ["sandbox", "simulate", str(path), "--to", url, "--json"])
    assert result.exit_code == 0, result.output
    out = json.loads(result.output)
    fired = [a for a in out["alerts"] if a["condition"] == "Fired"]
    assert fired and fired[0]["rule"].startswith("aoai-leaked-key-usage")
    assert [d["status"] for d in fired[0]["delivery"]] == [503, 202]  # retried after Azure's 5 s
    assert got[0][0] == "test-key-123" and got[0][1]["schemaId"] == "azureMonitorCommonAlertSchema"
    assert got[0][1]["data"]["customProperties"]["firestop-playbook"] == "leaked-api-key"
    assert out["requests"]["malicious"] == 80 and out["requests"]["served"] == 80  # nobody contained it: the stub only answers
    assert "test-key-123" not in result.output


def test_simulate_refuses_a_file_without_attack(tmp_path, monkeypatch):
    monkeypatch.setenv("FIRESTOP_HOME", str(tmp_path / "home"))
    path = tmp_path / "a.yaml"
    path.write_text("name: x\n")
    result = CliRunner().invoke(app, ["sandbox", "simulate", str(path), "--json"])
    assert result.exit_code == 2 and "attack" in result.output


def _closed_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]  # closed when the block ends: nothing listens there


def _simulate_to(tmp_path, monkeypatch, url: str, *extra: str):
    from firestop.settings import REPO_ROOT

    monkeypatch.setenv("FIRESTOP_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("FIRESTOP_FUNCTION_KEY", "test-key-123")
    path = tmp_path / "attack.yaml"
    path.write_text(ATTACK.format(playbooks=REPO_ROOT / "playbooks"))
    return CliRunner().invoke(app, ["sandbox", "simulate", str(path), "--to", url, *extra])


def test_simulate_to_a_url_nothing_listens_on_exits_1_and_says_why(tmp_path, monkeypatch):
    """New user 13: ``--to http://127.0.0.1:<wrong port>/api/alerts`` printed ``→ URLError, URLError, …`` for each
    alert and exited 0, as if the demo had worked: no alert reached anything. Now each failed attempt says why
    (connection refused), the command exits 1 (the app cannot be reached, as remote mode) with one line naming the
    URL, how many alerts were not delivered and what to check; --json keeps one JSON document."""
    url = f"http://127.0.0.1:{_closed_port()}/api/alerts"
    text = _simulate_to(tmp_path, monkeypatch, url)
    assert text.exit_code == 1, text.output
    assert "refused" in text.output.lower() and f"--to: " in text.output and "not delivered" in text.output
    as_json = _simulate_to(tmp_path, monkeypatch, url, "--json")
    assert as_json.exit_code == 1, as_json.output
    out = json.loads(as_json.stdout)  # one document: the result, with what was not delivered
    assert out["undelivered"] and all("refused" in d["error"].lower() for a in out["alerts"] for d in a["delivery"])


def test_simulate_to_a_webhook_that_refuses_the_key_exits_2(tmp_path, monkeypatch):
    """A 401 (another FIRESTOP_HOME's function key) is not retried, as Azure does not; the command no longer ends 0."""
    with _webhook(lambda key, body: 401) as url:
        result = _simulate_to(tmp_path, monkeypatch, url, "--json")
    assert result.exit_code == 2, result.output
    assert json.loads(result.stdout)["undelivered"]
