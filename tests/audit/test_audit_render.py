"""Reports keep their structure whatever the tenant's names contain (a twin or a real tenant names things)."""

from __future__ import annotations

from datetime import datetime, timezone

from firestop.audit.models import Area, Audit, Evidence, Result, Severity, Status
from firestop.audit.render import render_html, render_markdown

HOSTILE = "x<img src=x onerror=alert(1)>|\n# heading [link](javascript:alert(1))"


def _audit() -> Audit:
    result = Result(control="api.content-filter", title="A content filter (RAI policy) on every deployment", area=Area.API,
                    severity=Severity.MEDIUM, resource="/subscriptions/s/resourceGroups/rg/providers/Microsoft.CognitiveServices/accounts/a",
                    resource_name=HOSTILE, status=Status.FAIL, detail=f"1 deployment(s) without a content filter: {HOSTILE}",
                    evidence=(Evidence(read="deployments.list properties.raiPolicyName", value={HOSTILE: None}),), fix="fix it")
    return Audit(audit_id="audit-20261129T031440Z-abcd", at=datetime(2026, 11, 29, 3, 14, 40, tzinfo=timezone.utc),
                 scope=("/subscriptions/s",), results=(result,))


def test_markdown_keeps_one_row_and_no_live_markup():
    import re

    md = render_markdown(_audit())
    rows = [line for line in md.splitlines() if line.startswith("| ❌")]
    assert len(rows) == 1 and len(re.findall(r"(?<!\\)\|", rows[0])) == 7  # six cells: no pipe of the value splits one
    assert not any(line.startswith("# heading") for line in md.splitlines())
    outside_code = re.sub(r"`[^`]*`", "", rows[0])
    assert "<img" not in outside_code.replace("\\<img", "") and "](javascript" not in outside_code.replace("\\](", "")


def test_html_escapes_everything_and_runs_nothing():
    page = render_html(_audit())
    assert "<img" not in page and "&lt;img src=x onerror=alert(1)&gt;" in page
    assert "<script" not in page and "default-src 'none'" in page
