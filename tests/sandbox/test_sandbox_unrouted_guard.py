"""The suite-wide guard in ``tests/conftest.py``: a test whose SDK calls reach no sandbox route fails.

The guard is exercised on a throw-away test file run by a child pytest that
loads the real ``tests/conftest.py``, so what is checked is the hook the whole
suite runs under.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from firestop.sandbox.tenant import UNROUTED_JOURNAL_ENV, read_unrouted_journal

REPO_ROOT = Path(__file__).resolve().parents[2]

INNER_TESTS = '''
import subprocess, sys
import pytest
from azure.core import PipelineClient
from azure.core.rest import HttpRequest
from azure.mgmt.cognitiveservices import CognitiveServicesManagementClient
from firestop.sandbox import Tenant

SUB = "11111111-2222-3333-4444-555555555555"
ST = f"https://management.azure.com/subscriptions/{SUB}/providers/Microsoft.Storage/storageAccounts?api-version=2023-01-01"

def test_routed_calls_pass():
    tenant = Tenant.load()
    cs = CognitiveServicesManagementClient(tenant.credential, SUB, transport=tenant.transport)
    assert cs.accounts.get("rg-ai-prod", "contoso-openai-prod").name == "contoso-openai-prod"

def test_unrouted_call_fails_even_if_the_test_swallows_the_501():
    tenant = Tenant.load()
    client = PipelineClient(base_url="https://management.azure.com", transport=tenant.transport)
    assert client.send_request(HttpRequest("GET", ST)).status_code == 501

@pytest.mark.sandbox_unrouted
def test_marked_test_may_hit_unknown_routes():
    tenant = Tenant.load()
    client = PipelineClient(base_url="https://management.azure.com", transport=tenant.transport)
    assert client.send_request(HttpRequest("GET", ST)).status_code == 501

@pytest.fixture
def tenant_used_in_setup():
    tenant = Tenant.load()
    client = PipelineClient(base_url="https://x.invalid", transport=tenant.transport)
    client.send_request(HttpRequest("GET", "https://x.invalid/from-a-fixture"))
    return tenant

def test_unrouted_call_in_a_fixture_fails_the_test(tenant_used_in_setup):
    pass

def test_unrouted_call_in_a_subprocess_fails_the_test():
    code = (
        "from azure.core import PipelineClient; from azure.core.rest import HttpRequest; "
        "from firestop.sandbox import Tenant; t = Tenant.load(); "
        "PipelineClient(base_url='https://y.invalid', transport=t.transport).send_request(HttpRequest('GET', 'https://y.invalid/child'))"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
'''


def test_guard_fails_exactly_the_tests_that_hit_unknown_routes(tmp_path):
    (tmp_path / "conftest.py").write_text((REPO_ROOT / "tests" / "conftest.py").read_text(encoding="utf-8"), encoding="utf-8")
    (tmp_path / "test_inner.py").write_text(textwrap.dedent(INNER_TESTS), encoding="utf-8")
    (tmp_path / "pytest.ini").write_text("[pytest]\naddopts = -p no:anyio -p no:benchmark\n", encoding="utf-8")  # as ours: unused plugins
    env = {k: v for k, v in os.environ.items() if k != UNROUTED_JOURNAL_ENV}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO_ROOT), env.get("PYTHONPATH")]))
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-rA", "-p", "no:cacheprovider", "test_inner.py"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120,
    )
    out = proc.stdout
    assert proc.returncode == 1, out + proc.stderr
    assert "PASSED test_inner.py::test_routed_calls_pass" in out
    assert "PASSED test_inner.py::test_marked_test_may_hit_unknown_routes" in out
    for name in (
        "test_unrouted_call_fails_even_if_the_test_swallows_the_501",
        "test_unrouted_call_in_a_fixture_fails_the_test",
        "test_unrouted_call_in_a_subprocess_fails_the_test",
    ):
        assert f"FAILED test_inner.py::{name}" in out, out
    assert "GET https://management.azure.com/subscriptions/11111111-2222-3333-4444-555555555555/providers/Microsoft.Storage/storageAccounts" in out
    assert "https://y.invalid/child" in out and "https://x.invalid/from-a-fixture" in out
    assert "3 failed, 2 passed" in out


@pytest.mark.sandbox_unrouted
def test_journal_lines_are_the_request_log_entries(tenant, tmp_path, monkeypatch):
    from azure.core import PipelineClient
    from azure.core.rest import HttpRequest

    journal = tmp_path / "unrouted.jsonl"
    monkeypatch.setenv(UNROUTED_JOURNAL_ENV, str(journal))
    client = PipelineClient(base_url="https://example.invalid", transport=tenant.transport)
    client.send_request(HttpRequest("PUT", "https://example.invalid/a?api-version=1"))
    [line] = read_unrouted_journal(journal)
    [entry] = tenant.unrouted
    assert (line["method"], line["host"], line["path"], line["api_version"], line["status"]) == (
        entry.method, entry.host, entry.path, entry.api_version, 501)
    assert line["reason"] == "no route"
    assert read_unrouted_journal(tmp_path / "missing.jsonl") == []
