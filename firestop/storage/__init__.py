"""Where an incident's records, evidence, ledger and notification copies are kept: one store each.

:func:`stores_for` picks the backend from the settings, once, for every reader and writer
(runbooks, ``incident list/show``, ``ledger verify``, the HTTP API):

- ``FIRESTOP_STORAGE_BLOB_URL`` set → Azure Blob Storage (:class:`~firestop.storage.blob.BlobStore`):
  containers ``FIRESTOP_RECORDS_CONTAINER`` (records; notification copies under ``notifications/``),
  ``FIRESTOP_EVIDENCE_CONTAINER`` and ``FIRESTOP_LEDGER_CONTAINER``. ``https://`` endpoints are reached
  with ``DefaultAzureCredential`` (on Azure the user-assigned managed identity named by
  ``AZURE_CLIENT_ID``; no key anywhere). An ``http://`` loopback endpoint whose account is
  ``devstoreaccount1`` is Azurite, reached with Azurite's documented development key
  (https://learn.microsoft.com/azure/storage/common/storage-use-azurite#http-connection-strings —
  public, nobody's secret).
- else → folders of ``FIRESTOP_HOME`` (:class:`~firestop.storage.local.LocalStore`): ``records/``,
  ``evidence/``, ``ledger/``, ``notifications/``.

The contract both keep is in :mod:`firestop.storage.base`. Blob names are built from incident
IDs, step IDs and evidence item names (``[A-Za-z0-9._-]``), never from a secret; the only
metadata is ``sha256`` of the content.
"""

from __future__ import annotations

import threading
from typing import Any
from urllib.parse import urlparse

from msgspec import Struct

from firestop.storage.base import AlreadyExists, AppendConflict, ObjectStore, StoreError, TooLarge, check_name
from firestop.storage.local import LocalStore

__all__ = ["AlreadyExists", "AppendConflict", "ObjectStore", "StoreError", "TooLarge", "Stores", "check_name", "stores_for",
           "blob_service", "is_azurite"]

AZURITE_ACCOUNT = "devstoreaccount1"
#: Azurite's documented development account key (public: https://learn.microsoft.com/azure/storage/common/storage-use-azurite).
AZURITE_KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
NOTIFICATIONS_PREFIX = "notifications/"


class Stores(Struct, frozen=True):
    """The four stores of one configuration; ``remote``: True for Blob Storage (nothing on this machine's disk)."""

    records: ObjectStore
    evidence: ObjectStore
    ledger: ObjectStore
    notifications: ObjectStore
    remote: bool


def is_azurite(url: str) -> bool:
    """True for an ``http://`` loopback endpoint of Azurite's development account."""
    parsed = urlparse(url)
    return (parsed.scheme == "http" and (parsed.hostname or "") in ("127.0.0.1", "localhost", "::1")
            and parsed.path.strip("/").split("/")[0] == AZURITE_ACCOUNT)


_services: dict[str, Any] = {}
_services_lock = threading.Lock()
_credential: Any = None


#: azure-storage-blob client options: 2 retries backing off from 1 s (so an unreachable account fails in
#: seconds, and the caller's own retry takes over), 5 s to connect, 30 s to read.
BLOB_CLIENT_OPTIONS: dict[str, Any] = {"retry_total": 2, "initial_backoff": 1, "increment_base": 2,
                                       "connection_timeout": 5, "read_timeout": 30}


def _default_credential() -> Any:
    global _credential
    if _credential is None:
        from azure.identity import DefaultAzureCredential

        _credential = DefaultAzureCredential()  # AZURE_CLIENT_ID selects the user-assigned identity
    return _credential


def blob_service(url: str, credential: Any = None) -> Any:
    """A cached ``BlobServiceClient`` for ``url`` (see the module docstring for the credential).

    ValueError naming FIRESTOP_STORAGE_BLOB_URL when it is neither https nor Azurite's loopback endpoint."""
    from azure.storage.blob import BlobServiceClient

    parsed = urlparse(url)
    if not (parsed.scheme == "https" and parsed.hostname) and not is_azurite(url):
        raise ValueError("FIRESTOP_STORAGE_BLOB_URL: give https://<account>.blob.core.windows.net/ "
                         f"(or Azurite's http://127.0.0.1:<port>/{AZURITE_ACCOUNT} locally)")
    key = url.rstrip("/")
    with _services_lock:
        service = _services.get(key) if credential is None else None
        if service is None:
            if is_azurite(url):
                cred: Any = {"account_name": AZURITE_ACCOUNT, "account_key": AZURITE_KEY}
            else:
                cred = credential if credential is not None else _default_credential()
            service = BlobServiceClient(key, credential=cred, **BLOB_CLIENT_OPTIONS)
            if credential is None:
                _services[key] = service
    return service


def stores_for(settings: Any, credential: Any = None) -> Stores:
    """The stores ``settings`` name (a :class:`firestop.settings.Settings`); ``credential`` overrides the identity."""
    url = getattr(settings, "storage_blob_url", None)
    if url:
        from firestop.storage.blob import BlobStore

        service = blob_service(url, credential)
        return Stores(
            records=BlobStore(service, settings.records_container),
            evidence=BlobStore(service, settings.evidence_container),
            ledger=BlobStore(service, settings.ledger_container),
            notifications=BlobStore(service, settings.records_container, NOTIFICATIONS_PREFIX),
            remote=True,
        )
    home = settings.home
    return Stores(
        records=LocalStore(home / "records", "FIRESTOP_HOME/records"),
        evidence=LocalStore(home / "evidence", "FIRESTOP_HOME/evidence"),
        ledger=LocalStore(home / "ledger", "FIRESTOP_HOME/ledger"),
        notifications=LocalStore(home / "notifications", "FIRESTOP_HOME/notifications"),
        remote=False,
    )
