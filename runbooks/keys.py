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
2. regenerate the spare key and store the value from the regenerate response
   (live even when azure-core sent the POST twice: the last answer is the one
   returned) as a new version of the secret — consumers cut over to it;
3. regenerate the key that was in use (the leaked one stops working).

Key values go only from the ARM response into Key Vault: states, results and
errors hold SHA-256 fingerprints and secret versions. Idempotency marker: the
stored secret version is tagged with the incident and step, and with the
fingerprints the keys had before, so a re-run (after a crash or a retry)
finishes the rotation instead of starting another one.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict

from firestop.azure.errors import RunbookError, map_azure_error
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


class RotateParams(BaseModel):
    """key_vault_url: vault holding the consumers' secret (default FIRESTOP_KEY_VAULT_URL);
    secret_name: the secret consumers read the key from (default FIRESTOP_KEY_SECRET_NAME)."""

    model_config = ConfigDict(extra="forbid")

    key_vault_url: str | None = None
    secret_name: str | None = None


def _other(key: str) -> str:
    return "key2" if key == "key1" else "key1"


class _KeyState:
    """Reads keys and the vault secret, registering every value as a secret of the call."""

    def __init__(self, ctx: RunContext, target: str, params: RotateParams) -> None:
        self.ctx = ctx
        self.ref: AccountRef = account_ref(target)
        self.vault = vault_url(params.key_vault_url or ctx.settings.key_vault_url)
        self.secret_name = params.secret_name or ctx.settings.key_secret_name
        self.accounts = ctx.clients.cognitive_services(self.ref.subscription_id).accounts
        self.secrets = ctx.clients.secrets(self.vault)

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
            stored = self.secrets.set_secret(self.secret_name, value, tags=tags, content_type="text/plain")
        except Exception as exc:  # noqa: BLE001
            raise map_azure_error(exc, permission=SET_SECRET) from None
        return stored.properties.version or ""


def _in_use(keys: dict[str, str], secret_value: str | None) -> str:
    if secret_value and secret_value == keys["key2"]:
        return "key2"
    return "key1"


def _encode_before(fps: dict[str, str]) -> str:
    return ",".join(f"{k}={v}" for k, v in sorted(fps.items()))


def _decode_before(text: str) -> dict[str, str]:
    pairs = (p.split("=", 1) for p in text.split(",") if "=" in p)
    return {k: v for k, v in pairs}


@register
class RotateKeys(Runbook[RotateParams]):
    name = "keys.rotate"
    summary = "Regenerate the spare key, cut consumers over to it in Key Vault, then regenerate the key in use."
    permissions = (LIST_KEYS, REGENERATE_KEY, GET_SECRET, SET_SECRET)
    target_type = ACCOUNT_TYPE
    Params = RotateParams
    reversible = False

    def _marker(self, ctx: RunContext, tags: dict[str, str]) -> bool:
        return tags.get(TAG_INCIDENT) == ctx.incident_id and tags.get(TAG_STEP) == ctx.step_id

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

    def plan(self, ctx: RunContext, target: str, params: RotateParams) -> Plan:
        st = _KeyState(ctx, target, params)
        keys, secret = st.keys(), st.secret()
        before = self._state(st, keys, secret)
        if self._marker(ctx, secret[2]):
            done = _decode_before(secret[2].get(TAG_BEFORE, ""))
            if all(before[k] != done.get(k) for k in ("key1", "key2")):
                return Plan(runbook=self.name, target=target, before=before, notes=["rotation already complete for this step"])
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
            notes=[f"{in_use.capitalize()} is in use by consumers (the secret holds it); {spare.capitalize()} is rotated first"],
        )

    def apply(self, ctx: RunContext, target: str, params: RotateParams) -> Applied:
        st = _KeyState(ctx, target, params)
        keys, secret = st.keys(), st.secret()
        value, version, tags = secret
        changed = False
        if self._marker(ctx, tags):
            # A previous try of this step already cut consumers over; finish from there.
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
            # The regenerate response carries the live value even when azure-core sent the POST twice
            # (the second answer is the one returned); it goes straight into Key Vault.
            fresh = st.regenerate(new_in_use)
            keys = st.keys()
            version = st.store(
                fresh,
                {
                    TAG_INCIDENT: ctx.incident_id,
                    TAG_STEP: ctx.step_id,
                    TAG_KEY: new_in_use,
                    TAG_BEFORE: _encode_before({"key1": before["key1"], "key2": before["key2"]}),
                    TAG_PREVIOUS: before["secret_version"] or "",
                },
            )
            changed = True
        if fingerprint(keys[old_in_use]) == before[old_in_use]:
            st.regenerate(old_in_use)
            keys = st.keys()
            changed = True
        value, version, _ = st.secret()
        after = self._state(st, keys, (value, version, {}))
        summary = (
            f"rotated both keys; consumers cut over to {new_in_use.capitalize()} "
            f"(secret {st.secret_name} version {(version or '')[:8]}…)"
            if changed
            else "keys already rotated for this step; nothing changed"
        )
        return Applied(
            runbook=self.name,
            target=target,
            changed=changed,
            before=before,
            after=after,
            summary=summary,
            artifacts={"secret_version": version, "key_in_use": new_in_use},
        )

    def verify(self, ctx: RunContext, target: str, params: RotateParams, applied: Applied) -> Verification:
        st = _KeyState(ctx, target, params)
        keys, secret = st.keys(), st.secret()
        now = self._state(st, keys, secret)
        in_use = applied.artifacts.get("key_in_use", "key2")
        checks = [
            Check(
                name=f"old {k.capitalize()} revoked",
                ok=now[k] != applied.before.get(k),
                detail=f"{applied.before.get(k)} → {now[k]}",
            )
            for k in ("key1", "key2")
        ]
        checks.append(
            Check(
                name="consumers' secret holds a live key",
                ok=now["secret_fingerprint"] == now[in_use],
                detail=f"secret {st.secret_name} version {now['secret_version']} = {now['secret_fingerprint']}",
            )
        )
        return Verification(runbook=self.name, target=target, checks=checks)

    def undo(self, ctx: RunContext, target: str, params: RotateParams, applied: Applied) -> Applied:
        raise RunbookError(
            "invalid",
            "keys.rotate cannot be undone: Azure has no API to set a key value, and the old keys are compromised",
        )


@register
class RevokeKeys(Runbook[RotateParams]):
    """Emergency revocation: both keys regenerated back to back; consumers get the new value of the key they used."""

    name = "keys.revoke"
    summary = "Emergency: regenerate both account keys at once and store the new key consumers use in Key Vault."
    permissions = (LIST_KEYS, REGENERATE_KEY, GET_SECRET, SET_SECRET)
    target_type = ACCOUNT_TYPE
    Params = RotateParams
    reversible = False

    def _state(self, st: _KeyState, keys: dict[str, str], secret: tuple) -> dict[str, Any]:
        return RotateKeys._state(self, st, keys, secret)  # type: ignore[arg-type]

    def _done(self, ctx: RunContext, before: dict[str, Any], tags: dict[str, str]) -> bool:
        """True when this step already revoked: its marker is on the secret and both keys differ from the marked ones."""
        if not (tags.get(TAG_INCIDENT) == ctx.incident_id and tags.get(TAG_STEP) == ctx.step_id):
            return False
        marked = _decode_before(tags.get(TAG_BEFORE, ""))
        return all(before[k] != marked.get(k) for k in ("key1", "key2"))

    def plan(self, ctx: RunContext, target: str, params: RotateParams) -> Plan:
        st = _KeyState(ctx, target, params)
        keys, secret = st.keys(), st.secret()
        before = self._state(st, keys, secret)
        if self._done(ctx, before, secret[2]):
            return Plan(runbook=self.name, target=target, before=before, notes=["keys already revoked by this step"])
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
            notes=["emergency: consumers fail until they read the new secret version (no cut-over window)"],
        )

    def apply(self, ctx: RunContext, target: str, params: RotateParams) -> Applied:
        st = _KeyState(ctx, target, params)
        keys, secret = st.keys(), st.secret()
        value, version, tags = secret
        before = self._state(st, keys, secret)
        if self._done(ctx, before, tags):
            marked = _decode_before(tags.get(TAG_BEFORE, ""))
            return Applied(
                runbook=self.name,
                target=target,
                changed=False,
                before=before | marked,
                after=before,
                summary="keys already revoked by this step; nothing changed",
                artifacts={"secret_version": version, "key_in_use": tags.get(TAG_KEY, "key1")},
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
            summary=f"revoked both keys; consumers' secret {st.secret_name} now holds the new {in_use.capitalize()} "
            f"(version {(version or '')[:8]}…)",
            artifacts={"secret_version": version, "key_in_use": in_use},
        )

    def verify(self, ctx: RunContext, target: str, params: RotateParams, applied: Applied) -> Verification:
        st = _KeyState(ctx, target, params)
        now = self._state(st, st.keys(), st.secret())
        checks = [
            Check(name=f"old {k.capitalize()} revoked", ok=now[k] != applied.before.get(k), detail=f"{applied.before.get(k)} → {now[k]}")
            for k in ("key1", "key2")
        ]
        live = now["secret_fingerprint"] in (now["key1"], now["key2"])  # a later rotation may have moved consumers on
        checks.append(Check(
            name="consumers' secret holds a live key",
            ok=live,
            detail=f"secret {st.secret_name} version {now['secret_version']} = {now['secret_fingerprint']}",
        ))
        return Verification(runbook=self.name, target=target, checks=checks)

    def undo(self, ctx: RunContext, target: str, params: RotateParams, applied: Applied) -> Applied:
        raise RunbookError(
            "invalid",
            "keys.revoke cannot be undone: Azure has no API to set a key value, and the old keys are compromised",
        )
