"""Record runbooks: file the post-incident record (JSON + Markdown), once.

``records.file`` writes ``<incident_id>.json`` and ``<incident_id>.md`` to the
records store (:func:`firestop.storage.stores_for`), each object created once:

- Azure Blob Storage when ``FIRESTOP_STORAGE_BLOB_URL`` is set: container
  ``FIRESTOP_RECORDS_CONTAINER`` (default ``firestop-records``), block blobs with
  ``Content-Type`` ``application/json`` / ``text/markdown`` and metadata ``sha256``,
  uploaded with ``If-None-Match: *`` (409 ``BlobAlreadyExists`` for an existing
  name), reached with the managed identity (a data-plane role on the storage
  account, granted by ``infra/azuredeploy.json``: no Azure RBAC action of the
  custom role is involved); Azurite locally;
- else under ``FIRESTOP_HOME/records/`` (a temp file hard-linked to its name,
  which fails if the name exists).

**Written once, by its own incident.** The record's ``incident_id`` must be
the incident the call runs for (``ctx.incident_id``), so no other incident and
no manual run can file it. A record that exists is never replaced: filing the
same document again changes nothing (same SHA-256); a different document is
refused (``conflict``) unless it names the record it revises —
``revision_of`` = the SHA-256 of the newest filed JSON — and is then filed as
the next revision ``<incident_id>.rev<N>.json``/``.md`` beside the others
(:mod:`firestop.records.store`; ``incident undo`` does this). Each filing is
appended to the incident's ledger (kind ``record``: revision, SHA-256s and
locations), and the ledger entry's ``seq``/``hash`` come back in the
artifacts, so the ledger's head is anchored in the orchestration output.

Planted names (records16, A13-07): with a usable seal key only filings sealed on the ledger count — an object at
``<incident_id>.json`` (or a revision's name) that the app did not seal neither is the filed record nor refuses the
real one; the revision is filed beside it under ``<incident_id>.r<N>-<16 hex>.json``/``.md``
(:func:`firestop.records.store.keyed_record_name`: derived from the app's seal key, so it cannot be planted first),
and the ledger's ``record`` entry names the object it was filed under (``data.name``).

Artifacts: ``destination`` (``blob`` | ``file``), ``revision``, ``json_path`` /
``markdown_path`` (file paths, or blob URLs without credentials), ``sha256``,
``markdown_sha256``, ``evidence_paths`` (``{evidence item path: its file path or blob URL}``, for
the record's evidence items, so ``incident show`` can say where each one is), ``ledger``. No
credential is involved in a name, a URL or an answer.
"""

from __future__ import annotations

import hashlib
from typing import Any, Callable

from pydantic import BaseModel, ConfigDict, Field

from firestop.azure.errors import RunbookError
from firestop.records import render_markdown
from firestop.records.store import RECORD_READ_LIMIT, plain_incident_id, record_json, record_name
from firestop.storage import AlreadyExists, ObjectStore, StoreError, stores_for
from runbooks.base import Applied, Check, Plan, RunContext, Runbook, Verification
from runbooks.common import append_ledger
from runbooks.registry import register



def _evidence_paths(evidence: ObjectStore, incident: str, record: dict[str, Any]) -> dict[str, str]:
    """``{item path: location}`` of the record's evidence items in the evidence store (``<incident>/<item path>``,
    :mod:`firestop.evidence`): a file path under ``FIRESTOP_HOME/evidence`` or a blob URL without credentials.
    An item whose path is not a store name is left out (the record names it as it is)."""
    found: dict[str, str] = {}
    for item in record.get("evidence") or []:
        path = item.get("path") if isinstance(item, dict) else None
        if isinstance(path, str) and path:
            try:
                found[path] = evidence.location(f"{incident}/{path}")
            except ValueError:  # not a store name
                continue
    return found


class FileRecordParams(BaseModel):
    """record: the post-incident record document (JSON object with ``incident_id``, the incident this call runs for);
    revision_of: SHA-256 (hex) of the newest filed record JSON this one revises (only to file a revision)."""

    model_config = ConfigDict(extra="forbid")

    record: dict[str, Any]
    revision_of: str | None = Field(default=None, pattern=r"^[0-9a-f]{64}$")


def _incident(record: dict[str, Any], ctx: RunContext) -> str:
    incident = str(record.get("incident_id") or "")
    if not plain_incident_id(incident):
        raise RunbookError("invalid", "params.record.incident_id: missing or not a plain name")
    if incident != ctx.incident_id:
        raise RunbookError("invalid", f"params.record.incident_id: {incident!r} is not the incident this step runs for "
                           f"({ctx.incident_id!r}); an incident files only its own record")
    return incident


def _documents(record: dict[str, Any]) -> tuple[bytes, bytes]:
    return record_json(record), render_markdown(record).encode("utf-8")


def _filing_seal(ctx: RunContext, incident: str, revision: int, sha256: str) -> str | None:
    """The seal of this filing (:data:`firestop.records.store.RECORD_SEAL_PURPOSE`, bound to ``<incident>/<revision>``,
    over the JSON's SHA-256): only the app's key makes one, so a revision planted in the records store by whoever can
    write blobs there (the ledger's hash chain is unkeyed: an appender can extend it) is not believed by an undo
    (RT10-03). None when the app holds no usable seal key (then no undo of this incident is believed either)."""
    from firestop.records.store import RECORD_SEAL_PURPOSE
    from firestop.trust.seal import SealKeyError, load_seal_key

    try:
        key = load_seal_key(getattr(ctx.settings, "home", None))
    except SealKeyError:
        return None
    return key.sign(RECORD_SEAL_PURPOSE, f"{incident}/{revision}", sha256)


def sealed_filings(settings: Any, incident: str) -> dict[int, dict[str, Any]]:
    """The filings of ``incident``'s record this app sealed, as its ledger holds them: ``{revision: {sha256 hex of the
    filed JSON: ledger seq of its record entry}}`` — the ledger's ``record`` entries whose ``data.seal`` is the app's
    seal of that revision and SHA-256 (:func:`_filing_seal`); unsealed (planted) entries are left out. The ledger store
    keeps what is appended (WORM with protected appends on Azure), so this is what the records store must still hold
    (ledger9: deleting the newest revision rolled an incident back to an older sealed one). One ledger read.

    Raises :class:`firestop.trust.seal.SealKeyError` when the app holds no usable seal key,
    :class:`firestop.storage.StoreError` / ValueError when the ledger cannot be read."""
    from firestop.records.store import RECORD_SEAL_PURPOSE
    from firestop.trust.seal import load_seal_key
    from runbooks.ledger import Ledger

    entries = Ledger.of(settings).entries(incident)
    key = load_seal_key(getattr(settings, "home", None))
    found: dict[int, dict[str, Any]] = {}
    for entry in entries:
        data = entry.get("data") if isinstance(entry, dict) else None
        if entry.get("kind") != "record" or not isinstance(data, dict):
            continue
        revision, sha256 = data.get("revision"), data.get("sha256")
        if (isinstance(revision, int) and not isinstance(revision, bool) and revision >= 1 and isinstance(sha256, str)
                and key.check(RECORD_SEAL_PURPOSE, f"{incident}/{revision}", sha256, data.get("seal"))[0]):
            found.setdefault(revision, {})[sha256] = entry.get("seq")
    return found


def missing_filings(incident: str, sealed: dict[int, dict[str, Any]], listed: Any) -> str | None:
    """None when every revision in ``sealed`` (:func:`sealed_filings`) is among ``listed`` (the revision numbers a
    records-store listing holds for ``incident``); else which are missing, naming their ledger entries — a sealed
    revision gone from storage was deleted (or the store rolled back), and what is left is not the incident's word."""
    gone = sorted(set(sealed) - {int(n) for n in listed})
    if not gone:
        return None
    where = ", ".join(f"revision {n} (ledger seq {', '.join(str(q) for q in sealed[n].values())})" for n in gone)
    return (f"the record of {incident} is missing {where} from the records store — filed and sealed by this app, then "
            "deleted or rolled back by whoever can delete blobs there")


def seal_problem(settings: Any, incident: str, revision: int, sha256: str) -> str | None:
    """None when revision ``revision`` of ``incident``'s record, whose stored JSON has SHA-256 ``sha256`` (hex), is
    sealed by this app's key in a ``record`` entry of the incident's ledger (:func:`sealed_filings`); else why not (no
    usable seal key, or no such entry: Firestop did not file it). Raises :class:`firestop.storage.StoreError` /
    ValueError when the ledger cannot be read. Both an undo (:func:`firestop.lifecycle.undo.unsealed_filing`) and a new
    revision (:meth:`FileRecord.apply`, RT11-01) start only from a sealed newest revision."""
    from firestop.trust.seal import SealKeyError

    try:
        sealed = sealed_filings(settings, incident)
    except SealKeyError as exc:
        return f"the app holds no usable seal key to check revision {revision} of the record ({exc})"
    return filing_problem(incident, sealed, revision, sha256)


def filing_problem(incident: str, sealed: dict[int, dict[str, Any]], revision: int, sha256: str) -> str | None:
    """:func:`seal_problem` over ``sealed`` (:func:`sealed_filings`, already read): no I/O."""
    if sha256 in sealed.get(revision, {}):
        return None
    return (f"revision {revision} of the record of {incident} carries no seal of this app on the incident's ledger: "
            "Firestop did not file it, or filed it under a seal key since dropped (python -m firestop seal-key show)")


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _store_error(exc: StoreError) -> RunbookError:
    kind = {"transient": "transient", "forbidden": "forbidden", "conflict": "conflict"}.get(exc.kind, "failed")
    return RunbookError(kind, f"records: {exc}")  # type: ignore[arg-type]


def _sha_of(store: ObjectStore, name: str) -> str | None:
    """The SHA-256 (hex) of the object ``name`` read at most :data:`RECORD_READ_LIMIT` bytes, None when absent; its
    bytes are dropped on return (A13-01). Raises the store's errors (TooLarge over the bound)."""
    data = store.read(name, limit=RECORD_READ_LIMIT)
    return _sha(data) if data is not None else None


@register
class FileRecord(Runbook[FileRecordParams]):
    name = "records.file"
    summary = "Write the post-incident record (JSON + Markdown) once, to Blob Storage if configured, else under FIRESTOP_HOME/records."
    permissions = ()  # FIRESTOP_HOME, or Blob Storage with a data-plane role the template grants: no action of the custom role
    target_type = None
    Params = FileRecordParams
    mutating = False
    incident_only = True

    def _revisions(self, ctx: RunContext, incident: str) -> tuple[ObjectStore, list[tuple[int, str]], "Callable[[str], str | None]"]:
        """The records store, ``[(revision, JSON object name)]`` listed for ``incident`` (plain and keyed names,
        :func:`firestop.records.store.filed_revisions` order, oldest first) and ``sha(name)``: the SHA-256 of that
        object's JSON, read when first asked (each hashed as read and dropped, A13-01) and remembered. Nothing is read
        here: :meth:`_decide` asks only for the names it must judge (trust17: every listed ``.revN`` was read)."""
        from firestop.records.store import filed_revisions

        store = stores_for(ctx.settings).records
        try:
            filed = filed_revisions(store, incident)
        except StoreError as exc:
            raise _store_error(exc) from None
        known: dict[str, str | None] = {}

        def sha(name: str) -> str | None:
            if name not in known:
                try:
                    known[name] = _sha_of(store, name)
                except StoreError as exc:
                    raise _store_error(exc) from None
            return known[name]

        return store, filed, sha

    def _sealed(self, ctx: RunContext, incident: str) -> "dict[int, dict[str, Any]] | None":
        """:func:`sealed_filings` of ``incident``, None when the app holds no usable seal key."""
        from firestop.trust.seal import SealKeyError

        try:
            return sealed_filings(ctx.settings, incident)
        except SealKeyError:
            return None
        except StoreError as exc:
            raise _store_error(exc) from None
        except ValueError as exc:
            raise RunbookError("failed", f"records: the ledger of {incident} cannot be read ({exc})") from None

    def _next_revision(self, incident: str, revisions: list[tuple[int, str | None]], data: bytes,
                       params: FileRecordParams) -> int | None:
        """The revision to file, or None when the newest filed one is this very document."""
        if revisions and revisions[-1][1] == _sha(data):
            return None
        if not revisions:
            if params.revision_of is not None:
                raise RunbookError("conflict", f"params.revision_of: no record is filed for {incident} yet; nothing to revise")
            return 1
        newest, sha = revisions[-1]
        if params.revision_of is None:
            raise RunbookError("conflict", f"the record of {incident} is already filed (revision {newest}, sha256 {sha}); "
                               "a filed record is never replaced — a revision must name the record it revises (revision_of)")
        if params.revision_of != sha:
            raise RunbookError("conflict", f"params.revision_of: {params.revision_of} is not the newest filed record of "
                               f"{incident} (revision {newest}, sha256 {sha}); read it again and revise that")
        return newest + 1

    def _custody(self, incident: str, sealed: "dict[int, dict[str, Any]] | None",
                 revisions: list[tuple[int, str | None]], revision: int) -> None:
        """Refuse (``failed``, not retried) to file ``revision`` when the ledger holds a sealed filing the records
        store no longer holds, or ``revision`` itself was sealed before (ledger9: write-once in code too — a deleted
        revision is never filed again, and no revision is filed on a store rolled back under it); and, for a revision
        above 1, when the newest filed one is not sealed (RT11-01) or the app holds no usable seal key (``sealed``
        None). ``revisions``: the filings believed (with a key: those sealed)."""
        if sealed is None:
            if revision > 1:
                raise RunbookError("failed", f"records: the app holds no usable seal key to check the record of {incident}; "
                                   "no revision is filed on top of it")
            return  # a first filing without a key: nothing sealed to compare (and no undo of it will be believed)
        missing = missing_filings(incident, sealed, [n for n, _ in revisions])
        if missing is None and revision in sealed:
            missing = (f"revision {revision} of the record of {incident} was filed and sealed before (ledger seq "
                       f"{', '.join(str(q) for q in sealed[revision].values())}); a filed revision is never filed again")
        if missing is not None:
            raise RunbookError("failed", f"records: {missing}; nothing is filed (check the records store and python -m "
                               f"firestop ledger verify {incident})")
        if revision > 1:
            newest, sha = revisions[-1]
            problem = filing_problem(incident, sealed, newest, sha or "")
            if problem is not None:
                raise RunbookError("failed", f"{problem}; no revision is filed on top of it (check the records store and "
                                   f"python -m firestop ledger verify {incident})")

    def _decide(self, ctx: RunContext, incident: str, data: bytes, params: FileRecordParams, markdown: bytes | None = None
                ) -> tuple[ObjectStore, int | None, tuple[str, str], list[tuple[int, str]]]:
        """``(store, revision to file or None when the newest filing is this very document, (JSON name, Markdown name)
        of the revision filed or to file, listed filings)``.

        With a usable seal key only filings sealed on the incident's ledger count (A13-07): an object at the plain
        name that Firestop did not seal neither is the record nor refuses it; the revision is filed under its keyed
        name (:func:`firestop.records.store.keyed_record_name`) when its plain name holds other bytes — the current
        key's, or the name under which an earlier attempt of this very filing left its objects (:meth:`_keyed_names`,
        ``markdown``: the filing's Markdown). Without a key, every listed plain filing counts (as before).

        Reads (trust17, as R16-03 bounded the views): with a key, only the names the app can file each sealed
        revision under (its plain name and its keyed name under each key of the ring, seal17/R17-02; when listed) and
        the plain name of the revision to file (is it taken?) — at most 5 × the sealed revisions + 1 objects (2 × without
        retired keys; and, when filing beside a planted object with retired keys, at most 3 Markdown objects of at most
        the filing's size, :meth:`_keyed_names`), however many ``.revN`` or look-alike keyed names were
        planted (before: every listed one, up to :data:`~firestop.records.store.RECORD_READ_LIMIT` each). Every sealed
        revision is still read (the custody check, :func:`missing_filings`, needs each present with its sealed bytes),
        and the newest one whose bytes are sealed decides. Without a key, the newest listed plain name only (the only
        one :meth:`_next_revision` compares; a first filing without a key has no custody to check)."""
        from firestop.records.store import keyed_record_name, keyed_record_names

        store, listed, sha = self._revisions(ctx, incident)
        sealed = self._sealed(ctx, incident)
        if sealed is None:
            plain = [(n, name) for n, name in listed if name == record_name(incident, n, "json")]
            believed = [(n, name, sha(name)) for n, name in plain[-1:]]
        else:
            key = self._key(ctx) if sealed else None
            listed_names = {name for _, name in listed}
            believed = []
            for n in sorted(sealed):
                # the keyed name under every key of the ring (R17-02: a filing a retired key named is still found)
                own = [record_name(incident, n, "json")] + (keyed_record_names(key, incident, n, "json") if key else [])
                believed += [(n, name, sha(name)) for name in own if name in listed_names and sha(name) in sealed[n]]
        revisions = [(n, digest) for n, _, digest in believed]
        revision = self._next_revision(incident, revisions, data, params)
        if revision is None:
            name = believed[-1][1]
            return store, None, (name, name[: -len(".json")] + ".md"), listed
        self._custody(incident, sealed, revisions, revision)
        names = (record_name(incident, revision, "json"), record_name(incident, revision, "md"))
        taken = [sha(name) for _, name in listed if name == names[0]]
        if sealed is not None and taken and taken[0] != _sha(data):  # planted there: filed beside it
            key = self._key(ctx)
            if key is not None:
                names = self._keyed_names(store, key, incident, revision, data, markdown,
                                          {name for _, name in listed}, sha)
        return store, revision, names, listed

    @staticmethod
    def _keyed_names(store: ObjectStore, key: Any, incident: str, revision: int, data: bytes, markdown: bytes | None,
                     listed: set[str], sha: "Callable[[str], str | None]") -> tuple[str, str]:
        """The (JSON, Markdown) keyed names to file ``revision`` under: the current key's — unless an earlier attempt of
        this very filing left its objects under a key of the ring (seal18): its JSON (``data``'s bytes, listed), or,
        when the attempt stopped between the two, its Markdown (``markdown``'s bytes; a retired key's name only). An
        attempt that failed after writing them (the ledger entry that seals the filing not written: a fault, a crash)
        is retried as the step is, and a rotation in between made the retry file a second copy under the new key's
        name, the first never sealed. Reads: the JSON names listed (at most 4, through ``sha``: remembered), then at
        most 3 Markdown names, each at most ``len(markdown)`` bytes. A filing named by a retired key is found under the
        ring's names like everything that key named (:func:`firestop.records.store.keyed_record_names`)."""
        from firestop.records.store import keyed_record_name
        from firestop.storage import TooLarge
        from firestop.trust.seal import ring_keys

        pairs = [(keyed_record_name(k, incident, revision, "json"), keyed_record_name(k, incident, revision, "md"))
                 for k in ring_keys(key)]
        digest = _sha(data)
        for pair in pairs:
            if pair[0] in listed and sha(pair[0]) == digest:
                return pair
        for pair in pairs[1:] if markdown is not None else ():
            try:
                held = store.read(pair[1], limit=len(markdown))
            except TooLarge:
                continue
            except StoreError as exc:
                raise _store_error(exc) from None
            if held == markdown:
                return pair
        return pairs[0]

    @staticmethod
    def _key(ctx: RunContext) -> Any:
        from firestop.trust.seal import SealKeyError, load_seal_key

        try:
            return load_seal_key(getattr(ctx.settings, "home", None))
        except SealKeyError:
            return None

    def plan(self, ctx: RunContext, target: str | None, params: FileRecordParams) -> Plan:
        incident = _incident(params.record, ctx)
        data, markdown = _documents(params.record)
        store, revision, names, listed = self._decide(ctx, incident, data, params, markdown)
        if revision is None:
            note = "the same record is already filed; nothing to write"
        else:
            note = f"would write {names[0]} and {names[1]} in {store.where}"
        return Plan(runbook=self.name, target=target or "", before={"revisions": len(listed)}, notes=[note])

    def apply(self, ctx: RunContext, target: str | None, params: FileRecordParams) -> Applied:
        from firestop.records.store import keyed_record_name, revision_of_name

        incident = _incident(params.record, ctx)
        data, markdown = _documents(params.record)
        store, revision, names, _ = self._decide(ctx, incident, data, params, markdown)
        changed = revision is not None
        revision = revision or revision_of_name(incident, names[0]) or 1
        try:
            if changed:  # Markdown first: the JSON's presence is what makes a revision filed
                try:
                    store.create(names[1], markdown, "text/markdown; charset=utf-8")
                    store.create(names[0], data, "application/json")
                except AlreadyExists:  # planted between the listing and now (A13-07): filed beside it
                    key = self._key(ctx)
                    if key is None or names[0] != record_name(incident, revision, "json"):
                        raise
                    names = (keyed_record_name(key, incident, revision, "json"), keyed_record_name(key, incident, revision, "md"))
                    store.create(names[1], markdown, "text/markdown; charset=utf-8")
                    store.create(names[0], data, "application/json")
        except AlreadyExists:
            raise RunbookError("conflict", f"{names[0]} is already filed with other content; a filed record is never replaced") from None
        except StoreError as exc:
            raise _store_error(exc) from None
        stores = stores_for(ctx.settings)
        destination = "blob" if stores.remote else "file"
        locations = (store.location(names[0]), store.location(names[1]))
        artifacts: dict[str, Any] = {
            "destination": destination,
            "revision": revision,
            "json_path": locations[0],
            "markdown_path": locations[1],
            "sha256": _sha(data),
            "markdown_sha256": _sha(markdown),
            "evidence_paths": _evidence_paths(stores.evidence, incident, params.record),
        }
        if changed:
            artifacts["ledger"] = append_ledger(
                ctx, kind="record", runbook=self.name, action="apply", target=target,
                data={k: artifacts[k] for k in ("destination", "revision", "json_path", "markdown_path", "sha256", "markdown_sha256")}
                | {"status": params.record.get("status"), "revision_of": params.revision_of, "name": names[0],
                   "seal": _filing_seal(ctx, incident, revision, artifacts["sha256"])},
            )
        return Applied(
            runbook=self.name,
            target=target or "",
            changed=changed,
            before={},
            after={},
            summary=(f"record filed: {names[0]}, {names[1]} ({destination})" if changed else "the same record is already filed; nothing changed"),
            artifacts=artifacts,
        )

    def verify(self, ctx: RunContext, target: str | None, params: FileRecordParams, applied: Applied) -> Verification:
        from firestop.records.store import keyed_record_names

        where = applied.artifacts["json_path"]
        incident = _incident(params.record, ctx)
        revision = int(applied.artifacts.get("revision") or 1)
        key = self._key(ctx)
        names = [record_name(incident, revision, "json")] + (keyed_record_names(key, incident, revision, "json") if key else [])
        ok = False
        try:
            for name in names:  # the plain name, or the keyed one it was filed under beside an object planted there
                stored = stores_for(ctx.settings).records.read(name, limit=RECORD_READ_LIMIT)
                if stored is not None and _sha(stored) == applied.artifacts["sha256"]:
                    ok = True
                    break
        except StoreError as exc:
            raise _store_error(exc) from None
        return Verification(runbook=self.name, target=target or "", checks=[Check(name="record stored as filed", ok=ok, detail=where)])

    def undo(self, ctx: RunContext, target: str | None, params: FileRecordParams, applied: Applied) -> Applied:
        return Applied(runbook=self.name, target=target or "", changed=False, before={}, after={}, summary="records are kept; nothing to undo")
