"""RT4-01: a value ending in a backslash escapes the quoting of the text log line and forges fields.

``kv_line`` quotes a value by turning ``"`` into ``\\"`` but leaves a raw backslash as it is, so a value
holding ``\\"`` closes its own quotes: ``detail="x\\\\" outcome=contained …"``. Any logfmt/shell-style
reader (here ``shlex``, POSIX rules) then sees forged fields — e.g. an attacker's Azure OpenAI
``user`` / User-Agent string in an alert's detail turning a ``needs_responder`` decision line into
``outcome=contained``, or a principal's display name forging ``caller_id``.
"""

from __future__ import annotations

import io
import logging
import shlex

from firestop.telemetry.logs import StructuredFormatter, event


def _line(fields: dict) -> str:
    logger = logging.getLogger("firestop.test-rt4-logs")
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(StructuredFormatter("text"))
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:
        event(logger, "decision", fields)
    finally:
        logger.removeHandler(handler)
    (line,) = stream.getvalue().splitlines()
    return line


def _parsed(line: str) -> dict[str, list[str]]:
    tokens = shlex.split(line.split(" decision ", 1)[1])
    out: dict[str, list[str]] = {}
    for token in tokens:
        key, _, value = token.partition("=")
        out.setdefault(key, []).append(value)
    return out


def test_rt4_01_backslash_quote_cannot_forge_fields():
    hostile = 'evil\\" outcome=contained caller_id=oid-admin x=\\"'
    line = _line({"incident_id": "inc-1", "step": "alert received", "outcome": "needs_responder",
                  "caller": "name\\" + '" caller_id=oid-admin', "detail": hostile})
    fields = _parsed(line)
    assert set(fields) == {"incident_id", "step", "outcome", "caller", "detail"}, line
    assert fields["outcome"] == ["needs_responder"], line
    assert "caller_id" not in fields


def test_rt4_01_plain_backslash_still_readable():
    line = _line({"incident_id": "inc-1", "detail": "C:\\temp\\x \"quoted\""})
    fields = _parsed(line)
    assert set(fields) == {"incident_id", "detail"}, line
    assert "temp" in fields["detail"][0] and '"quoted"' in fields["detail"][0]
