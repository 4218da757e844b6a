"""Key runbooks: rotate (with a consumer cut-over) or revoke the Azure OpenAI account keys.

``keys.revoke`` is the emergency variant: regenerate the key in use, then the
other, at once (no cut-over window), and store the new value of the key the
consumers used as a new secret version — taken from the second
``regenerateKey`` response, which carries both live values. Same marker tags
as below, so a second apply is a no-op. A retry after a crash between the two
regenerations regenerates both again (both original values are dead either
way) and then stores the final value.

``keys.rotate`` (REST API: Microsoft.CognitiveServices accounts ``listKeys`` /
``regenerateKey``, body ``{"keyName": "Key1"|"Key2"}``, 2025-09-01 via
azure-mgmt-cognitiveservices 14.1; Key Vault secrets ``setSecret`` 7.5):

1. read both keys and the consumers' Key Vault secret; the key whose value the
   secret holds is *in use*, the other is *spare*;
2. store a *progress marker*: a new version of the secret holding the value
   it already held (consumers see no change), tagged ``firestop-phase=spare``
   with the fingerprints the keys have now;
3. regenerate the spare key and store the value from the regenerate response
   (live even when azure-core sent the POST twice: the last answer is the one
   returned) as a new version of the secret, tagged ``firestop-phase=cut-over``
   — consumers cut over to it;
4. regenerate the key that was in use (the leaked one stops working).

Exactly two regenerations per rotation whatever crash or fault falls between
calls: a retried apply reads the marker and resumes. Marker ``spare`` and the
spare's fingerprint still the marked one → regenerate it; already different
(the regenerate ran, its answer was lost) → take its live value from
``listKeys`` and store it. Marker ``cut-over`` (or a marker of an earlier
version without the phase tag) → regenerate the old key only while its
fingerprint is still the marked one.

Key values go only from the ARM response into Key Vault: states, results and
errors hold SHA-256 fingerprints and secret versions. Idempotency marker: the
stored secret version is tagged with the incident, the step and the account
(``firestop-account``: the account's lower-case resource ID, or ``sha256:`` and
its SHA-256 when longer than a Key Vault tag value may be), and with the
fingerprints the keys had before, so a re-run (after a crash or a retry)
finishes the rotation instead of starting another one — and a step fanned out
over several accounts never takes one account's marker for another's.

Which secret (the consumers' secret of *this* account), first match wins:

1. the step's ``key_vault_url`` / ``secret_name`` (either one; the other from settings);
2. the account's ARM tag ``firestop-key-secret``: the secret's identifier,
   ``https://<vault>.vault.azure.net/secrets/<name>`` (a trailing version is ignored:
   Firestop always writes a new version);
3. the settings ``FIRESTOP_KEY_VAULT_URL`` / ``FIRESTOP_KEY_SECRET_NAME`` — a default
   shared by every account, so it is used only when it is this account's:

Allowed vaults. A key is only ever written to (or read from) an allowed vault:
``FIRESTOP_KEY_VAULT_URL``'s and those of ``FIRESTOP_KEY_VAULT_ALLOWED_URLS``,
whatever names the secret (params, tag or settings). Anyone who may write tags on
the account (Tag Contributor: no ``listKeys`` right) could otherwise point the tag
at a vault of theirs and receive the new live key (red-team RT3-04). Another vault
is refused (``RunbookError('invalid')`` naming where it came from and the fix)
while locating the secret — before any regeneration.

Ownership. Two accounts cannot share one consumers' secret (rotating the second
would overwrite the first's consumers with a key of the wrong account). Every
version Firestop stores carries ``firestop-account``; a secret whose current
version names another account is refused (``RunbookError('invalid')`` naming
the fix). The settings default (3) and a tag-named secret (2) are also refused
when their current version has no ``firestop-account`` tag and holds neither of
this account's keys — unless an earlier attempt of this very step on this
account that got past these checks is on the incident's ledger (a crash between
``keys.revoke``'s regenerations leaves the secret holding a dead key of this
account). A secret named by a tag is never created: absent, it is refused. An
absent secret named by the params or the settings is created.
"""

from __future__ import annotations

import hashlib
import re
from typing import Any
from urllib.parse import urlparse

from msgspec import Struct
from pydantic import BaseModel, ConfigDict

from firestop.azure.errors import RunbookError, map_azure_error
from runbooks.arm import READ_ACCOUNT, get_account
from runbooks.base import Applied, Change, Check, Plan, RunContext, Runbook, Verification, fingerprint
from runbooks.registry import register
from runbooks.targets import ACCOUNT_TYPE, AccountRef, account_ref, vault_url

LIST_KEYS = "Microsoft.CognitiveServices/accounts/listKeys/action"
REGENERATE_KEY = "Microsoft.CognitiveServices/accounts/regenerateKey/action"
GET_SECRET = "Microsoft.KeyVault/vaults/secrets/getSecret/action"
SET_SECRET = "Microsoft.KeyVault/vaults/secrets/setSecret/action"

TAG_INCIDENT = "firestop-incident"
TAG_STEP = "firestop-step"
TAG_KEY = "firestop-key"
TAG_BEFORE = "firestop-before"  # "key1=<fp>,key2=<fp>"
TAG_PREVIOUS = "firestop-previous-version"
TAG_ACCOUNT = "firestop-account"  # the account whose key the version holds (see account_marker)
TAG_PHASE = "firestop-phase"  # keys.rotate progress: "spare" (about to regenerate the spare) | "cut-over"
PHASE_SPARE = "spare"
PHASE_CUT_OVER = "cut-over"
#: ARM tag on the account naming its consumers' secret: https://<vault>.vault.azure.net/secrets/<name>
ACCOUNT_SECRET_TAG = "firestop-key-secret"
_TAG_VALUE_MAX = 256  # Key Vault tag values: at most 256 characters
_SECRET_NAME = re.compile(r"^[0-9A-Za-z-]{1,127}$")
SETTINGS_SOURCE = "settings FIRESTOP_KEY_VAULT_URL/FIRESTOP_KEY_SECRET_NAME"
TAG_SOURCE = f"account tag {ACCOUNT_SECRET_TAG}"


class RotateParams(BaseModel):
    """key_vault_url: vault holding this account's consumers' secret; secret_name: the secret consumers
    read the key from. Default: the account's ``firestop-key-secret`` tag, else FIRESTOP_KEY_VAULT_URL /
    FIRESTOP_KEY_SECRET_NAME (see the module doc). Give them per target: a step acting on several
    accounts with one fixed secret_name is refused for all but the secret's own account. The vault,
    whichever names it, must be FIRESTOP_KEY_VAULT_URL's or on FIRESTOP_KEY_VAULT_ALLOWED_URLS."""

    model_config = ConfigDict(extra="forbid")

    key_vault_url: str | None = None
    secret_name: str | None = None


def _other(key: str) -> str:
    return "key2" if key == "key1" else "key1"


def account_marker(ref: AccountRef) -> str:
    """Value of the ``firestop-account`` tag for ``ref``: its lower-case resource ID, or
    ``sha256:<64 hex>`` of that ID when it is longer than a Key Vault tag value may be (256)."""
    rid = ref.resource_id.lower()
    return rid if len(rid) <= _TAG_VALUE_MAX else "sha256:" + hashlib.sha256(rid.encode("utf-8")).hexdigest()


def parse_secret_id(text: str, *, field: str) -> tuple[str, str]:
    """``https://<vault>.vault.azure.net/secrets/<name>[/<version>]`` → (vault URL, secret name).

    RunbookError('invalid') naming ``field`` and the expected form otherwise.
    """
    parsed = urlparse(str(text).strip())
    parts = [p for p in parsed.path.split("/") if p]
    if len(parts) not in (2, 3) or parts[0].lower() != "secrets" or not _SECRET_NAME.match(parts[1]):
        raise RunbookError(
            "invalid",
            f"{field}: {text!r} is not a Key Vault secret identifier; use https://<vault-name>.vault.azure.net/secrets/<secret-name>",
        )
    return vault_url(f"{parsed.scheme}://{parsed.netloc}", field=field), parts[1]


class SecretLocation(Struct, frozen=True):
    """Where this account's consumers read its key: vault URL, secret name, and where that came from."""

    vault: str
    name: str
    source: str

    @property
    def shared_default(self) -> bool:
        """True for the settings default, which every account without a tag falls back to."""
        return self.source == SETTINGS_SOURCE

    @property
    def tag_named(self) -> bool:
        """True when the account's ``firestop-key-secret`` tag named the secret (anyone with tag write may set it)."""
        return self.source == TAG_SOURCE


def allowed_vaults(settings: Any) -> frozenset[str]:
    """The vault URLs (``https://<name>.vault.azure.net``, lower-case) a key may be written to:
    FIRESTOP_KEY_VAULT_URL's and FIRESTOP_KEY_VAULT_ALLOWED_URLS'."""
    urls = [settings.key_vault_url, *getattr(settings, "key_vault_allowed_urls", ())]
    return frozenset(str(u).strip().rstrip("/").lower() for u in urls if u)


def require_allowed_vault(settings: Any, vault: str, *, source: str) -> str:
    """``vault`` (as :func:`runbooks.targets.vault_url` returns it) when allowed; RunbookError('invalid')
    naming ``source`` (where the vault came from) and the fix otherwise."""
    if vault.lower() in allowed_vaults(settings):
        return vault
    raise RunbookError(
        "invalid",
        f"{source}: {vault!r} is not a vault Firestop may write a key to (allowed: FIRESTOP_KEY_VAULT_URL's vault and "
        "FIRESTOP_KEY_VAULT_ALLOWED_URLS); point it at the consumers' secret in an allowed vault, or add the vault to "
        "FIRESTOP_KEY_VAULT_ALLOWED_URLS if it really is the consumers' — nothing was rotated",
    )


def locate_secret(ctx: RunContext, ref: AccountRef, params: RotateParams) -> SecretLocation:
    """The consumers' secret of ``ref`` (module doc: params, then the account tag, then settings).

    Reads the account (``GET``, for its tags) unless the params name the secret. RunbookError
    ('invalid') for a malformed tag or when no vault is configured anywhere; mapped Azure errors.
    """
    settings = ctx.settings
    if params.key_vault_url or params.secret_name:
        vault = vault_url(params.key_vault_url or settings.key_vault_url)
        require_allowed_vault(settings, vault, source="key_vault_url (step parameters)")
        return SecretLocation(vault, params.secret_name or settings.key_secret_name, "step parameters")
    tags = get_account(ctx, ref).get("tags") or {}
    tagged = next((v for k, v in tags.items() if k.lower() == ACCOUNT_SECRET_TAG), None)  # ARM tag names: case-insensitive
    if tagged:
        field = f"{TAG_SOURCE} of {ref.name}"
        vault, name = parse_secret_id(str(tagged), field=field)
        require_allowed_vault(settings, vault, source=field)
        return SecretLocation(vault, name, TAG_SOURCE)
    if not settings.key_vault_url:
        raise RunbookError(
            "invalid",
            f"key_vault_url: no Key Vault configured for {ref.name}; tag the account {ACCOUNT_SECRET_TAG}="
            "https://<vault-name>.vault.azure.net/secrets/<secret-name>, set FIRESTOP_KEY_VAULT_URL, or give the step's key_vault_url",
        )
    return SecretLocation(vault_url(settings.key_vault_url), settings.key_secret_name, SETTINGS_SOURCE)


class _KeyState:
    """Reads keys and the vault secret, registering every value as a secret of the call."""

    def __init__(self, ctx: RunContext, target: str, params: RotateParams, location: SecretLocation | None = None) -> None:
        self.ctx = ctx
        self.ref: AccountRef = account_ref(target)
        self.accounts = ctx.clients.cognitive_services(self.ref.subscription_id).accounts
        self.location = location or locate_secret(ctx, self.ref, params)
        self.vault = self.location.vault
        self.secret_name = self.location.name
        self.secrets = ctx.clients.secrets(self.vault)
        self.marker = account_marker(self.ref)

    def keys(self) -> dict[str, str]:
        try:
            api_keys = self.accounts.list_keys(self.ref.resource_group, self.ref.name)
        except Exception as exc:  # noqa: BLE001
            raise map_azure_error(exc, permission=LIST_KEYS) from None
        values = {"key1": api_keys.key1 or "", "key2": api_keys.key2 or ""}
        for v in values.values():
            self.ctx.register_secret(v)
        return values

    def regenerate(self, key: str) -> str:
        try:
            api_keys = self.accounts.regenerate_key(self.ref.resource_group, self.ref.name, key_name=key.capitalize())
        except Exception as exc:  # noqa: BLE001
            raise map_azure_error(exc, permission=REGENERATE_KEY) from None
        value = getattr(api_keys, key) or ""
        self.ctx.register_secret(value)
        return value

    def regenerate_both_values(self, key: str) -> dict[str, str]:
        """Regenerate ``key``; both live values as the response carries them (``{"key1", "key2"}``)."""
        try:
            api_keys = self.accounts.regenerate_key(self.ref.resource_group, self.ref.name, key_name=key.capitalize())
        except Exception as exc:  # noqa: BLE001
            raise map_azure_error(exc, permission=REGENERATE_KEY) from None
        values = {"key1": api_keys.key1 or "", "key2": api_keys.key2 or ""}
        for v in values.values():
            self.ctx.register_secret(v)
        return values

    def secret(self) -> tuple[str | None, str | None, dict[str, str]]:
        """(value, version, tags) of the secret's current version; (None, None, {}) when absent."""
        from azure.core.exceptions import ResourceNotFoundError

        try:
            secret = self.secrets.get_secret(self.secret_name)
        except ResourceNotFoundError:
            return None, None, {}
        except Exception as exc:  # noqa: BLE001
            raise map_azure_error(exc, permission=GET_SECRET) from None
        self.ctx.register_secret(secret.value or "")
        return secret.value, secret.properties.version, dict(secret.properties.tags or {})

    def store(self, value: str, tags: dict[str, str]) -> str:
        try:
            stored = self.secrets.set_secret(
                self.secret_name, value, tags={**tags, TAG_ACCOUNT: self.marker}, content_type="text/plain"
            )
        except Exception as exc:  # noqa: BLE001
            raise map_azure_error(exc, permission=SET_SECRET) from None
        return stored.properties.version or ""

    def marked(self, tags: dict[str, str]) -> bool:
        """True when ``tags`` (of the secret's current version) are this incident's, step's and account's marker."""
        return (
            tags.get(TAG_INCIDENT) == self.ctx.incident_id
            and tags.get(TAG_STEP) == self.ctx.step_id
            and tags.get(TAG_ACCOUNT) == self.marker
        )

    def check_owner(self, runbook: str, keys: dict[str, str], secret: tuple) -> None:
        """Refuse (RunbookError('invalid'), naming the fix) a secret that is not this account's (module doc)."""
        value, _, tags = secret
        where = f"{self.vault}/secrets/{self.secret_name} (from the {self.location.source})"
        fix = (
            f"two accounts cannot share one consumers' secret: tag {self.ref.name} with {ACCOUNT_SECRET_TAG}="
            "https://<vault-name>.vault.azure.net/secrets/<its own secret>, or give the secret_name parameter"
        )
        owner = tags.get(TAG_ACCOUNT)
        if owner:
            if owner != self.marker:
                raise RunbookError("invalid", f"{runbook}: the consumers' secret {where} holds the key of another account ({owner}); {fix}")
            return
        if value is None and self.location.tag_named:
            raise RunbookError(
                "invalid",
                f"{runbook}: the consumers' secret {where} does not exist; Firestop never creates a secret named by the "
                f"{ACCOUNT_SECRET_TAG} tag: create it holding {self.ref.name}'s key in use, or fix the tag",
            )
        checked = self.location.shared_default or self.location.tag_named
        if value is None or not checked or value in (keys["key1"], keys["key2"]):
            return
        if self._attempted_before(runbook):
            return  # our own key, made stale by an earlier attempt of this step (e.g. keys.revoke crashed half-way)
        raise RunbookError(
            "invalid",
            f"{runbook}: the consumers' secret {where} holds neither of {self.ref.name}'s keys (it may be another account's); {fix}",
        )

    def _attempted_before(self, runbook: str) -> bool:
        from runbooks.ledger import Ledger

        ledger = Ledger.of(self.ctx.settings)
        try:
            entries = ledger.entries(self.ctx.incident_id)
        except (OSError, ValueError):
            return False
        mine = self.ref.resource_id.lower()
        key = None
        for entry in entries:
            if (entry.get("kind"), entry.get("runbook"), entry.get("action"), entry.get("step_id")) != ("action", runbook, "apply", self.ctx.step_id):
                continue
            key = key or ledger.key()
            if not ledger.sealed(entry, key, on=self.ctx.incident_id):
                continue  # RT13-03: only what Firestop appended on this incident's ledger vouches (a planted or copied one did)
            error = (entry.get("data") or {}).get("error")
            if isinstance(error, dict) and error.get("kind") == "invalid":
                continue  # refused by these very checks: it changed nothing, so it vouches for nothing
            try:
                if account_ref(entry.get("target")).resource_id.lower() == mine:
                    return True
            except RunbookError:
                continue
        return False


def _applied_location(applied: Applied) -> SecretLocation | None:
    """The secret an earlier apply used (from its before-state), for verify to read back the same one."""
    vault, name = applied.before.get("vault"), applied.before.get("secret_name")
    if not (isinstance(vault, str) and isinstance(name, str) and _SECRET_NAME.match(name)):
        return None
    return SecretLocation(vault_url(vault), name, "earlier apply")


def _own_before(ref: AccountRef, applied: Applied) -> Check:
    """The before-state verify compares with must be this account's (never another target's)."""
    account = str(applied.before.get("account") or "")
    return Check(
        name="before-state is this account's",
        ok=account.lower() == ref.resource_id.lower(),
        detail=account or "no account in the before-state",
    )


def _in_use(keys: dict[str, str], secret_value: str | None) -> str:
    if secret_value and secret_value == keys["key2"]:
        return "key2"
    return "key1"


def _encode_before(fps: dict[str, str]) -> str:
    return ",".join(f"{k}={v}" for k, v in sorted(fps.items()))


def _decode_before(text: str) -> dict[str, str]:
    pairs = (p.split("=", 1) for p in text.split(",") if "=" in p)
    return {k: v for k, v in pairs}


class _KeysRunbook(Runbook[RotateParams]):
    """What keys.rotate and keys.revoke share: permissions, target, parameters, the state they record."""

    permissions = (READ_ACCOUNT, LIST_KEYS, REGENERATE_KEY, GET_SECRET, SET_SECRET)
    target_type = ACCOUNT_TYPE
    Params = RotateParams
    reversible = False

    def _state(self, st: _KeyState, keys: dict[str, str], secret: tuple) -> dict[str, Any]:
        value, version, _ = secret
        return {
            "account": st.ref.resource_id,
            "key1": fingerprint(keys["key1"]),
            "key2": fingerprint(keys["key2"]),
            "vault": st.vault,
            "secret_name": st.secret_name,
            "secret_version": version,
            "secret_fingerprint": fingerprint(value) if value else None,
        }


@register
class RotateKeys(_KeysRunbook):
    name = "keys.rotate"
    summary = "Regenerate the spare key, cut consumers over to it in Key Vault, then regenerate the key in use."

    def plan(self, ctx: RunContext, target: str, params: RotateParams) -> Plan:
        st = _KeyState(ctx, target, params)
        keys, secret = st.keys(), st.secret()
        st.check_owner(self.name, keys, secret)
        before = self._state(st, keys, secret)
        where = f"consumers' secret from the {st.location.source}"
        if st.marked(secret[2]):
            done = _decode_before(secret[2].get(TAG_BEFORE, ""))
            if all(before[k] != done.get(k) for k in ("key1", "key2")):
                return Plan(runbook=self.name, target=target, before=before, notes=["rotation already complete for this step", where])
        in_use = _in_use(keys, secret[0])
        spare = _other(in_use)
        return Plan(
            runbook=self.name,
            target=target,
            before=before,
            changes=[
                Change(field=f"keys.{spare.capitalize()}", before=before[spare], after="regenerated"),
                Change(
                    field=f"{st.vault}/secrets/{st.secret_name}",
                    before=before["secret_version"],
                    after=f"new version holding the new {spare.capitalize()}",
                ),
                Change(field=f"keys.{in_use.capitalize()}", before=before[in_use], after="regenerated"),
            ],
            notes=[f"{in_use.capitalize()} is in use by consumers (the secret holds it); {spare.capitalize()} is rotated first", where],
        )

    @staticmethod
    def _marker(ctx: RunContext, new_in_use: str, before: dict[str, Any], phase: str) -> dict[str, str]:
        """Tags of a secret version this step stores: who, which key consumers move to, the keys before, progress."""
        return {
            TAG_INCIDENT: ctx.incident_id,
            TAG_STEP: ctx.step_id,
            TAG_KEY: new_in_use,
            TAG_BEFORE: _encode_before({"key1": before["key1"], "key2": before["key2"]}),
            TAG_PREVIOUS: before["secret_version"] or "",
            TAG_PHASE: phase,
        }

    def apply(self, ctx: RunContext, target: str, params: RotateParams) -> Applied:
        st = _KeyState(ctx, target, params)
        keys, secret = st.keys(), st.secret()
        st.check_owner(self.name, keys, secret)
        value, version, tags = secret
        changed = False
        if st.marked(tags):
            # A previous try of this step on this account got this far; resume from its marker.
            before_fps = _decode_before(tags.get(TAG_BEFORE, ""))
            before = self._state(st, keys, secret) | before_fps | {
                "secret_version": tags.get(TAG_PREVIOUS) or None,
                "secret_fingerprint": None,
            }
            new_in_use = tags.get(TAG_KEY, "key2")
            old_in_use = _other(new_in_use)
        else:
            before = self._state(st, keys, secret)
            old_in_use = _in_use(keys, value)
            new_in_use = _other(old_in_use)
            # Progress marker first: the value consumers already read, tagged "about to regenerate the spare".
            st.store(value if value is not None else keys[old_in_use],
                     self._marker(ctx, new_in_use, before, PHASE_SPARE))
            tags = {TAG_PHASE: PHASE_SPARE}
            changed = True
        if tags.get(TAG_PHASE) == PHASE_SPARE:
            if fingerprint(keys[new_in_use]) == before[new_in_use]:
                # The regenerate response carries the live value even when azure-core sent the POST twice
                # (the second answer is the one returned); it goes straight into Key Vault.
                fresh = st.regenerate(new_in_use)
            else:
                fresh = keys[new_in_use]  # regenerated by the try that crashed: listKeys has its live value
            st.store(fresh, self._marker(ctx, new_in_use, before, PHASE_CUT_OVER))
            keys = st.keys()
            changed = True
        if fingerprint(keys[old_in_use]) == before[old_in_use]:
            st.regenerate(old_in_use)
            keys = st.keys()
            changed = True
        value, version, _ = st.secret()
        after = self._state(st, keys, (value, version, {}))
        summary = (
            f"rotated both keys of {st.ref.name}; consumers cut over to {new_in_use.capitalize()} "
            f"(secret {st.secret_name} version {(version or '')[:8]}…)"
            if changed
            else f"keys of {st.ref.name} already rotated for this step; nothing changed"
        )
        return Applied(
            runbook=self.name,
            target=target,
            changed=changed,
            before=before,
            after=after,
            summary=summary,
            artifacts={"secret_version": version, "key_in_use": new_in_use, "secret_source": st.location.source},
        )

    def verify(self, ctx: RunContext, target: str, params: RotateParams, applied: Applied) -> Verification:
        st = _KeyState(ctx, target, params, _applied_location(applied))
        keys, secret = st.keys(), st.secret()
        now = self._state(st, keys, secret)
        own = _own_before(st.ref, applied)
        checks = [own]
        checks += [
            Check(
                name=f"old {k.capitalize()} revoked",
                ok=own.ok and now[k] != applied.before.get(k),  # another account's fingerprints prove nothing here
                detail=f"{applied.before.get(k)} → {now[k]}",
            )
            for k in ("key1", "key2")
        ]
        # a later rotation (another incident's, or a manual run) may have moved consumers on to the other key: a live
        # key of this account either way, as keys.revoke checks (it said "not verified" for a rotation that held)
        checks.append(
            Check(
                name="consumers' secret holds a live key",
                ok=now["secret_fingerprint"] in (now["key1"], now["key2"]),
                detail=f"secret {st.secret_name} version {now['secret_version']} = {now['secret_fingerprint']}, "
                f"{TAG_ACCOUNT} {secret[2].get(TAG_ACCOUNT)}",
            )
        )
        return Verification(runbook=self.name, target=target, checks=checks)

    def undo(self, ctx: RunContext, target: str, params: RotateParams, applied: Applied) -> Applied:
        raise RunbookError(
            "invalid",
            "keys.rotate cannot be undone: Azure has no API to set a key value, and the old keys are compromised",
        )


@register
class RevokeKeys(_KeysRunbook):
    """Emergency revocation: both keys regenerated back to back; consumers get the new value of the key they used."""

    name = "keys.revoke"
    summary = "Emergency: regenerate both account keys at once and store the new key consumers use in Key Vault."

    def _done(self, st: _KeyState, before: dict[str, Any], tags: dict[str, str]) -> bool:
        """True when this step already revoked on this account: its marker is on the secret and both keys differ from the marked ones."""
        if not st.marked(tags):
            return False
        marked = _decode_before(tags.get(TAG_BEFORE, ""))
        return all(before[k] != marked.get(k) for k in ("key1", "key2"))

    def plan(self, ctx: RunContext, target: str, params: RotateParams) -> Plan:
        st = _KeyState(ctx, target, params)
        keys, secret = st.keys(), st.secret()
        st.check_owner(self.name, keys, secret)
        before = self._state(st, keys, secret)
        where = f"consumers' secret from the {st.location.source}"
        if self._done(st, before, secret[2]):
            return Plan(runbook=self.name, target=target, before=before, notes=["keys already revoked by this step", where])
        in_use = _in_use(keys, secret[0])
        return Plan(
            runbook=self.name,
            target=target,
            before=before,
            changes=[
                Change(field=f"keys.{in_use.capitalize()}", before=before[in_use], after="regenerated"),
                Change(field=f"keys.{_other(in_use).capitalize()}", before=before[_other(in_use)], after="regenerated"),
                Change(
                    field=f"{st.vault}/secrets/{st.secret_name}",
                    before=before["secret_version"],
                    after=f"new version holding the new {in_use.capitalize()}",
                ),
            ],
            notes=["emergency: consumers fail until they read the new secret version (no cut-over window)", where],
        )

    def apply(self, ctx: RunContext, target: str, params: RotateParams) -> Applied:
        st = _KeyState(ctx, target, params)
        keys, secret = st.keys(), st.secret()
        st.check_owner(self.name, keys, secret)
        value, version, tags = secret
        before = self._state(st, keys, secret)
        if self._done(st, before, tags):
            marked = _decode_before(tags.get(TAG_BEFORE, ""))
            return Applied(
                runbook=self.name,
                target=target,
                changed=False,
                before=before | marked,
                after=before,
                summary=f"keys of {st.ref.name} already revoked by this step; nothing changed",
                artifacts={"secret_version": version, "key_in_use": tags.get(TAG_KEY, "key1"), "secret_source": st.location.source},
            )
        in_use = _in_use(keys, value)
        st.regenerate_both_values(in_use)  # the leaked key first
        live = st.regenerate_both_values(_other(in_use))
        version = st.store(
            live[in_use],
            {
                TAG_INCIDENT: ctx.incident_id,
                TAG_STEP: ctx.step_id,
                TAG_KEY: in_use,
                TAG_BEFORE: _encode_before({"key1": before["key1"], "key2": before["key2"]}),
                TAG_PREVIOUS: before["secret_version"] or "",
            },
        )
        value, version, _ = st.secret()
        after = self._state(st, st.keys(), (value, version, {}))
        return Applied(
            runbook=self.name,
            target=target,
            changed=True,
            before=before,
            after=after,
            summary=f"revoked both keys of {st.ref.name}; consumers' secret {st.secret_name} now holds the new {in_use.capitalize()} "
            f"(version {(version or '')[:8]}…)",
            artifacts={"secret_version": version, "key_in_use": in_use, "secret_source": st.location.source},
        )

    def verify(self, ctx: RunContext, target: str, params: RotateParams, applied: Applied) -> Verification:
        st = _KeyState(ctx, target, params, _applied_location(applied))
        keys, secret = st.keys(), st.secret()
        now = self._state(st, keys, secret)
        own = _own_before(st.ref, applied)
        checks = [own]
        checks += [
            Check(name=f"old {k.capitalize()} revoked", ok=own.ok and now[k] != applied.before.get(k),
                  detail=f"{applied.before.get(k)} → {now[k]}")
            for k in ("key1", "key2")
        ]
        # a later rotation may have moved consumers on to the other key (a live key of this account either way)
        live = now["secret_fingerprint"] in (now["key1"], now["key2"])
        checks.append(Check(
            name="consumers' secret holds a live key",
            ok=live,
            detail=f"secret {st.secret_name} version {now['secret_version']} = {now['secret_fingerprint']}, "
            f"{TAG_ACCOUNT} {secret[2].get(TAG_ACCOUNT)}",
        ))
        return Verification(runbook=self.name, target=target, checks=checks)

    def undo(self, ctx: RunContext, target: str, params: RotateParams, applied: Applied) -> Applied:
        raise RunbookError(
            "invalid",
            "keys.revoke cannot be undone: Azure has no API to set a key value, and the old keys are compromised",
        )
