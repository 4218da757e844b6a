"""The alerts key's digest: what lets the audit tell whether Firestop's action group sends the right ``?code=``.

``POST /api/alerts`` is opened by the host function key ``actiongroup`` (``infra/azuredeploy.json``: the action
group's ``serviceUri`` is ``https://<app>/api/alerts?code=<alertsFunctionKey>``). The app cannot read its own function
keys (``Microsoft.Web/sites/host/listkeys`` is an ARM *action* on the Function App, "Web Apps - List Host Keys", REST
2023-12-01, that neither the app's identity nor the audit's read-only role holds), so a wrong ``code`` in the action
group — a typo, a key rotated in the portal and not in the group, a group edited by someone who can write it — went
unnoticed until the first alert was answered 401, which Azure Monitor does not retry.

The deployment knows the key (it sets it), so it also writes its **digest** as the app setting
``FIRESTOP_ALERTS_KEY_DIGEST``: a seal (:class:`firestop.trust.seal.SealKey`, HMAC-SHA256 with the app's seal key)
of the key's SHA-256 for purpose :attr:`~firestop.seal_contract.Purpose.ALERTS_KEY`, bound to the key's name
``actiongroup`` — ``v1.<seal key id>.<MAC>``, 55 characters. It is not the key and tells nothing of it without the
seal key (which never leaves the app and its vault). The audit (``monitoring.webhook-key``,
:mod:`firestop.audit.controls.monitoring`) reads the action groups with its read role — a GET returns the
receiver's ``serviceUri`` as stored, ``code`` included (``WebhookReceiver.serviceUri``: a plain required string,
neither ``readOnly`` nor ``x-ms-secret``, actionGroups_API.json 2023-01-01) — and compares the digest of each
``code`` posting to Firestop with the setting. The key itself never goes into a result, a log line or a record:
only the receiver's name and the verdict.

Shapes: :func:`alerts_key_digest` ``(code, *, key) -> str``; :func:`compare` ``(code, digest, *, key) ->``
:class:`KeyMatch`; :func:`digest_problem` ``(value) -> str | None`` (why a setting is not a digest).
"""

from __future__ import annotations

import hashlib
from enum import StrEnum
from typing import Any

from firestop.seal_contract import Purpose
from firestop.trust.seal import SealKey, ring_keys

SETTING = "FIRESTOP_ALERTS_KEY_DIGEST"
#: The host key's name in infra/azuredeploy.json (``az functionapp keys set --key-type functionKeys --key-name``).
KEY_NAME = "actiongroup"


class KeyMatch(StrEnum):
    """What :func:`compare` found."""

    MATCHES = "matches"  # the code is the key the deployment set
    DIFFERS = "differs"  # another code: every delivery is answered 401 (or it is a key the deployment did not set)
    OTHER_SEAL_KEY = "other seal key"  # the digest was made under another seal key (rotated since): cannot tell
    NO_CODE = "no code"  # the URI carries no code


def _key_digest(code: str) -> str:
    return hashlib.sha256(code.encode("utf-8", "surrogatepass")).hexdigest()


def alerts_key_digest(code: str, *, key: SealKey) -> str:
    """``FIRESTOP_ALERTS_KEY_DIGEST``'s value for function key ``code`` under seal key ``key`` (module docstring)."""
    return key.sign(Purpose.ALERTS_KEY, KEY_NAME, _key_digest(code))


def digest_problem(value: Any) -> str | None:
    """Why ``value`` is not a digest :func:`alerts_key_digest` makes (None: it is of that form). A Key Vault reference
    App Service could not resolve stays the reference text (the setting is then ``@Microsoft.KeyVault(...)``)."""
    if not isinstance(value, str) or not value.strip():
        return f"{SETTING} is not set"
    value = value.strip()
    if value.startswith("@Microsoft.KeyVault("):
        return f"{SETTING} is an unresolved Key Vault reference (the secret firestop-alerts-key-digest is missing or unreadable)"
    parts = value.split(".")
    if len(parts) != 3 or parts[0] != "v1" or len(parts[1]) != 8 or not 40 <= len(parts[2]) <= 48:
        return f"{SETTING} is not a digest of the form v1.<key id>.<MAC>"
    return None


def compare(code: str | None, digest: str, *, key: SealKey) -> KeyMatch:
    """Is ``code`` (the ``code`` query parameter of a webhook URI) the key ``digest`` was made for?"""
    if not code:
        return KeyMatch.NO_CODE
    kid = digest.strip().split(".")[1] if digest.count(".") == 2 else ""
    if kid not in {k.kid for k in ring_keys(key)}:  # a retired key of the ring still tells (seal17)
        return KeyMatch.OTHER_SEAL_KEY
    ok, _ = key.check(Purpose.ALERTS_KEY, KEY_NAME, _key_digest(code), digest.strip())
    return KeyMatch.MATCHES if ok else KeyMatch.DIFFERS
