"""Cross-site request forgery defence for the console's POST forms: a same-origin check and an anti-forgery token.

In a browser the console is authenticated by App Service's session cookie (``AppServiceAuthSession``), which
a browser also sends with a form another site submits. So every state-changing console request must pass both:

1. **Same origin.** The ``Origin`` header (browsers send it with every POST, Fetch standard "origin header")
   must equal the app's own origin (:func:`firestop.functions.links.public_origin`); without ``Origin``,
   ``Sec-Fetch-Site`` must be ``same-origin``; with neither the request is refused.
2. **Anti-forgery token**, a hidden form field the console renders for the signed-in caller:
   ``<hour>.<seal>`` where ``seal`` is the app's seal key (:class:`firestop.trust.seal.SealKey`) over purpose
   ``console-csrf``, binding ``<object id>`` and the issue hour (Unix hours). It is accepted for
   :data:`TOKEN_HOURS` hours, only for the same object ID: another site cannot read it (same-origin policy),
   and a token of one responder is useless to another.

:func:`check_post` raises :class:`CsrfError` (answered 403) naming which check failed.
"""

from __future__ import annotations

import hashlib
import time
from typing import Any, Mapping

PURPOSE = "console-csrf"
#: A token is accepted for this many hours after the hour it was issued in.
TOKEN_HOURS = 12
MAX_TOKEN_CHARS = 128
FIELD = "csrf"


class CsrfError(ValueError):
    """A console POST that may come from another site; ``reason`` says which check failed."""


def _digest(hour: int) -> str:
    return hashlib.sha256(f"{PURPOSE}\n{hour}".encode()).hexdigest()


def issue(key: Any, object_id: str, *, now: float | None = None) -> str:
    """The anti-forgery token for ``object_id`` (``key``: a :class:`~firestop.trust.seal.SealKey`)."""
    hour = int((time.time() if now is None else now) // 3600)
    return f"{hour}.{key.sign(PURPOSE, object_id, _digest(hour))}"


def _header(headers: Mapping[str, str], name: str) -> str | None:
    return next((v for k, v in headers.items() if k.lower() == name.lower()), None)


def check_post(headers: Mapping[str, str], token: Any, *, key: Any, object_id: str, origin: str,
               now: float | None = None) -> None:
    """Pass, or raise :class:`CsrfError` (module docstring). ``origin``: the app's ``scheme://host[:port]``."""
    sent_origin = _header(headers, "Origin")
    if sent_origin is not None:
        if sent_origin.strip().rstrip("/").lower() != origin.rstrip("/").lower():
            raise CsrfError(f"Origin {sent_origin[:100]!r} is not this app ({origin})")
    elif (_header(headers, "Sec-Fetch-Site") or "").strip().lower() != "same-origin":
        raise CsrfError("neither Origin nor Sec-Fetch-Site: same-origin was sent")
    if not isinstance(token, str) or not token or len(token) > MAX_TOKEN_CHARS or "." not in token:
        raise CsrfError("no anti-forgery token (reload the page and submit again)")
    hour_text, _, seal = token.partition(".")
    if not (hour_text.isascii() and hour_text.isdigit()):  # str.isdigit() takes '²', which int() refuses (RT10-01)
        raise CsrfError("malformed anti-forgery token")
    hour, current = int(hour_text), int((time.time() if now is None else now) // 3600)
    if not current - TOKEN_HOURS <= hour <= current:
        raise CsrfError("the anti-forgery token has expired (reload the page and submit again)")
    ok, _ = key.check(PURPOSE, object_id, _digest(hour), seal)
    if not ok:
        raise CsrfError("the anti-forgery token was not issued to this caller by this app")
