"""Links the app hands out (``statusUri``, ``Location``) never echo a client's ``Host`` header (red-team finding):
on Azure they use ``FIRESTOP_PUBLIC_URL`` or ``WEBSITE_HOSTNAME``; ``firestop serve`` believes a Host only when it
names loopback or its own bind address, on its own port."""

from __future__ import annotations

import json
import socket

import pytest

from firestop.settings import REPO_ROOT

EXAMPLE = REPO_ROOT / "examples" / "alerts" / "leaked-key.json"
KEY = "host-header-key-0123456789abc"


def post_alert_in_process(url: str):
    import azure.functions as func

    from firestop.cli.wiring import function_app, sandbox_environment
    from firestop.runtime import ManagementServer, invoke_http_function
    from tests.e2e.test_webhook import invoke_seen

    env = sandbox_environment()
    try:
        with ManagementServer(env.host) as server:
            request = func.HttpRequest(method="POST", url=url, headers={"content-type": "application/json"},
                                       body=EXAMPLE.read_bytes())
            answer = invoke_seen(function_app(), "post_alert", request, server=server)
            link = json.loads(answer.get_body())["statusUri"]
            status = func.HttpRequest(method="GET", url=link.replace(
                "https://fs-prod.azurewebsites.net", "http://evil.example").replace("https://firestop.contoso.com", "http://evil.example"),
                headers={}, body=b"", route_params={"delivery_id": json.loads(answer.get_body())["deliveryId"]},
                params={"token": link.split("?token=", 1)[1]})
            polled = invoke_http_function(function_app(), "alert_status", status, server=server)
    finally:
        env.close()
    return answer, polled


@pytest.mark.parametrize("setting, origin", [({"WEBSITE_HOSTNAME": "fs-prod.azurewebsites.net"}, "https://fs-prod.azurewebsites.net"),
                                             ({"WEBSITE_HOSTNAME": "fs-prod.azurewebsites.net",
                                               "FIRESTOP_PUBLIC_URL": "https://firestop.contoso.com/"}, "https://firestop.contoso.com")])
def test_on_azure_links_use_the_platform_host_name_not_the_request_host(firestop_home, monkeypatch, setting, origin):
    for name, value in setting.items():
        monkeypatch.setenv(name, value)
    answer, polled = post_alert_in_process("http://evil.example/api/alerts")  # the host built the URL from Host
    body = json.loads(answer.get_body())
    assert answer.status_code == 202
    assert body["statusUri"].startswith(f"{origin}/api/alerts/{body['deliveryId']}/status?token=")
    assert body["statusUri"] == answer.headers["Location"]
    assert polled.status_code == 200 and json.loads(polled.get_body())["status"] == "received"  # the link works
    assert "evil" not in answer.get_body().decode() + json.dumps(dict(answer.headers)) + json.dumps(dict(polled.headers))


def test_public_url_setting_is_registered_and_checked():
    from firestop.settings import SETTINGS, check_environment

    assert "FIRESTOP_PUBLIC_URL" in {s.name for s in SETTINGS}
    problems = dict(check_environment({"FIRESTOP_PUBLIC_URL": "http://evil.example/x"}, on_azure=False))
    assert "https://" in problems["FIRESTOP_PUBLIC_URL"]
    assert "FIRESTOP_PUBLIC_URL" not in dict(check_environment({"FIRESTOP_PUBLIC_URL": "https://a.example:8443"}, on_azure=False))


@pytest.fixture
def serve(firestop_home):
    from firestop.cli.wiring import function_app, sandbox_environment
    from firestop.runtime.serve import FunctionsServer

    env = sandbox_environment()
    server = FunctionsServer(function_app(), env.host, function_key=KEY, port=0, realtime_factor=0).start()
    try:
        yield server
    finally:
        server.stop()
        env.close()


def post(server, host: str) -> tuple[int, dict, dict]:
    body = EXAMPLE.read_bytes()
    request = (f"POST /api/alerts HTTP/1.1\r\nHost: {host}\r\nx-functions-key: {KEY}\r\nContent-Type: application/json\r\n"
               f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n").encode() + body
    with socket.create_connection(("127.0.0.1", server._httpd.server_address[1]), timeout=30) as conn:
        conn.sendall(request)
        data = b""
        while chunk := conn.recv(65536):
            data += chunk
    head, _, payload = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = dict(line.split(": ", 1) for line in lines[1:])
    return int(lines[0].split(" ")[1]), headers, json.loads(payload)


def test_serve_links_ignore_a_foreign_host_header(serve):
    port = serve._httpd.server_address[1]
    for host in ("evil.example", f"evil.example:{port}", "127.0.0.1.evil.example", f"localhost:{port + 1}"):
        status, headers, body = post(serve, host)
        assert status == 202, body
        assert body["statusUri"].startswith(f"{serve.base_url}/api/alerts/") and headers["Location"] == body["statusUri"], host
    status, headers, body = post(serve, f"localhost:{port}")  # the client's own loopback name is kept
    assert status == 202 and body["statusUri"].startswith(f"http://localhost:{port}/api/alerts/")


@pytest.mark.parametrize("port", ["65536", "99999", "0", "00000"])
def test_a_public_url_or_host_name_with_a_port_out_of_range_is_refused(port):
    """A port is 1..65535 (RFC 6335 §6): https://host:99999 is named with the fix, and links never carry it."""
    from firestop.functions.links import public_origin
    from firestop.settings import check_environment

    problem = dict(check_environment({"FIRESTOP_PUBLIC_URL": f"https://a.example:{port}"}, on_azure=False))["FIRESTOP_PUBLIC_URL"]
    assert f"port {port}" in problem and "1-65535" in problem
    origin = public_origin("http://127.0.0.1:7071/api/alerts", {"FIRESTOP_PUBLIC_URL": f"https://a.example:{port}",
                                                               "WEBSITE_HOSTNAME": f"fs.azurewebsites.net:{port}"})
    assert origin == "http://127.0.0.1:7071"
    assert public_origin("http://x/", {"FIRESTOP_PUBLIC_URL": "https://a.example:65535"}) == "https://a.example:65535"
    from runbooks.notify import console_url  # the links a page carries

    assert console_url("/api/console", {"FIRESTOP_PUBLIC_URL": f"https://a.example:{port}"}) == "/api/console"


def test_status_links_follow_a_changed_setting_though_the_base_is_cached(monkeypatch):
    """status_link reuses the origin + prefix it built for a request URL; a changed WEBSITE_HOSTNAME or
    FIRESTOP_PUBLIC_URL is part of that cache's key, so the next link already uses it."""
    import azure.functions as func

    from firestop.functions.http_alerts import status_link

    def link(url: str, delivery: str = "dlv-1") -> str:
        return status_link(func.HttpRequest(method="POST", url=url, headers={}, body=b""), delivery)

    monkeypatch.delenv("WEBSITE_HOSTNAME", raising=False)
    monkeypatch.delenv("FIRESTOP_PUBLIC_URL", raising=False)
    url = "http://127.0.0.1:7071/firestop/alerts"
    assert link(url) == link(url) == "http://127.0.0.1:7071/firestop/alerts/dlv-1/status"
    monkeypatch.setenv("WEBSITE_HOSTNAME", "fs-prod.azurewebsites.net")
    assert link(url, "dlv-2") == "https://fs-prod.azurewebsites.net/firestop/alerts/dlv-2/status"
    monkeypatch.setenv("FIRESTOP_PUBLIC_URL", "https://firestop.contoso.com/")
    assert link(url, "dlv-2") == "https://firestop.contoso.com/firestop/alerts/dlv-2/status"
    monkeypatch.delenv("FIRESTOP_PUBLIC_URL")
    monkeypatch.delenv("WEBSITE_HOSTNAME")
    assert link("http://evil.example/api/alerts", "x") == "http://evil.example/api/alerts/x/status"  # serve: its own URL
    assert link(url, "x") == "http://127.0.0.1:7071/firestop/alerts/x/status"
