"""One Azure Blob Storage container, with the store contract of :mod:`firestop.storage.base`.

Blob service REST API through azure-storage-blob 12.31 (``ContainerClient``/``BlobClient``):

- ``create``: Put Blob with ``If-None-Match: *`` (``upload_blob(overwrite=False)``); an
  existing name answers 409 ``BlobAlreadyExists`` and is compared by its bytes (a ranged read
  of at most the new content's size + 1; never by the ``sha256`` metadata the store sets —
  the content's hash, never a secret — which any writer of the blob can set too).
- ``append``: an *append blob* — Put Blob (``x-ms-blob-type: AppendBlob``) with
  ``If-None-Match: *`` when ``at == 0``, then Append Block with
  ``x-ms-blob-condition-appendpos: <at>``: 412 ``AppendPositionConditionNotMet`` when
  another writer appended first (→ :class:`AppendConflict`, nothing written).
  https://learn.microsoft.com/rest/api/storageservices/append-block#request-headers
- On Azure the containers of evidence and ledger also carry a time-based immutability
  (WORM) policy (``infra/azuredeploy.json``; the ledger's with ``allowProtectedAppendWrites``,
  so only appends are allowed): the service refuses an overwrite or delete even from an
  identity with Storage Blob Data Owner. Azurite does not enforce it; the refusal above is
  the app's own.
- A missing container (404 ``ContainerNotFound``) is created on the first write (the
  template creates them on Azure).

Credential: a ``TokenCredential`` (the managed identity through ``DefaultAzureCredential``
on Azure), or for Azurite its documented development account key. Errors map to
:class:`StoreError` kinds: no answer / 5xx / 408 / 429 → ``transient``; 401 / 403 /
credential errors → ``forbidden``; the rest ``failed``. Retries: 2, exponential from 1 s,
5 s to connect, 30 s to read, so an unreachable account fails in seconds.
"""

from __future__ import annotations

import hashlib
from typing import Any

from firestop.storage.base import DEFAULT_READ_LIMIT, AlreadyExists, AppendConflict, StoreError, TooLarge, check_name


def _kind(exc: BaseException) -> str:
    from azure.core.exceptions import ClientAuthenticationError, HttpResponseError, ServiceRequestError, ServiceResponseError

    if isinstance(exc, ClientAuthenticationError):
        return "forbidden"
    if isinstance(exc, (ServiceRequestError, ServiceResponseError)):
        return "transient"
    status = getattr(exc, "status_code", None)
    if isinstance(exc, HttpResponseError) and status is not None:
        if status in (401, 403):
            return "forbidden"
        if status in (408, 429) or status >= 500:
            return "transient"
    if type(exc).__name__ == "CredentialUnavailableError":
        return "forbidden"
    return "failed"


def _code(exc: BaseException) -> str:
    return str(getattr(getattr(exc, "error_code", None), "value", getattr(exc, "error_code", None)) or "")


class BlobStore:
    """The blob container ``container_name`` of the account at ``account_url`` (``https://<account>.blob.core.windows.net``,
    or Azurite's ``http://127.0.0.1:<port>/devstoreaccount1``), reached with ``credential``; ``prefix`` puts the
    store's objects under a folder of the container (``notifications/``)."""

    def __init__(self, service: Any, container_name: str, prefix: str = "") -> None:
        self.container = service.get_container_client(container_name)
        self.prefix = prefix
        self.where = f"blob container {container_name}" + (f" ({prefix}…)" if prefix else "")

    def _fail(self, exc: BaseException, doing: str, name: str) -> StoreError:
        kind = _kind(exc)
        code = _code(exc) or type(exc).__name__
        fix = {"forbidden": "; give the app's identity Storage Blob Data Contributor (or Owner) on the storage account",
               "transient": "; the storage account did not answer, try again"}.get(kind, "")
        return StoreError(kind, f"{self.where}: {doing} {name} failed ({code}){fix}")

    def _blob(self, name: str):
        return self.container.get_blob_client(self.prefix + check_name(name))

    def _ensure_container(self) -> None:
        from azure.core.exceptions import ResourceExistsError

        try:
            self.container.create_container()
        except ResourceExistsError:
            pass

    def read(self, name: str, limit: int | None = None) -> bytes | None:
        from azure.core.exceptions import HttpResponseError, ResourceNotFoundError

        bound = DEFAULT_READ_LIMIT if limit is None else max(0, int(limit))
        blob = self._blob(name)
        try:
            try:
                # Get Blob with x-ms-range bytes=0-<bound> (https://learn.microsoft.com/rest/api/storageservices/get-blob,
                # "Specify the range header"): at most bound + 1 bytes cross the wire, whatever the blob's size.
                data = blob.download_blob(offset=0, length=bound + 1).readall()
            except HttpResponseError as exc:
                # 416 InvalidRange: a ranged Get of an empty blob (an append blob created, its first block not yet
                # appended) — the SDK falls back to a plain Get only for unranged downloads (azure-storage-blob 12.31
                # StorageStreamDownloader._initial_request); Azurite answers the same.
                if exc.status_code != 416 or blob.get_blob_properties().size != 0:
                    raise
                data = b""
        except ResourceNotFoundError:
            return None
        except Exception as exc:  # noqa: BLE001 — azure-core and transport errors, mapped
            raise self._fail(exc, "reading", name) from None
        if len(data) > bound:
            raise TooLarge(self.where, name, bound)
        return data

    def read_range(self, name: str, offset: int, length: int) -> bytes | None:
        """At most ``length`` (> 0) bytes from byte ``offset`` (the store contract, :mod:`firestop.storage.base`): one
        ranged Get Blob (``download_blob(offset, length)``); a range that starts at or past the blob's end answers
        416 InvalidRange, read as ``b""`` (the blob exists: a missing one answers 404 → None)."""
        from azure.core.exceptions import HttpResponseError, ResourceNotFoundError

        if offset < 0 or length < 1:
            raise ValueError(f"read_range: offset {offset} and length {length} must be >= 0 and >= 1")
        blob = self._blob(name)
        try:
            try:
                return blob.download_blob(offset=offset, length=length).readall()
            except HttpResponseError as exc:
                if exc.status_code != 416:
                    raise
                return b""
        except ResourceNotFoundError:
            return None
        except Exception as exc:  # noqa: BLE001 — azure-core and transport errors, mapped
            raise self._fail(exc, "reading", name) from None

    def names(self, prefix: str = "") -> list[str]:
        from azure.core.exceptions import ResourceNotFoundError

        if prefix:
            check_name(prefix.rstrip("/") or "x")
        try:
            found = [b.name[len(self.prefix):] for b in self.container.list_blobs(name_starts_with=self.prefix + prefix)]
        except ResourceNotFoundError:
            return []
        except Exception as exc:  # noqa: BLE001
            raise self._fail(exc, "listing", prefix or "/") from None
        return sorted(found)

    def create(self, name: str, data: bytes, content_type: str = "application/octet-stream") -> bool:
        from azure.core.exceptions import ResourceExistsError, ResourceNotFoundError
        from azure.storage.blob import ContentSettings

        blob = self._blob(name)
        digest = hashlib.sha256(data).hexdigest()
        upload = lambda: blob.upload_blob(  # noqa: E731 — If-None-Match: *
            data, overwrite=False, content_settings=ContentSettings(content_type=content_type), metadata={"sha256": digest})
        try:
            try:
                upload()
                return True
            except ResourceNotFoundError as exc:
                if _code(exc) != "ContainerNotFound":
                    raise
                self._ensure_container()
                upload()
                return True
        except ResourceExistsError:
            pass
        except Exception as exc:  # noqa: BLE001
            raise self._fail(exc, "writing", name) from None
        # the same bytes (a retry) or not: compared by the bytes, at most the new content's size + 1 read (bounds14) —
        # never by the blob's ``sha256`` metadata, which whoever writes the blob sets (a storage writer's blob with
        # Firestop's digest as metadata passed for "already holds exactly this")
        try:
            existing = self.read(name, limit=len(data))
        except TooLarge:
            existing = None
        stored = hashlib.sha256(existing).hexdigest() if existing is not None else None
        if stored == digest:
            return False
        raise AlreadyExists(f"{self.where}: {name} already exists with other content; it is never overwritten")

    def append(self, name: str, data: bytes, at: int) -> None:
        from azure.core import MatchConditions
        from azure.core.exceptions import HttpResponseError, ResourceExistsError, ResourceNotFoundError

        blob = self._blob(name)
        try:
            if at == 0:
                try:
                    try:
                        blob.create_append_blob(match_condition=MatchConditions.IfMissing)  # If-None-Match: *
                    except ResourceNotFoundError as exc:
                        if _code(exc) != "ContainerNotFound":
                            raise
                        self._ensure_container()
                        blob.create_append_blob(match_condition=MatchConditions.IfMissing)
                except ResourceExistsError:
                    pass  # another writer created it: the append position below decides who goes first
            blob.append_block(data, appendpos_condition=at)
        except HttpResponseError as exc:
            if exc.status_code == 412 and _code(exc) == "AppendPositionConditionNotMet":
                raise AppendConflict(f"{self.where}: {name} is no longer {at} bytes long; read it again") from None
            if exc.status_code == 404 and at > 0:
                raise AppendConflict(f"{self.where}: {name} does not exist (expected {at} bytes); read it again") from None
            raise self._fail(exc, "appending to", name) from None
        except Exception as exc:  # noqa: BLE001
            raise self._fail(exc, "appending to", name) from None

    def location(self, name: str) -> str:
        return self._blob(name).url
