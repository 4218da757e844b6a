"""Helpers for the fidelity tests: a recording transport and a shape comparison.

The corpus files under ``data/corpus/`` are copies of ``../shared/corpus``
(same relative paths; ``test_sandbox_fidelity.py`` checks they are still
identical when the shared corpus is present).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional

from azure.core.pipeline.transport import HttpTransport

CORPUS = Path(__file__).with_name("data") / "corpus"
#: The headers of an LRO answer the fidelity tests compare (presence, and URL shape when present).
LRO_HEADERS = ("Azure-AsyncOperation", "Location", "Retry-After")
_GUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")


def load(relative: str) -> dict:
    return json.loads((CORPUS / relative).read_text(encoding="utf-8"))


@dataclass
class Exchange:
    """One request the SDK sent and the answer it got, as plain data."""

    method: str
    url: str
    status: int
    headers: dict[str, str]  # lower-case names
    body: Any

    def header(self, name: str) -> Optional[str]:
        return self.headers.get(name.lower())


class RecordingTransport(HttpTransport):
    """Wraps a sandbox transport and keeps every exchange; sleeping is delegated (virtual clock)."""

    def __init__(self, inner: HttpTransport) -> None:
        self.inner = inner
        self.exchanges: list[Exchange] = []

    def send(self, request, **kwargs):
        response = self.inner.send(request, **kwargs)
        raw = response.content if hasattr(response, "content") else response.body()
        body = json.loads(raw) if raw else None
        headers = {k.lower(): v for k, v in response.headers.items()}
        self.exchanges.append(Exchange(request.method, request.url, response.status_code, headers, body))
        return response

    def sleep(self, duration: float) -> None:
        self.inner.sleep(duration)

    def open(self) -> None:
        pass

    def close(self) -> None:
        pass

    def __enter__(self):
        return self

    def __exit__(self, *args) -> None:
        pass

    def take(self) -> list[Exchange]:
        """The exchanges since the last ``take``."""
        out, self.exchanges = self.exchanges, []
        return out


def url_shape(url: str, *, keep_api_version: bool = True, keep_location: bool = True) -> str:
    """``url`` with GUIDs (and optionally the api-version / ARM location segment) replaced by placeholders."""
    shape = _GUID.sub("{guid}", url)
    if not keep_api_version:
        shape = re.sub(r"api-version=[^&]+", "api-version={v}", shape)
    if not keep_location:
        shape = re.sub(r"/locations/[^/]+/", "/locations/{loc}/", shape)
    return shape


def _kind(value: Any) -> str:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    return "null"


def shape_problems(expected: Any, actual: Any, path: str = "$") -> list[str]:
    """Where ``actual`` lacks a member of ``expected`` or has another JSON type there ("" list = same shape).

    Values may differ; ``actual`` may have more members; ``null`` in ``expected``
    matches anything. Arrays: each actual item must have the members present in
    *every* expected item, with the types the expected items show.
    """
    if expected is None:
        return []
    if _kind(expected) != _kind(actual):
        return [f"{path}: expected {_kind(expected)}, got {_kind(actual)}"]
    problems: list[str] = []
    if isinstance(expected, dict):
        for key, value in expected.items():
            if key not in actual:
                problems.append(f"{path}.{key}: missing")
            else:
                problems += shape_problems(value, actual[key], f"{path}.{key}")
    elif isinstance(expected, list) and expected and actual:
        if all(isinstance(e, dict) for e in expected):
            exemplar: dict = {}
            for item in expected:
                for key, value in item.items():
                    exemplar.setdefault(key, value)
            required = set.intersection(*(set(e) for e in expected))
            for i, item in enumerate(actual):
                if not isinstance(item, dict):
                    problems.append(f"{path}[{i}]: expected object, got {_kind(item)}")
                    continue
                problems += [f"{path}[{i}].{k}: missing" for k in sorted(required - set(item))]
                for key in set(exemplar) & set(item):
                    problems += shape_problems(exemplar[key], item[key], f"{path}[{i}].{key}")
        else:
            for i, item in enumerate(actual):
                problems += shape_problems(expected[0], item, f"{path}[{i}]")
    return problems


def lro_header_problems(recorded: dict, got: Exchange, **shape_kw: Any) -> list[str]:
    """Presence of each LRO header must agree; URLs must have the same shape."""
    rec = {k.lower(): v for k, v in (recorded or {}).items()}
    problems = []
    for name in LRO_HEADERS:
        want, have = rec.get(name.lower()), got.header(name)
        if (want is None) != (have is None):
            problems.append(f"{name}: recorded {'present' if want else 'absent'}, sandbox {'present' if have else 'absent'}")
        elif want is not None and name != "Retry-After" and url_shape(want, **shape_kw) != url_shape(have, **shape_kw):
            problems.append(f"{name}: recorded shape {url_shape(want, **shape_kw)!r}, sandbox {url_shape(have, **shape_kw)!r}")
    return problems
