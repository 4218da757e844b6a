"""Rotating the seal key of a local ``FIRESTOP_HOME`` (seal17): ``seal-key rotate``, ``seal-key retire``, ``seal-key show``.

The ring (:class:`firestop.trust.seal.SealKeyRing`): the current key (``FIRESTOP_HOME/seal-key``) and at most
:data:`~firestop.trust.seal.MAX_RETIRED_KEYS` retired ones (``FIRESTOP_HOME/seal-key.retired``, one a line, newest
first, 0600). What each step does to the files, and why in that order:

- :func:`rotate`: a new key (``secrets.token_urlsafe(32)``) becomes current and the current one is put first in the
  retired file. The retired file is replaced first (temporary file 0600, fsync, ``os.replace``), the key file second:
  a crash between the two leaves the old key current *and* retired (counted once: nothing changed), and a reader — who
  reads the key file first, then the retired one (:func:`firestop.trust.seal.load_seal_key`) — that sees the new key
  sees the old one retired. Run again after a crash, it finishes. Refused when the ring is full (retire one first:
  a dropped key is a decision, never a side effect). Before either file is written, ``prepare`` is called with the
  ring to come (the new key current, the old one retired): the CLI seals the manual-run index's sealed-lines marker
  anew there under the new key (:func:`runbooks.manual_runs.reseal_marker`: the trust layer imports nothing above it),
  so that a kill at any point leaves either the old ring (and at most a marker under a key never used: nothing looks
  it up) or the new ring with its marker carried (seal18: it was carried after the switch, and a kill between left
  the new ring without it: dropping the old key then moved the time from which unsealed index lines are refused).
  A rotation is journaled (:data:`JOURNAL_FILE`, key ids only): rerun after a kill that fell after the switch, it
  finishes what was left (the marker) instead of rotating a second time (a key and a ring slot spent for nothing).
  It and :func:`retire` first remove the temporary files a killed write of the key files left (``.seal-key.<pid>.<hex>``,
  ``.seal-key.retired.<pid>.<hex>``, 0600, holding keys: a dropped key's copy must not outlive its drop) whose process
  is gone (:func:`sweep_temporaries`); the CLI's ``retire`` carries the marker first when a ring was rotated without it.
- :func:`retire`: a retired key, named by its key id, leaves the ring: from then on nothing it sealed is believed
  (README "Rotating the seal key" says what that costs). The current key cannot be retired (rotate first). Keys
  leave **oldest first** (red team 20, RT20-02/03): a trust chain or a record's revisions are read as "the newest
  that verifies", so dropping a key while an older one stays let what the older key sealed decide again where the
  dropped key's newer seals had overridden it — a revoked rule trust trusted again, an undo's record revision hidden
  and the undo offered a second time. A key with older retired keys behind it is dropped only with them
  (``with_older``; :class:`OlderKeysKept` otherwise). Keys seal in the order they were current, so with oldest-first
  drops what still verifies is always everything sealed since some rotation, and the newest that verifies is the
  newest there is. (A ring in the settings cannot be held to this here: the README says to drop the oldest first.)
- :func:`describe`: key ids and where the keys come from; never a key.

Only where the ring lives in the home: with ``FIRESTOP_SEAL_KEY`` or ``FIRESTOP_SEAL_KEY_RETIRED`` set (the app
settings; on Azure the Key Vault secrets ``firestop-seal-key`` and ``firestop-seal-key-retired``) nothing here writes;
:class:`RingNotLocal` says which setting to change instead. Concurrent rotations of one home are serialised by an
``fcntl`` lock on ``FIRESTOP_HOME/.seal-key.lock`` (POSIX; elsewhere one admin at a time).

Errors: :class:`RingNotLocal` (the ring is in settings), :class:`RingFull`, :class:`UnknownKey`, :class:`OlderKeysKept`,
:class:`~firestop.trust.seal.SealKeyError` (a key file is unusable), OSError (the home cannot be written). No message
carries a key; every one names key ids.
"""

from __future__ import annotations

import os
import secrets
from contextlib import contextmanager, nullcontext
from pathlib import Path
from typing import Any, Callable, Iterator, Mapping

from firestop.environ import ENVIRON
from firestop.private import FILE_MODE, private_dirs
from firestop.trust.seal import (
    MAX_RETIRED_KEYS,
    RETIRED_KEYS_ENV,
    RETIRED_KEYS_FILE,
    SEAL_KEY_ENV,
    SEAL_KEY_FILE,
    SealKey,
    SealKeyRing,
    load_seal_key,
    on_azure,
)

LOCK_FILE = ".seal-key.lock"
#: What a rotation under way is (seal18): ``was=<old kid> kid=<new kid>``, written before anything else of it and
#: removed once it is done. A rerun that finds it and the new key current was killed after the switch: it finishes
#: (``prepare``) and rotates nothing again — "run it again to finish" holds wherever the kill fell.
JOURNAL_FILE = "seal-key.rotating"
#: A18-04: a journal is finished by a rerun only this soon after the switch it names (seconds; the key file's
#: modification time), and only while the key it rotated from is the newest retired one. Before, a journal left by a
#: rotation killed after its switch (or planted, naming the current key id that ``seal-key show`` prints) turned any
#: later rotation — the one after a suspected exposure — into "resumed", no new key, ``rotated: true``.
RESUME_SECONDS = 3600


class RingNotLocal(RuntimeError):
    """The ring comes from app settings, not from the home: the message names the setting and what to change."""


class RingFull(RuntimeError):
    """The ring holds :data:`MAX_RETIRED_KEYS` retired keys already: the message names the oldest to retire."""


class UnknownKey(RuntimeError):
    """No retired key has that key id: the message lists the ids held."""


class OlderKeysKept(RuntimeError):
    """The key to retire has older retired keys behind it (module docstring: keys leave oldest first); the message names
    them and both fixes (retire the oldest first, or this key ``--with-older``). ``older``: their key ids, newest first."""

    def __init__(self, message: str, older: "list[str]") -> None:
        super().__init__(message)
        self.older = older


def describe(home: str | os.PathLike[str], env: Mapping[str, str] | None = None) -> dict[str, Any]:
    """``{"kid", "origin", "retired": [kid, ...] (newest first), "max_retired", "where"}`` of the ring — key ids only.
    Raises SealKeyError as :func:`load_seal_key` does."""
    env = ENVIRON if env is None else env
    ring = load_seal_key(home, env)
    where = ("settings" if env.get(SEAL_KEY_ENV) is not None or env.get(RETIRED_KEYS_ENV) is not None
             else str(Path(home)))
    return {"kid": ring.kid, "origin": _origin(ring.current), "retired": [k.kid for k in ring.retired],
            "max_retired": MAX_RETIRED_KEYS, "where": where}


def _origin(key: SealKey) -> str:
    return "environment" if key.origin == "environment" else "file"


def _local_only(env: Mapping[str, str]) -> None:
    if on_azure(env):
        raise RingNotLocal("this runs on Azure (App Service): the seal key is the Key Vault secret firestop-seal-key and the "
                           "retired ones firestop-seal-key-retired; rotate them there (README: Rotating the seal key)")
    for name in (SEAL_KEY_ENV, RETIRED_KEYS_ENV):
        if env.get(name) is not None:
            raise RingNotLocal(f"{name} is set: the ring comes from the settings, not from FIRESTOP_HOME; rotate by "
                               f"putting the current value first in {RETIRED_KEYS_ENV} and a new key in {SEAL_KEY_ENV} "
                               "(README: Rotating the seal key), or unset both to keep the ring in FIRESTOP_HOME")


def rotate(home: str | os.PathLike[str], *, dry_run: bool = False, env: Mapping[str, str] | None = None,
           prepare: Callable[[SealKeyRing], Any] | None = None,
           carry: Callable[[SealKeyRing], Any] | None = None) -> dict[str, Any]:
    """Rotate the home's seal key (module docstring). ``prepare(ring to come)`` runs before either key file is written
    (what it raises stops the rotation: nothing rotated); so does ``carry(ring to come)`` after it, on a new rotation
    only — never when a rotation killed after its switch is finished (what it carries, the standing rule trusts,
    A18-03, is what was believed *before* the switch: after it, a retired key's seal may be a forgery). Returns ``{"rotated": bool, "dry_run", "was": old kid, "kid":
    new kid (None on a dry run), "resumed": bool (a rotation killed after its switch was finished, none made),
    "retired": [kids after]}``. Raises RingNotLocal, RingFull, SealKeyError, OSError."""
    env = ENVIRON if env is None else env
    _local_only(env)
    home = Path(home)
    with nullcontext() if dry_run else _locked(home):  # a dry run writes nothing, not even the lock file
        ring = load_seal_key(home, env)
        journal = _journal(home)
        if journal is not None and journal[1] == ring.kid and _resumable(home, ring, journal[0]):
            # killed after the switch: finish it, rotate nothing again (A18-04: only just after that switch)
            if dry_run:
                return {"rotated": False, "dry_run": True, "was": journal[0], "kid": None, "resumed": True,
                        "retired": [k.kid for k in ring.retired]}
            if prepare is not None:
                prepare(ring)
            (home / JOURNAL_FILE).unlink(missing_ok=True)
            return {"rotated": True, "dry_run": False, "was": journal[0], "kid": ring.kid, "resumed": True,
                    "retired": [k.kid for k in ring.retired]}
        if len(ring.retired) >= MAX_RETIRED_KEYS:
            raise RingFull(f"the ring holds {MAX_RETIRED_KEYS} retired keys already (the most it holds); retire the "
                           f"oldest first: python -m firestop seal-key retire {ring.retired[-1].kid} --as <admin object id>")
        after = [ring.kid, *(k.kid for k in ring.retired)]
        if dry_run:
            return {"rotated": False, "dry_run": True, "was": ring.kid, "kid": None, "resumed": False, "retired": after}
        sweep_temporaries(home)
        new = secrets.token_urlsafe(32)
        coming = SealKeyRing(SealKey(new, "rotating"), (ring.current, *ring.retired))
        _write_whole(home / JOURNAL_FILE, f"was={ring.kid} kid={coming.kid}\n")  # key ids only
        if prepare is not None:
            prepare(coming)
        if carry is not None:
            carry(coming)
        _replace(home / RETIRED_KEYS_FILE, "".join(f"{s}\n" for s in (_secret(ring.current), *map(_secret, ring.retired))))
        _replace(home / SEAL_KEY_FILE, new + "\n")
        rotated = load_seal_key(home, env)
        (home / JOURNAL_FILE).unlink(missing_ok=True)
    return {"rotated": True, "dry_run": False, "was": ring.kid, "kid": rotated.kid, "resumed": False,
            "retired": [k.kid for k in rotated.retired]}


def retire(home: str | os.PathLike[str], kid: str, *, dry_run: bool = False, with_older: bool = False,
           env: Mapping[str, str] | None = None) -> dict[str, Any]:
    """Drop the retired key ``kid`` from the home's ring — with every retired key older than it when ``with_older``
    (module docstring: keys leave oldest first). Returns ``{"retired_kid", "dry_run", "dropped": bool, "dropped_kids":
    [kids dropped, newest first], "kid": current kid, "retired": [kids after]}``. Raises RingNotLocal, UnknownKey (also
    for the current key), OlderKeysKept (``kid`` is not the oldest and not ``with_older``), SealKeyError, OSError."""
    env = ENVIRON if env is None else env
    _local_only(env)
    home = Path(home)
    with nullcontext() if dry_run else _locked(home):
        if not dry_run:
            sweep_temporaries(home)  # (seal18: before the drop, so no copy of the key outlives it)
        ring = load_seal_key(home, env)
        if kid == ring.kid:
            raise UnknownKey(f"{kid} is the current key: rotate first (python -m firestop seal-key rotate), then retire it")
        place = next((n for n, k in enumerate(ring.retired) if k.kid == kid), None)
        if place is None:
            held = ", ".join(k.kid for k in ring.retired) or "none"
            raise UnknownKey(f"no retired key has the id {kid[:16]!r} (retired key ids held: {held}); "
                             "python -m firestop seal-key show lists them")
        older = [k.kid for k in ring.retired[place + 1:]]
        if older and not with_older:
            raise OlderKeysKept(
                f"{kid} is not the oldest retired key ({', '.join(older)} retired before it): dropped alone, what the "
                f"older key{'s' if len(older) > 1 else ''} sealed would decide again where {kid}'s newer seals overrode "
                "it (a revoked rule trust trusted again, an undo's record revision hidden and the undo offered again). "
                f"Retire the oldest first (python -m firestop seal-key retire {older[-1]} --as <admin object id>), or "
                f"drop {kid} with every older key: python -m firestop seal-key retire {kid} --with-older --as <admin "
                "object id>", older)
        kept = list(ring.retired[:place])
        if not dry_run:
            _replace(home / RETIRED_KEYS_FILE, "".join(f"{_secret(k)}\n" for k in kept))
            journal = _journal(home)
            if journal is not None and journal[1] == ring.kid:  # (A18-04: that rotation is done; none resumes it)
                (home / JOURNAL_FILE).unlink(missing_ok=True)
    return {"retired_kid": kid, "dry_run": dry_run, "dropped": not dry_run, "dropped_kids": [kid, *older],
            "kid": ring.kid, "retired": [k.kid for k in kept]}


def _secret(key: SealKey) -> str:
    """The key's text, to write it back to the home's own key files (never shown, logged or returned)."""
    return key._secret.decode("utf-8")  # noqa: SLF001 - the module that owns the key files


def sweep_temporaries(home: str | os.PathLike[str]) -> list[str]:
    """Remove the temporary files a killed write of the home's key files left — ``.seal-key.<pid>.<hex>`` (also what
    :func:`~firestop.trust.seal.load_seal_key` generates a first key in), ``.seal-key.retired.<pid>.<hex>`` and the
    journal's ``.seal-key.rotating.<pid>.<hex>`` (:func:`_write_whole`) — whose process ``pid`` is gone (a live one may
    be writing it still). The first two hold keys (a dropped key's copy, or a key never used); never the lock file.
    Returns the names removed. Raises nothing: what cannot be removed stays."""
    removed = []
    try:
        names = os.listdir(home)
    except OSError:
        return removed
    for name in names:
        for stem in (f".{RETIRED_KEYS_FILE}.", f".{JOURNAL_FILE}.", f".{SEAL_KEY_FILE}."):
            if name.startswith(stem):
                pid, _, tail = name[len(stem):].partition(".")
                if pid.isdigit() and len(tail) == 8 and _gone(int(pid)):
                    try:
                        os.unlink(Path(home) / name)
                        removed.append(name)
                    except OSError:
                        pass
                break
    return removed


def _gone(pid: int) -> bool:
    """True when no process ``pid`` runs (``kill(pid, 0)``: ESRCH); False for this process and one that runs."""
    if pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except (PermissionError, OverflowError, OSError):
        return False
    return False


def _replace(path: Path, text: str) -> None:
    """Replace a key file (:data:`SEAL_KEY_FILE`, :data:`RETIRED_KEYS_FILE`) with ``text``: :func:`_write_whole`."""
    _write_whole(path, text)


def _resumable(home: Path, ring: SealKeyRing, was: str) -> bool:
    """Whether a journal naming the current key (rotated from ``was``) is a rotation just killed after its switch
    (:data:`RESUME_SECONDS`), not one left long ago or planted: a stale one is overwritten by a new rotation."""
    import time

    if not ring.retired or ring.retired[0].kid != was:
        return False
    try:
        switched = (home / SEAL_KEY_FILE).stat().st_mtime
    except OSError:
        return False
    return 0 <= time.time() - switched <= RESUME_SECONDS


def _journal(home: Path) -> tuple[str, str] | None:
    """``(was, kid)`` of the rotation :data:`JOURNAL_FILE` says was under way (key ids), None when none was (or the
    file is not one: it is rewritten by the next rotation)."""
    try:
        text = (home / JOURNAL_FILE).read_text(encoding="utf-8", errors="replace")[:200]
    except OSError:
        return None
    fields = dict(part.partition("=")[::2] for part in text.split())
    was, kid = fields.get("was", ""), fields.get("kid", "")
    if all(len(k) == 8 and all(c in "0123456789abcdef" for c in k) for k in (was, kid)):
        return was, kid
    return None


def _write_whole(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` whole or not at all: a temporary file 0600 beside it, fsynced, renamed over it."""
    private_dirs(path.parent)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(text)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)


@contextmanager
def _locked(home: Path) -> Iterator[None]:
    """An exclusive ``fcntl`` lock on ``home/.seal-key.lock`` (none where there is no fcntl)."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - not POSIX
        yield
        return
    private_dirs(home)
    fd = os.open(home / LOCK_FILE, os.O_RDWR | os.O_CREAT, FILE_MODE)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


__all__ = ["OlderKeysKept", "RingFull", "RingNotLocal", "SealKeyRing", "UnknownKey", "describe", "retire", "rotate"]
