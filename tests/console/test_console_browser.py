"""The web console in a real browser (Debian's Chromium driven by Playwright): approve a real incident waiting on
``firestop serve`` and see it contained; screenshots of the main pages at phone (390 px) and desktop (1280 px)
widths, each checked for rendering errors — console errors, uncaught page errors, failed or 4xx/5xx requests,
content wider than the viewport — and kept under ``FIRESTOP_TEST_SCREENSHOTS`` when that is set.

``scripts/test`` installs both (``apt-get install chromium`` when ``/usr/bin/chromium`` is missing; the pinned
``playwright`` package from requirements-dev.txt, pointed at that executable: no browser download).
One browser for the module; the identity is the header App Service would send, believed by serve from
loopback only (Playwright sets it on every request of the context, as App Service would after sign-in).
"""

from __future__ import annotations

import json
import os
import shutil
import time
import urllib.request
from pathlib import Path

import pytest

from firestop.settings import REPO_ROOT
from firestop.trust import encode_principal
from tests.gated_playbook import gated_leaked_key
from tests.trust.conftest import serve_process

CHROMIUM = os.environ.get("FIRESTOP_TEST_CHROMIUM", "/usr/bin/chromium")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
         "--no-first-run"]
KEY = "console-browser-test-key-0123456789"
WIDTHS = (390, 1280)
EXAMPLE = REPO_ROOT / "examples" / "alerts" / "leaked-key.json"


def _playbooks(folder: Path) -> Path:
    """The shipped leaked-api-key playbook with an approval (by oid-alice) on lock-network."""
    return gated_leaked_key(folder, "{mode: required, approvers: [oid-alice], timeout: 3600}")


def _call(port: int, path: str, *, body: bytes | None = None, principal: str | None = "oid-alice") -> tuple[int, dict]:
    headers = {"x-functions-key": KEY, "content-type": "application/json", "accept": "application/json"}
    if principal:
        headers["X-MS-CLIENT-PRINCIPAL"] = encode_principal(principal)
    request = urllib.request.Request(f"http://127.0.0.1:{port}{path}", data=body, headers=headers,
                                     method="POST" if body is not None else "GET")
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"null")


def _new_incident(port: int, besides: frozenset[str] = frozenset()) -> str:
    """The one incident a responder lists (``GET /api/incidents``) that is not in ``besides``: the webhook's 202
    names no incident (intake16), the responder's route does."""
    status, rows = _call(port, "/api/incidents")
    assert status == 200, rows
    [incident_id] = [row["incident_id"] for row in rows if row["incident_id"] not in besides]
    return incident_id


def _wait_for(port: int, incident_id: str, statuses: set[str], timeout: float = 60.0) -> dict:
    """Poll the API (bounded by ``timeout``) until the incident's status is one of ``statuses``."""
    deadline = time.monotonic() + timeout
    view: dict = {}
    while time.monotonic() < deadline:
        status, view = _call(port, f"/api/incidents/{incident_id}")
        if status == 200 and view.get("status") in statuses:
            return view
        time.sleep(0.2)  # polling a background orchestration: the deadline bounds it
    pytest.fail(f"incident {incident_id} did not reach {statuses} in {timeout} s: {view}")


@pytest.fixture(scope="module")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: ./scripts/test installs Debian's chromium (apt-get install chromium)")
    from playwright.sync_api import sync_playwright  # requirements-dev.txt (scripts/test installs it)

    with sync_playwright() as p:
        launched = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS, headless=True)
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    root = tmp_path_factory.mktemp("console")
    playbooks = _playbooks(root / "playbooks")
    with serve_process(root / "home", function_key=KEY, extra_env={"FIRESTOP_PLAYBOOKS": str(playbooks)}) as (port, _, err):
        yield port, err


class Page:
    """A browser page that records what a person would see go wrong."""

    def __init__(self, browser, port: int, width: int, who: str = "oid-alice") -> None:
        self.context = browser.new_context(viewport={"width": width, "height": 800}, base_url=f"http://127.0.0.1:{port}",
                                           extra_http_headers={"X-MS-CLIENT-PRINCIPAL": encode_principal(who), "x-functions-key": KEY})
        self.page = self.context.new_page()
        self.width = width
        self.problems: list[str] = []
        self.page.on("console", lambda m: self.problems.append(f"console {m.type}: {m.text}") if m.type in ("error", "warning") else None)
        self.page.on("pageerror", lambda e: self.problems.append(f"page error: {e}"))
        self.page.on("requestfailed", lambda r: self.problems.append(f"request failed: {r.url} {r.failure}"))
        self.page.on("response", lambda r: self.problems.append(f"HTTP {r.status}: {r.url}") if r.status >= 400 else None)

    def visit(self, path: str) -> None:
        response = self.page.goto(path)
        assert response is not None and response.status == 200, (path, response and response.status)

    def check(self, name: str) -> bytes:
        """Screenshot the full page and judge it: no problem recorded, nothing wider than the viewport."""
        overflow = self.page.evaluate("() => document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, f"{name} at {self.width} px is {overflow} px wider than the viewport"
        assert self.problems == [], f"{name} at {self.width} px: {self.problems}"
        assert self.page.evaluate("() => document.querySelector('main') !== null && document.body.innerText.length > 40")
        shot = self.page.screenshot(full_page=True)
        assert shot[:8] == b"\x89PNG\r\n\x1a\n" and len(shot) > 2000, f"{name}: the screenshot is empty"
        keep = os.environ.get("FIRESTOP_TEST_SCREENSHOTS")
        if keep:
            Path(keep).mkdir(parents=True, exist_ok=True)
            (Path(keep) / f"{name}-{self.width}.png").write_bytes(shot)
        return shot

    def close(self) -> None:
        self.context.close()


def test_approve_in_the_browser_contains_the_incident_and_pages_render_at_phone_and_desktop_width(browser, served):
    port, _ = served
    status, accepted = _call(port, "/api/alerts", body=EXAMPLE.read_bytes(), principal=None)
    assert status == 202 and set(accepted) == {"deliveryId", "statusUri"}, accepted
    incident_id = _new_incident(port)
    waiting = _wait_for(port, incident_id, {"awaiting_approval"})
    assert waiting["pending_approval"]["step"] == "lock-network"

    for width in WIDTHS:  # the pages while the incident waits, as a phone and a desktop show them
        page = Page(browser, port, width)
        try:
            page.visit("/api/console")
            assert "Waiting for a decision" in page.page.inner_text("main")
            assert incident_id in page.page.inner_text("main")
            page.check("incidents")
            page.visit(f"/api/console/incidents/{incident_id}")
            text = page.page.inner_text("main")
            assert "Waiting for approval" in text and "lock-network" in text and "oid-alice" in text
            # what already ran before the approval (intake, playbook selection), and the step waiting, as such
            rows = page.page.locator("table >> nth=-1").locator("tbody tr").all_inner_texts()
            assert any("select playbook" in r and "ok" in r for r in rows), rows
            assert any("lock-network" in r and "awaiting approval" in r for r in rows), rows
            assert page.page.locator("button.approve").is_visible() and page.page.locator("button.reject").is_visible()
            page.check("incident-awaiting-approval")
            page.visit("/api/console/tabletop")
            page.check("tabletop")
        finally:
            page.close()

    page = Page(browser, port, 390)  # a phone at 3 a.m.: approve
    try:
        page.visit(f"/api/console/incidents/{incident_id}")
        page.page.fill("textarea[name=comment]", "approved from the console <b>test</b>")
        with page.page.expect_navigation():
            page.page.click("button.approve")
        assert page.page.url.endswith(f"/api/console/incidents/{incident_id}?done=approve"), page.page.inner_text("main")
        assert "Approved" in page.page.inner_text("main")
        record = _wait_for(port, incident_id, {"contained", "needs_responder"})
        assert record["status"] == "contained", record.get("reason")
        assert [(a["by"], a["verdict"]) for a in record["approvals"]] == [("oid-alice", "approve")]
        page.visit(f"/api/console/incidents/{incident_id}")
        text = page.page.inner_text("main")
        assert "contained" in text and "Waiting for approval" not in text and "Undo" in text
        page.check("incident-contained")
    finally:
        page.close()


def test_a_reader_sees_no_decision_buttons_and_a_forged_cross_site_post_is_refused(browser, served):
    port, _ = served
    page = Page(browser, port, 1280, who="oid-mallory")  # reader only
    try:
        page.visit("/api/console")
        page.check("incidents-reader")
        assert page.page.locator("button").count() == 0
    finally:
        page.close()
    # another site's form posting with the victim's credentials: no Origin of this app, no token
    context = browser.new_context(extra_http_headers={"X-MS-CLIENT-PRINCIPAL": encode_principal("oid-alice"), "x-functions-key": KEY})
    try:
        response = context.request.post(f"http://127.0.0.1:{port}/api/console/incidents/inc-0/approvals/lock-network",
                                         headers={"Origin": "https://evil.example", "Accept": "application/json"},
                                         form={"decision": "approve"})
        assert response.status == 403 and "evil.example" in response.json()["reason"]
    finally:
        context.close()


def test_release_in_the_browser_unblocks_the_earlier_undo(browser, tmp_path):
    """A later incident's lock-network found the account locked (changed nothing): its page offers Release, which
    restores nothing; the earlier incident's Undo then reopens the account (lifecycle7)."""
    with serve_process(tmp_path / "home", function_key=KEY) as (port, _, _):
        status, first = _call(port, "/api/alerts", body=EXAMPLE.read_bytes(), principal=None)
        assert status == 202, first
        first = {"id": _new_incident(port)}
        assert _wait_for(port, first["id"], {"contained", "needs_responder"})["status"] == "contained"
        status, second = _call(port, "/api/alerts", body=(REPO_ROOT / "examples" / "alerts" / "anomalous-usage.json").read_bytes(),
                               principal=None)
        assert status == 202, second
        second = {"id": _new_incident(port, besides=frozenset({first["id"]}))}
        later = _wait_for(port, second["id"], {"contained", "resolved", "needs_responder"})
        assert [a["changed"] for a in later["actions"] if a["step_id"] == "lock-network"] == [False], later["actions"]

        page = Page(browser, port, 390, who="oid-bob")  # a responder on a phone
        try:
            page.visit(f"/api/console/incidents/{first['id']}")
            with page.page.expect_navigation():
                page.page.click("button.undo >> text=Undo containment")
            assert "Undo containment of" in page.page.inner_text("main")  # it asks first (a page of its own, no script)
            with page.page.expect_navigation():
                page.page.click("button.confirm >> text=Yes, undo containment")
            assert "Relied on" in page.page.inner_text("main") and second["id"] in page.page.inner_text("main")
            page.problems.clear()  # the 409 just read is the refusal asked for

            page.visit(f"/api/console/incidents/{second['id']}")
            page.check("incident-releasable")
            with page.page.expect_navigation():
                page.page.click("button.release >> text=Release lock-network")
            assert "Release lock-network of" in page.page.inner_text("main")  # it asks first (lifecycle8)
            with page.page.expect_navigation():
                page.page.click("button.confirm >> text=Yes, release lock-network")
            assert page.page.url.endswith(f"/api/console/incidents/{second['id']}?done=release"), page.page.inner_text("main")
            text = page.page.inner_text("main")
            assert "Released: nothing was restored" in text and "Release lock-network" not in text

            page.visit(f"/api/console/incidents/{first['id']}")
            with page.page.expect_navigation():
                page.page.click("button.undo >> text=Undo containment")
            with page.page.expect_navigation():
                page.page.click("button.confirm >> text=Yes, undo containment")
            assert page.page.url.endswith(f"/api/console/incidents/{first['id']}?done=undo"), page.page.inner_text("main")
            page.check("incident-undone-after-release")
        finally:
            page.close()
        status, undone = _call(port, f"/api/incidents/{first['id']}")
        assert status == 200 and undone["containment"] in ("undone", "partly undone"), undone


def test_incident_ids_never_fold_mid_id_in_the_list(browser):
    """leftovers11: at 1280 px the list folded incident ids mid-id ("inc-0123456789ab" / "cdef") when the alert column
    was long (every cell may wrap anywhere, for resource ids). An id is one word: its link is one line box, at phone and
    desktop width, and the page is still no wider than the viewport."""
    from firestop.console import pages
    from firestop.trust.principal import Principal

    long_rule = "aoai-leaked-key-usage-from-outside-the-known-egress-range-" * 6
    views = [{"incident_id": f"inc-{n:016x}{'-2' if n % 2 else ''}", "status": "contained", "playbook": {"name": "leaked-api-key"},
              "rule_name": long_rule, "received_at": "2026-11-29T04:00:00+00:00"} for n in range(0x0123456789abcdef, 0x0123456789abcdef + 4)]
    html = pages.incidents_page(views, caller=Principal(object_id="oid-alice", name="alice", roles=frozenset({"reader"})))
    for width in WIDTHS:
        context = browser.new_context(viewport={"width": width, "height": 800})
        try:
            page = context.new_page()
            page.set_content(html)
            lines = page.evaluate("() => [...document.querySelectorAll('table a')].map(a => [a.textContent, a.getClientRects().length])")
            assert lines and all(count == 1 for _, count in lines), (width, lines)
            assert page.evaluate("() => document.documentElement.scrollWidth - window.innerWidth") <= 0, width
        finally:
            context.close()


def test_timeline_time_and_phase_never_fold_mid_word(browser):
    """newuser12: at 1280 px, beside a long detail, the incident page's timeline read "-6167 / .5 s", "pha / se",
    "dete / ct" (every cell may wrap anywhere, for resource ids). The time and the phase are one line each, at phone and
    desktop width, and the page is still no wider than the viewport."""
    from firestop.console import pages
    from firestop.trust.principal import Principal

    detail = ("alert not confirmed at its source: alert not found at its source (Alerts Management answered 404). "
              "Is this alert genuine? One decision for the incident: approve and its steps run ") * 3
    timeline = [{"offset_s": -6167.5, "phase": "detect", "step": "alert fired", "outcome": "ok", "detail": detail},
                {"offset_s": 0.7, "phase": "contain", "step": "alert.genuine", "outcome": "awaiting approval",
                 "target": "/subscriptions/s/resourceGroups/rg/providers/Microsoft.CognitiveServices/accounts/contoso-openai-prod",
                 "detail": detail}]
    view = {"incident_id": "inc-673e56f3b8af1814-g2", "status": "awaiting_approval", "runtime_status": "Running",
            "timeline_so_far": timeline, "metrics": {}}
    html = pages.incident_page(view, caller=Principal(object_id="oid-alice", name="alice", roles=frozenset({"reader"})))
    assert "dete" in html
    for width in WIDTHS:
        context = browser.new_context(viewport={"width": width, "height": 800})
        try:
            page = context.new_page()
            page.set_content(html)
            lines = page.evaluate("""() => [...document.querySelectorAll('table tbody tr')].flatMap(tr =>
                [...tr.children].slice(0, 2).map(td => { const r = document.createRange(); r.selectNodeContents(td);
                return [td.textContent, r.getClientRects().length]; }))""")
            assert lines and all(count == 1 for _, count in lines), (width, lines)
            assert page.evaluate("() => document.documentElement.scrollWidth - window.innerWidth") <= 0, width
        finally:
            context.close()
