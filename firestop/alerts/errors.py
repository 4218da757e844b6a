"""The one error type ``parse_alert`` raises: :class:`AlertPayloadError`.

Every rejection names the offending field (dotted path into the webhook body,
``$`` for the body itself), says why, says what to do, and carries the HTTP
status the webhook handler should answer with:

* 400 — the body is not JSON (the reason gives line and column), is not a JSON
  object, or uses a non-common (legacy) alert schema;
* 413 — the body is larger than 256 KB (262,144 bytes), the documented upper
  size of a common-schema alert payload (``action-groups.md`` /
  ``includes/azure-monitor-limits-action-groups.md``);
* 422 — the body is JSON but not a valid common-schema alert (missing or
  invalid field).

It never carries raw pydantic ``ValidationError`` text or a traceback.
"""

from __future__ import annotations

from typing import Any

__all__ = ["AlertPayloadError"]


def _clean(text: str) -> str:
    return " ".join(str(text).split()).rstrip(".")


class AlertPayloadError(ValueError):
    """The webhook body is not an alert Firestop can accept.

    Attributes:
        field: dotted path of the offending field, e.g.
            ``"data.essentials.alertId"``, or ``"$"`` for the whole body.
        reason: what is wrong (no trailing period).
        fix: one sentence telling the sender what to do.
        http_status: 400, 413 or 422 (see the module docstring).
        position: where malformed JSON stops parsing, as
            ``{"line": int, "column": int, "offset": int}`` (1-based line and
            column, 0-based character offset into the decoded text), else None.

    ``str(err)`` is ``"<field>: <reason>. Fix: <fix>"``.
    """

    def __init__(
        self,
        field: str,
        reason: str,
        fix: str,
        http_status: int = 422,
        position: dict[str, int] | None = None,
    ) -> None:
        self.field = field
        self.reason = _clean(reason)
        self.fix = " ".join(str(fix).split())
        self.http_status = int(http_status)
        self.position = dict(position) if position is not None else None
        super().__init__(f"{self.field}: {self.reason}. Fix: {self.fix}")

    def __reduce__(self) -> tuple[Any, ...]:
        # Keep the structured attributes across pickling (e.g. process pools).
        return (type(self), (self.field, self.reason, self.fix, self.http_status, self.position))

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready problem body: ``{"status", "field", "reason", "fix", "message"}``
        plus ``"position"`` when the body is malformed JSON."""
        out: dict[str, Any] = {
            "status": self.http_status,
            "field": self.field,
            "reason": self.reason,
            "fix": self.fix,
            "message": str(self),
        }
        if self.position is not None:
            out["position"] = dict(self.position)
        return out
