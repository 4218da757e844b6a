"""Settings: where state lives and which Azure resources Firestop works with.

Read from the environment (Function App application settings on Azure, the
shell locally). Every value has a documented default; paths are resolved when
read, so ``FIRESTOP_HOME`` set after import still counts.

| variable | meaning | default |
|---|---|---|
| ``FIRESTOP_HOME`` | state directory: durable history, records, evidence, sandbox tenant | ``./.firestop`` |
| ``FIRESTOP_PLAYBOOKS`` | directory of playbook YAML files | ``playbooks/`` beside ``firestop/`` |
| ``FIRESTOP_KEY_VAULT_URL`` | vault that receives rotated keys, e.g. ``https://kv-contoso-ai.vault.azure.net`` | none (the sandbox sets its own) |
| ``FIRESTOP_KEY_SECRET_NAME`` | secret that consumers read the Azure OpenAI key from | ``openai-api-key`` |
| ``FIRESTOP_LOG_WORKSPACE_ID`` | Log Analytics workspace ID (GUID) queried for evidence | none (the sandbox sets its own) |
| ``FIRESTOP_AUTOMATION_PRINCIPAL_ID`` | object ID of Firestop's own identity: ``identity.revoke_role_assignment`` never removes its role assignments | none (the runbook also protects the object ID in its own access token) |
| ``FIRESTOP_RECORDS_CONNECTION`` | Blob Storage connection string: ``records.file`` uploads records there instead of ``FIRESTOP_HOME/records`` (a secret) | none |
| ``FIRESTOP_RECORDS_CONTAINER`` | blob container for records | ``firestop-records`` |
| ``FIRESTOP_NOTIFY_WEBHOOK_URL`` | Teams/Slack incoming-webhook URL for ``notify.webhook`` — its only source (a secret: such URLs carry a token) | none |
| ``FIRESTOP_ROLES`` | the role table (JSON: object/group IDs → reader, responder, approver, admin), else ``FIRESTOP_HOME/roles.json`` — read by :mod:`firestop.trust.roles` | none (Entra app roles on Azure; the sandbox's demo roles locally) |
| ``FIRESTOP_CORRELATION_WINDOW_SECONDS`` | a new alert joins an open incident opened at most this long ago (``0``: never) — read by :mod:`firestop.intake.correlation` | ``3600`` |
| ``FIRESTOP_EVIDENCE_MAX_WINDOW_SECONDS`` | evidence windows are clamped to at most this long before the alert fired (and 15 min after it), whatever window the alert claims; the clamp is recorded in the evidence manifest (60 .. 604800) | ``7200`` (2 h) |
| ``FIRESTOP_CORRELATION_KEY`` | what "the same resource" means for correlation: ``resource``, ``resource_group``, ``subscription`` or ``none`` | ``resource`` |
"""

from __future__ import annotations

import os
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, SecretStr

REPO_ROOT = Path(__file__).resolve().parents[1]


class Settings(BaseModel):
    """Resolved settings (frozen). Build with :meth:`from_env`."""

    model_config = ConfigDict(frozen=True)

    home: Path
    playbooks_dir: Path
    key_vault_url: str | None = None
    key_secret_name: str = "openai-api-key"
    log_workspace_id: str | None = None
    automation_principal_id: str | None = None
    records_connection: SecretStr | None = None
    records_container: str = "firestop-records"
    notify_webhook_url: SecretStr | None = None
    evidence_max_window_seconds: int = Field(default=7200, ge=60, le=7 * 24 * 3600)

    @classmethod
    def from_env(cls, **overrides: object) -> "Settings":
        """Settings from the environment; keyword overrides win over the environment."""
        env = os.environ
        values: dict[str, object] = {
            "home": Path(env.get("FIRESTOP_HOME", ".firestop")),
            "playbooks_dir": Path(env.get("FIRESTOP_PLAYBOOKS", REPO_ROOT / "playbooks")),
            "key_vault_url": env.get("FIRESTOP_KEY_VAULT_URL") or None,
            "key_secret_name": env.get("FIRESTOP_KEY_SECRET_NAME") or "openai-api-key",
            "log_workspace_id": env.get("FIRESTOP_LOG_WORKSPACE_ID") or None,
            "automation_principal_id": env.get("FIRESTOP_AUTOMATION_PRINCIPAL_ID") or None,
            "records_connection": env.get("FIRESTOP_RECORDS_CONNECTION") or None,
            "records_container": env.get("FIRESTOP_RECORDS_CONTAINER") or "firestop-records",
            "notify_webhook_url": env.get("FIRESTOP_NOTIFY_WEBHOOK_URL") or None,
            "evidence_max_window_seconds": env.get("FIRESTOP_EVIDENCE_MAX_WINDOW_SECONDS") or None,
        }
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**{k: v for k, v in values.items() if v is not None or k not in _DEFAULTED})

    # Paths under FIRESTOP_HOME -------------------------------------------------
    @property
    def durable_db(self) -> Path:
        """SQLite file of the local durable host."""
        return self.home / "durable.sqlite"

    @property
    def records_dir(self) -> Path:
        """Post-incident records (``<incident>.json`` and ``.md``)."""
        return self.home / "records"

    @property
    def evidence_dir(self) -> Path:
        """Evidence, one folder per incident, each with ``manifest.json``."""
        return self.home / "evidence"

    @property
    def ledger_dir(self) -> Path:
        """Hash-chained ledgers, one ``<incident>.jsonl`` per incident (see :mod:`runbooks.ledger`)."""
        return self.home / "ledger"

    @property
    def sandbox_dir(self) -> Path:
        """The simulated tenant's persisted state."""
        return self.home / "sandbox"


#: Fields whose unset environment variable means "the field's default".
_DEFAULTED = frozenset({"evidence_max_window_seconds"})

_settings: Settings | None = None


def configure_settings(settings: Settings | None) -> None:
    """Install ``settings`` for this process (None: read the environment again on next use)."""
    global _settings
    _settings = settings


def get_settings() -> Settings:
    """The settings installed with :func:`configure_settings`, else from the environment."""
    return _settings if _settings is not None else Settings.from_env()
