"""Redaction for text that leaves Firestop for people (chat messages): secrets out, facts in.

:func:`redact` replaces, in order: every value registered with the run
(``RunContext.register_secret`` — exact matches), then anything shaped like a
credential — ``AccountKey=…``/``SharedAccessSignature=…``/``sig=…``/``api-key=…``/
``password=…``/``secret=…``/``token=…`` values, ``Bearer`` tokens, JWTs
(``eyJ….….…``), Azure AI services keys (32 hex digits, or 84 letters/digits for
newer keys) and Slack/Teams incoming-webhook URLs — with ``[redacted]``.
Fingerprints (``sha256:`` + 12 hex), SHA-256 digests (64 hex), GUIDs and
resource IDs are left alone.
"""

from __future__ import annotations

import re
from typing import Any, Iterable

REDACTED = "[redacted]"
_PATTERNS: list[tuple[re.Pattern, str]] = [
    (re.compile(r"(?i)\b(AccountKey|SharedAccessKey|SharedAccessSignature|sig|api[-_]?key|password|pwd|client[-_]?secret|secret|token)"
                r"(\s*[=:]\s*)([^;&\s\"',]+)"), r"\1\2" + REDACTED),
    (re.compile(r"(?i)\bbearer\s+[A-Za-z0-9\-._~+/]+=*"), "Bearer " + REDACTED),
    (re.compile(r"\beyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*"), REDACTED),
    (re.compile(r"https://hooks\.slack\.com/\S+|https://[\w.-]+\.webhook\.office\.com/\S+|https://[\w.-]+\.logic\.azure\.com\S*"), REDACTED),
    (re.compile(r"(?<![0-9A-Za-z:])[0-9a-fA-F]{32}(?![0-9A-Za-z])"), REDACTED),
    (re.compile(r"(?<![0-9A-Za-z])[A-Za-z0-9]{84}(?![0-9A-Za-z])"), REDACTED),
]


def redact(text: str, secrets: Iterable[str] = ()) -> str:
    """``text`` with registered ``secrets`` and credential-shaped substrings replaced by ``[redacted]``."""
    for value in sorted((s for s in secrets if s), key=len, reverse=True):
        text = text.replace(value, REDACTED)
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return text


def redact_json(value: Any, secrets: Iterable[str] = ()) -> Any:
    """:func:`redact` applied to every string in a JSON-like value (keys too)."""
    secrets = tuple(secrets)
    if isinstance(value, str):
        return redact(value, secrets)
    if isinstance(value, dict):
        return {redact(str(k), secrets): redact_json(v, secrets) for k, v in value.items()}
    if isinstance(value, list):
        return [redact_json(v, secrets) for v in value]
    return value
