"""Sealed inputs: proof that a document came from Firestop's intake or its authenticated API.

Anyone holding the Durable extension's system key can start any orchestrator
with any input and raise any event. So every input that makes Firestop act —
an incident's orchestration input, a step group's input, an approval decision,
a stop request — carries a **seal**: HMAC-SHA256, under a key only the app
holds, over

    b"firestop-seal/v1\\n" + purpose + b"\\n" + binding + b"\\n" + digest

where ``digest`` is :func:`firestop.seal_contract.digest` of the document (its
canonical JSON without the ``"seal"`` field), ``purpose`` one of
:class:`~firestop.seal_contract.Purpose` and ``binding`` what the document is for: the orchestration
instance ID (an incident, a step group — so a sealed input cannot be reused
for another instance), ``<incident id>/<step id>`` for a decision. The seal
travels in the document's ``"seal"`` field as ``v1.<key id>.<MAC, base64url>``;
the key id (8 hex of a SHA-256 of the key) only tells which key sealed it.

Who seals: intake (``POST /api/alerts``, ``alert handle``, the tabletop
runner) the incident input; the responders' API (and the CLI, which runs with
the local key) decisions and stops; the incident orchestrator, through the
``seal_input`` activity, each step group's input. Who verifies: the
``verify_seal`` activity, the first thing each orchestration does — in an
activity, not in orchestrator code, so a key rotation cannot change what a
replay decides (the activity's ``{"ok", "reason"}`` is in history; the key
never is).

The key (:func:`load_seal_key`): the app setting ``FIRESTOP_SEAL_KEY`` (on
Azure a Key Vault reference, ``@Microsoft.KeyVault(SecretUri=…)``; at least
32 characters, no whitespace); locally, when unset, one generated once into
``FIRESTOP_HOME/seal-key`` (mode 0600). On Azure (``WEBSITE_SITE_NAME`` or
``WEBSITE_INSTANCE_ID`` in the environment, which App Service sets,
https://learn.microsoft.com/azure/app-service/reference-app-settings) a
missing key is an error, never a generated one: instances would each hold
their own. :class:`SealKey` never shows the key (``repr`` gives the key id);
errors name the setting, not the value.

The keyring (seal17): :func:`load_seal_key` returns a :class:`SealKeyRing` — the current key plus at most
:data:`MAX_RETIRED_KEYS` retired ones (a ring of at most 4), so the key can be rotated without hiding what the old one
sealed. It **seals with the current key only** and **checks a seal with the key its key id names**, current or
retired (a seal carries its key's id; one lookup, never a trial of every key) — except a seal that authorises an
action now (:data:`LIVE_PURPOSES`: an incident's or a step group's input, a decision, a stop), which only the current
key opens (seal18, RT20-01: a retired key opens history, never a new command). Key-derived *names* (a moved ledger
``<name>.m-<16 hex>``, a keyed record ``<incident>.r<N>-<16 hex>.json``, a manual-run index's moved name, the
sealed-lines marker) are looked up under every key of the ring (:func:`ring_keys`: at most 4 names each); new ones
are made under the current key. Retired keys come from ``FIRESTOP_SEAL_KEY_RETIRED`` (whitespace-separated; on Azure
a Key Vault reference to the secret ``firestop-seal-key-retired``) or, locally when that is unset, from
``FIRESTOP_HOME/seal-key.retired`` (one a line, newest first, mode 0600), which ``python -m firestop seal-key rotate``
and ``seal-key retire`` write (:mod:`firestop.trust.keyring`). More than :data:`MAX_RETIRED_KEYS` is an error
(:class:`SealKeyError`, naming where and the fix), never a silent drop: a dropped key is a decision. A retired key
equal to the current one is counted once. A key id (:attr:`SealKey.kid`, 8 hex of a SHA-256 of the key under its own
domain) is what every output, log and error names; a key never.

Every key of a loaded ring is a log secret (seal18, :func:`_register`): no log line of the process shows it, whether
it came from the settings or from ``FIRESTOP_HOME``, and a key rotated in while ``serve`` runs is registered when read.

Imports only the stdlib, :mod:`firestop.seal_contract` (pure) and, lazily, :mod:`firestop.settings` and
:mod:`firestop.telemetry.logs` (stdlib only).
"""

from __future__ import annotations

import binascii
import hashlib
import hmac
import os
import secrets
from pathlib import Path
from typing import Any, Callable, Mapping

from firestop.environ import ENVIRON
from firestop.seal_contract import SEAL_FIELD, Purpose, binding_of_decision, digest
from firestop.private import private_dirs

SEAL_KEY_ENV = "FIRESTOP_SEAL_KEY"
SEAL_KEY_FILE = "seal-key"
#: Retired keys (seal17): the app setting (whitespace-separated keys) and, locally, the file beside :data:`SEAL_KEY_FILE`.
RETIRED_KEYS_ENV = "FIRESTOP_SEAL_KEY_RETIRED"
RETIRED_KEYS_FILE = "seal-key.retired"
#: The whole value that says "no retired key" (never a key: keys are at least 32 characters).
NO_RETIRED_KEY = "none"
#: The most retired keys a ring holds (so a ring is at most 4 keys: every key-derived name is looked up at most 4 times,
#: and a seal is checked against one key, the one its key id names). Four covers a quarterly rotation kept a year.
MAX_RETIRED_KEYS = 3
#: The purposes whose seal authorises an action *now* (seal18, RT20-01): an incident's input (it starts containment,
#: pins a playbook, names who requested it), a step group's, an approval decision, a stop. A ring checks them with its
#: current key only: the app seals with the current key alone, so no genuine one made after a rotation carries a
#: retired key's id — and one made with it (by whoever holds the key rotated out, the reason for a rotation) would
#: keep that key a full command key for as long as it stays retired. No grace after the rotation: an input sealed just
#: before it and checked just after is refused (fail closed: the incident is ``refused``, a decision is counted
#: refused; handle it again). Every other purpose — what was sealed for the record: ledger entries, filings, audits
#: and their markers, trusted-rule events, status links handed out, the alerts key's digest — a retired key still
#: opens (a trusted-rule *trust* it sealed is then not believed by :mod:`firestop.infra.trusted_rules`: A18-03).
LIVE_PURPOSES = frozenset(p.value for p in (Purpose.INCIDENT, Purpose.STEP_GROUP, Purpose.APPROVAL, Purpose.STOP))
#: App Service sets these on every instance (reference-app-settings, "App environment").
AZURE_MARKERS = ("WEBSITE_SITE_NAME", "WEBSITE_INSTANCE_ID")
MIN_KEY_LENGTH = 32
#: A seal is ``v1.`` + 8 hex + ``.`` + 43 base64url characters; anything much longer is not one.
MAX_SEAL_LENGTH = 96
_VERSION = "v1"
_HEAD = f"firestop-seal/{_VERSION}"
_b2a_base64 = binascii.b2a_base64
#: ``base64``'s URL-safe alphabet from the standard one (``base64._urlsafe_encode_translation``)
_URLSAFE = bytes.maketrans(b"+/", b"-_")


class SealKeyError(RuntimeError):
    """No usable seal key; the message names the setting or file and the fix (never the value)."""


#: SHA-256's block size in bytes (FIPS 180-4), RFC 2104's ``B``; and its ipad / opad as translation tables (as the
#: standard library's ``hmac`` module builds them)
_BLOCK = 64
_IPAD = bytes(x ^ 0x36 for x in range(256))
_OPAD = bytes(x ^ 0x5C for x in range(256))


def _keyed_pads(secret: bytes) -> tuple[Any, Any]:
    """HMAC-SHA256's inner and outer hashes for ``secret``, keyed and not yet fed (RFC 2104: a key longer than the
    block is hashed first, then zero-padded to the block; inner = H(K ^ ipad || ...), outer = H(K ^ opad || ...))."""
    if len(secret) > _BLOCK:
        secret = hashlib.sha256(secret).digest()
    padded = secret.ljust(_BLOCK, b"\0")
    return hashlib.sha256(padded.translate(_IPAD)), hashlib.sha256(padded.translate(_OPAD))


class SealKey:
    """The app's seal key. ``origin``: ``"environment"``, ``"stored in <path>"`` or ``"generated, stored in <path>"``."""

    __slots__ = ("_secret", "origin", "kid", "_inner", "_outer")

    def __init__(self, secret: str, origin: str) -> None:
        self._secret = secret.encode("utf-8")
        self.origin = origin
        self.kid = hashlib.sha256(b"firestop-seal-kid\n" + self._secret).hexdigest()[:8]
        self._inner, self._outer = _keyed_pads(self._secret)

    def __repr__(self) -> str:
        return f"SealKey(kid={self.kid!r}, origin={self.origin!r})"

    def _mac(self, purpose: str, binding: str, document_digest: str) -> str:
        message = "\n".join((_HEAD, str(purpose), binding, document_digest)).encode("utf-8")
        # HMAC-SHA256 (RFC 2104) from the key's inner and outer hashes, keyed once (_keyed_pads) and copied per
        # MAC, all in C: hmac.digest, OpenSSL's one-shot HMAC, looks the algorithm up and keys both pads again on
        # every call (~24,000 instructions per seal under callgrind against ~9,000; issue 18).
        # tests/trust/test_seal.py holds it equal to hmac.digest for keys shorter than, as long as and longer than
        # the block.
        inner = self._inner.copy()
        inner.update(message)
        outer = self._outer.copy()
        outer.update(inner.digest())
        # base64.urlsafe_b64encode's own steps (b2a_base64 without the newline, then + and / to - and _), without
        # its two Python frames
        return _b2a_base64(outer.digest(), newline=False).translate(_URLSAFE).rstrip(b"=").decode("ascii")

    def sign(self, purpose: Purpose | str, binding: str, document_digest: str) -> str:
        """The seal of a document with digest ``document_digest`` for ``purpose`` and ``binding``.
        Raises ValueError for a binding with a line break (it would make two bindings collide)."""
        _check_binding(binding)
        return f"{_VERSION}.{self.kid}.{self._mac(purpose, binding, document_digest)}"

    def check(self, purpose: Purpose | str, binding: str, document_digest: str, seal: Any) -> tuple[bool, str]:
        """``(ok, reason)``: does ``seal`` seal that digest for that purpose and binding under this key?"""
        if seal is None:
            return False, "no seal: the input did not come from Firestop's intake or authenticated API"
        if not isinstance(seal, str) or len(seal) > MAX_SEAL_LENGTH or seal.count(".") != 2:
            return False, "malformed seal"
        version, kid, mac = seal.split(".")
        if version != _VERSION:
            return False, f"seal version {version[:8]!r} is not {_VERSION}"
        if "\n" in binding or "\r" in binding:
            return False, "the binding (instance id) has a line break"
        if kid != self.kid:
            return False, f"sealed with another key (key id {kid[:8]!r}; this app holds {self.kid!r})"
        if not hmac.compare_digest(mac.encode("ascii", "replace"), self._mac(purpose, binding, document_digest).encode("ascii")):
            return False, ("seal does not match: the input was changed after it was sealed, "
                           f"or it was sealed for another {purpose} instance")
        return True, "sealed by this app"


def _check_binding(binding: str) -> None:
    if not isinstance(binding, str) or "\n" in binding or "\r" in binding:
        raise ValueError("a seal binding is a string without line breaks")


def _kid_of(seal: Any) -> str | None:
    """The key id a seal names (``v1.<kid>.<mac>``), None when ``seal`` is not shaped like one."""
    if isinstance(seal, str) and len(seal) <= MAX_SEAL_LENGTH and seal.count(".") == 2:
        return seal.split(".", 2)[1]
    return None


class SealKeyRing:
    """The current seal key and the retired ones (module docstring, seal17): :meth:`sign` with :attr:`current`,
    :meth:`check` with whichever key the seal's key id names. Drop-in for a :class:`SealKey` wherever one is taken
    (``kid``, ``origin``, ``sign``, ``check``). Never shows a key: ``repr`` gives key ids."""

    __slots__ = ("current", "retired", "keys", "_by_kid")

    def __init__(self, current: SealKey, retired: "tuple[SealKey, ...] | list[SealKey]" = ()) -> None:
        kept: list[SealKey] = []
        seen = {current.kid}
        for key in retired:
            if key.kid not in seen:
                seen.add(key.kid)
                kept.append(key)
        if len(kept) > MAX_RETIRED_KEYS:
            raise SealKeyError(f"{len(kept)} retired seal keys: a ring holds at most {MAX_RETIRED_KEYS} besides the "
                               "current one; drop the oldest (python -m firestop seal-key retire KEY_ID)")
        self.current = current
        self.retired: tuple[SealKey, ...] = tuple(kept)
        self.keys: tuple[SealKey, ...] = (current, *kept)
        self._by_kid = {key.kid: key for key in self.keys}

    @property
    def kid(self) -> str:
        """The current key's id (what new seals carry)."""
        return self.current.kid

    @property
    def origin(self) -> str:
        return self.current.origin

    def __repr__(self) -> str:
        return f"SealKeyRing(kid={self.kid!r}, retired={[k.kid for k in self.retired]!r}, origin={self.origin!r})"

    def sign(self, purpose: Purpose | str, binding: str, document_digest: str) -> str:
        """:meth:`SealKey.sign` with the current key (a retired key never seals)."""
        return self.current.sign(purpose, binding, document_digest)

    def check(self, purpose: Purpose | str, binding: str, document_digest: str, seal: Any) -> tuple[bool, str]:
        """:meth:`SealKey.check` with the ring's key whose id ``seal`` names; a seal naming no key of the ring (a
        dropped key's, another app's) is not ok and says which key ids the app holds. A seal of a
        :data:`LIVE_PURPOSES` purpose (a command acted on now) is checked with the current key only: one a retired key
        made is not ok (seal18, RT20-01; module docstring)."""
        if not self.retired:
            return self.current.check(purpose, binding, document_digest, seal)
        key = self._by_kid.get(_kid_of(seal) or "")
        if key is not None and key is not self.current and str(purpose) in LIVE_PURPOSES:
            return False, (f"sealed with retired key {key.kid}: a retired key still opens what it sealed before the "
                           f"rotation, never a new {purpose} (sealed with the current key {self.kid} only); if it was "
                           "sealed just before the rotation, handle it again")
        if key is None:
            ok, reason = self.current.check(purpose, binding, document_digest, seal)
            if reason.startswith("sealed with another key"):
                reason = (f"sealed with a key this app does not hold (key id {str(_kid_of(seal))[:8]!r}; this app holds "
                          f"{self.kid!r} and retired {', '.join(repr(k.kid) for k in self.retired)})")
            return ok, reason
        ok, reason = key.check(purpose, binding, document_digest, seal)
        if ok and key is not self.current:
            reason = f"sealed by this app (retired key {key.kid})"
        return ok, reason


def ring_keys(key: Any) -> "tuple[SealKey, ...]":
    """Every key of ``key`` — a :class:`SealKeyRing` (current first, then the retired ones, newest first) or a lone
    :class:`SealKey` (itself): what a key-derived name is looked up under (at most 1 + :data:`MAX_RETIRED_KEYS`)."""
    keys = getattr(key, "keys", None)
    return keys if isinstance(keys, tuple) else (key,)


def on_azure(env: Mapping[str, str] | None = None) -> bool:
    """True when App Service's environment says this runs on Azure."""
    env = ENVIRON if env is None else env
    return any(env.get(name) for name in AZURE_MARKERS)


def _valid(value: str, where: str) -> str:
    if len(value) < MIN_KEY_LENGTH or any(c.isspace() for c in value):
        raise SealKeyError(f"{where}: the seal key must be at least {MIN_KEY_LENGTH} characters without whitespace; "
                           "generate one with: python -c \"import secrets; print(secrets.token_urlsafe(32))\"")
    return value


def load_seal_key(home: str | os.PathLike[str] | None = None, env: Mapping[str, str] | None = None) -> SealKeyRing:
    """The app's seal keyring (see the module docstring): the current key and the retired ones. ``home`` defaults to
    the settings' ``FIRESTOP_HOME``.

    Raises :class:`SealKeyError` when ``FIRESTOP_SEAL_KEY`` is set but unusable, when it is
    missing on Azure, when the stored file is unusable, or when a retired key is unusable or there are more than
    :data:`MAX_RETIRED_KEYS` (the message names the setting or file, never a value).
    """
    env = ENVIRON if env is None else env  # every webhook loads the key (firestop.environ: no KeyError per unset name)
    value = env.get(SEAL_KEY_ENV)
    retired_value = env.get(RETIRED_KEYS_ENV)
    if value is not None:
        cached = _from_env.get((value, retired_value))
        if cached is None:
            current = SealKey(_valid(value.strip(), SEAL_KEY_ENV), "environment")
            cached = SealKeyRing(current, _parse_retired(retired_value or "", RETIRED_KEYS_ENV))
            _register("settings", cached)
            _from_env.clear()
            _from_env[(value, retired_value)] = cached
        return cached
    if on_azure(env):
        raise SealKeyError(f"{SEAL_KEY_ENV} is not set: on Azure the seal key must be an app setting (a Key Vault "
                           f"reference, @Microsoft.KeyVault(SecretUri=https://<vault>.vault.azure.net/secrets/<name>)) "
                           "shared by every instance; nothing is sealed or verified without it")
    if home is None:
        home = (_settings or _settings_module()).get_settings().home
    path = _key_paths.get(home)
    if path is None:
        path = Path(home) / SEAL_KEY_FILE
        if len(_key_paths) >= 64:
            _key_paths.clear()
        _key_paths[home] = path
    stored = _stored_key(path)
    if stored is not None:
        return _ring_of(path, stored, retired_value)
    private_dirs(path.parent)
    # write to a private temporary file, then link it into place: a concurrent reader never sees half a key,
    # and of two processes generating at once the second keeps the first's key
    temporary = path.with_name(f".{SEAL_KEY_FILE}.{os.getpid()}.{secrets.token_hex(4)}")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w") as out:
            out.write(secrets.token_urlsafe(32) + "\n")
        try:
            os.link(temporary, path)
            origin = f"generated, stored in {path}"
        except FileExistsError:
            origin = f"stored in {path}"
    finally:
        temporary.unlink(missing_ok=True)
    return _ring_of(path, SealKey(_valid(path.read_text().strip(), str(path)), origin), retired_value)


def _parse_retired(text: str, where: str) -> "tuple[SealKey, ...]":
    """The retired keys in ``text`` (whitespace-separated, newest first); SealKeyError naming ``where`` (never a
    value) for one that is not a usable key. The count is checked by :class:`SealKeyRing`. The word
    :data:`NO_RETIRED_KEY` (``none``) stands for no key and is skipped: alone it is a ring without a retired key, the
    value the template's vault secret holds until a key is retired (the reference must always resolve: deploy18), and
    README's rotation step ``sealKeyRetired="$OLD $RETIRED"`` with that value still gives just ``$OLD``."""
    words = [word for word in text.split() if word.lower() != NO_RETIRED_KEY]
    if len(words) > 4 * (MAX_RETIRED_KEYS + 1):  # far past the bound: not read further
        raise SealKeyError(f"{where}: {len(words)} retired seal keys; a ring holds at most {MAX_RETIRED_KEYS} besides "
                           "the current one (python -m firestop seal-key retire KEY_ID drops one)")
    return tuple(SealKey(_valid(word, f"{where} (retired key {n})"), f"retired, {where}")
                 for n, word in enumerate(words, 1))


def _ring_of(path: Path, current: SealKey, retired_value: str | None) -> SealKeyRing:
    """The ring of ``current`` (read from ``path``) and the retired keys: ``FIRESTOP_SEAL_KEY_RETIRED`` when set, else
    the file :data:`RETIRED_KEYS_FILE` beside ``path`` (reread only when its stat stamp changed; none: no retired key).
    Read after the current key: a rotation writes the retired file first (:mod:`firestop.trust.keyring`), so a reader
    that sees the new current key sees the old one retired."""
    if retired_value is not None:
        retired = _from_env_retired.get(retired_value)
        if retired is None:
            retired = _parse_retired(retired_value, RETIRED_KEYS_ENV)
            _from_env_retired.clear()
            _from_env_retired[retired_value] = retired
    else:
        retired_path = _retired_paths.get(path)
        if retired_path is None:
            retired_path = str(path.with_name(RETIRED_KEYS_FILE))
            if len(_retired_paths) >= 64:
                _retired_paths.clear()
            _retired_paths[path] = retired_path
        retired = _stored_retired(retired_path)
    hit = _rings.get(path)
    if hit is not None and hit[0] is current and hit[1] is retired:
        return hit[2]
    ring = SealKeyRing(current, retired)
    _register(str(path), ring)
    if len(_rings) >= 64:
        _rings.clear()
    _rings[path] = (current, retired, ring)
    return ring


def _register(owner: str, ring: SealKeyRing) -> None:
    """Register every key of ``ring`` with the log redaction for ``owner`` (its source: the home's key file, or
    ``"settings"``): no log line of this process shows one, ``[redacted]`` instead
    (:func:`firestop.telemetry.logs.register_owned_secrets`). seal18: before, only the app settings' values were
    registered, by :func:`firestop.telemetry.start.start_telemetry` at the start of ``serve`` and the Functions host —
    the home's ``seal-key``, its retired keys and a key ``seal-key rotate`` made while ``serve`` ran were printed as
    they were. Called when a ring is built (a cached load builds none)."""
    from firestop.telemetry.logs import register_owned_secrets

    register_owned_secrets(owner, (key._secret.decode("utf-8") for key in ring.keys))  # noqa: SLF001 - this module's keys


_NO_RETIRED: "tuple[SealKey, ...]" = ()


def _stored_retired(name: str) -> "tuple[SealKey, ...]":
    """The retired keys stored at path ``name`` (none if there is no file), cached by stat stamp as :func:`_stored_key`.
    No file (the usual: no rotation yet) is told by ``os.access`` (a bool, no exception: a raised FileNotFoundError was
    most of a cached load's added cost)."""
    if not os.access(name, os.F_OK):
        return _NO_RETIRED
    retired = _read_by_stamp(name, _retired_from_file, lambda: _parse_retired(Path(name).read_text(), name))
    return _NO_RETIRED if retired is None else retired


def _read_by_stamp(name: str, cache: dict[str, tuple[tuple[int, int, int, int], Any]], read: Callable[[], Any]) -> Any:
    """``read()``'s value for the file at ``name``, called again only when the file's inode, size, mtime or ctime
    changed (a replaced or rewritten file is noticed at the next call); None if there is no file. ``cache`` holds at
    most 64 files (one per FIRESTOP_HOME in practice; bounded for test runs with many). Raises what ``read`` raises."""
    try:
        st = os.stat(name)
    except FileNotFoundError:
        return None
    stamp = (st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)
    hit = cache.get(name)
    if hit is not None and hit[0] == stamp:
        return hit[1]
    value = read()
    if len(cache) >= 64:
        cache.clear()
    cache[name] = (stamp, value)
    return value


#: The last key read from the environment (value → key) and from each key file (path → (stat stamp, key)):
#: the webhook loads the key on every request, and rereading + rehashing it was a few percent of intake.
_from_env: dict[tuple[str, str | None], SealKeyRing] = {}
_from_file: dict[str, tuple[tuple[int, int, int, int], SealKey]] = {}
#: The same for retired keys (seal17): the setting's value -> keys; each retired-keys file -> (stat stamp, keys); and the
#: ring last built for each key file (current, retired, ring), so a cached load builds nothing.
_from_env_retired: dict[str, "tuple[SealKey, ...]"] = {}
_retired_from_file: dict[str, tuple[tuple[int, int, int, int], "tuple[SealKey, ...]"]] = {}
_rings: dict[Path, tuple[SealKey, "tuple[SealKey, ...]", SealKeyRing]] = {}
#: Each key file's path -> its retired-keys file's path (a string), built once.
_retired_paths: dict[Path, str] = {}
#: FIRESTOP_HOME (as given) -> its key file's path, built once (a path join was a third of a cached load).
_key_paths: dict[Any, Path] = {}
#: firestop.settings, imported at the first load that needs it and kept (an import statement per webhook was
#: ~2-3 µs of CPU, load ~20); get_settings is still looked up on it at each call.
_settings: Any = None


def _settings_module() -> Any:
    global _settings
    import firestop.settings as settings

    _settings = settings
    return settings


def _stored_key(path: Path) -> SealKey | None:
    """The key stored at ``path`` (None if there is none), reread only when the file's inode, size, mtime or
    ctime changed (a replaced or rewritten key file is noticed at the next call). Raises SealKeyError."""
    return _read_by_stamp(str(path), _from_file,
                          lambda: SealKey(_valid(path.read_text().strip(), str(path)), f"stored in {path}"))


def seal(purpose: Purpose | str, document: dict[str, Any], *, binding: str, key: SealKey | None = None,
         leaves_plain: bool = False) -> dict[str, Any]:
    """A copy of ``document`` with its ``"seal"`` field set for ``purpose`` and ``binding``.

    ``key`` (a :class:`SealKey` or :class:`SealKeyRing`: its current key seals) defaults to :func:`load_seal_key`
    (raises :class:`SealKeyError`). ``leaves_plain``: the caller built
    ``document`` from ``str``, ``int``, ``bool`` and None leaves only (intake's incident input): the digest skips
    its leaf check (:func:`firestop.seal_contract.digest`); the seal is the same. Verification never takes it."""
    key = key or load_seal_key()
    if type(document) is dict:  # (the usual: one copy in C)
        sealed = document.copy()
        sealed.pop(SEAL_FIELD, None)
    else:
        sealed = {k: v for k, v in document.items() if k != SEAL_FIELD}
    sealed[SEAL_FIELD] = key.sign(purpose, binding, digest(sealed, leaves_plain=leaves_plain))
    return sealed


def verify(purpose: Purpose | str, document: Any, *, binding: str, key: SealKey | None = None) -> tuple[bool, str]:
    """``(ok, reason)`` for a sealed ``document`` (its ``"seal"`` field). The orchestrations use the
    ``verify_seal`` activity instead, with the digest computed in orchestrator code."""
    key = key or load_seal_key()
    found = document.get(SEAL_FIELD) if isinstance(document, dict) else None
    return key.check(purpose, binding, digest(document), found)


def retired_key_of(purpose: Purpose | str, document: Any, *, binding: str, key: Any) -> SealKey | None:
    """The retired key of ring ``key`` that sealed ``document`` for ``purpose`` and ``binding`` — its seal well formed,
    naming a retired key of the ring, its MAC right under that key — else None (no seal, junk, the current key's, an
    unknown key's, a wrong MAC). Opens nothing: for a :data:`LIVE_PURPOSES` purpose the ring still refuses it; a caller
    uses the answer only to tell a document Firestop sealed before a rotation from one nobody sealed (joins18: a
    pending join kept before a rotation is re-derived from its alert, never re-sealed). One MAC at most."""
    found = document.get(SEAL_FIELD) if isinstance(document, dict) else None
    kid = _kid_of(found)
    retired = next((k for k in getattr(key, "retired", ()) if k.kid == kid), None) if kid else None
    if retired is None:
        return None
    return retired if retired.check(purpose, binding, digest(document), found)[0] else None


#: What a delivery token's MAC covers besides its purpose and delivery id: no document, a fixed text.
_DELIVERY_DIGEST = "firestop-alert-delivery"
#: The text a delivery id's digest starts with (its own domain: no other hash in Firestop starts so).
_DELIVERY_DOMAIN = b"firestop-delivery\n"


def delivery_id(alert_id: str, monitor_condition: str) -> str:
    """The id of one delivery to ``POST /api/alerts``: ``"dlv-"`` + 32 hex (SHA-256 of the alert's ``alertId`` and
    ``monitorCondition``, what intake calls the same delivery). A function of what the sender sent and nothing else
    (no incident, no outcome), so the 202 tells the sender nothing it did not know; a repeat gets the same id."""
    text = f"{alert_id}\n{monitor_condition}".encode("utf-8", "surrogatepass")
    return "dlv-" + hashlib.sha256(_DELIVERY_DOMAIN + text).hexdigest()[:32]


def delivery_id_problem(value: Any) -> str | None:
    """Why ``value`` is not a :func:`delivery_id` (``"dlv-"`` + 32 lower-case hex), or None. Read before any token
    is checked, so nothing else of an outside value (its length, its characters) reaches the MAC."""
    if not isinstance(value, str) or len(value) != 36 or not value.startswith("dlv-") \
            or any(c not in "0123456789abcdef" for c in value[4:]):
        return "not a delivery id (dlv- and 32 lower-case hex digits, as the 202's deliveryId gives it)"
    return None


def delivery_token(delivery: str, *, key: SealKey) -> str:
    """The token a 202 to ``POST /api/alerts`` hands its sender with ``statusUri``: a seal for
    :attr:`Purpose.ALERT_DELIVERY` bound to the delivery id (``v1.<key id>.<MAC>``, URL-safe). Only this app's key
    makes one. Tokens of the earlier purpose ``alert-status`` (bound to an incident id) no longer verify.

    Across a key rotation (seal17): a token is made with the current key and checked with the key its id names, so a
    token handed out before a rotation answers while that key is retired in the ring, and stops answering once the key
    is dropped (``seal-key retire``): the sender then reads the incident through a responder. A scheduled rotation
    breaks no sender's status link; a suspected exposure ends them with the dropped key (whoever held it could mint
    them)."""
    return key.sign(Purpose.ALERT_DELIVERY, delivery, _DELIVERY_DIGEST)


def check_delivery_token(delivery: str, token: Any, *, key: SealKey) -> tuple[bool, str]:
    """``(ok, reason)``: is ``token`` this app's token for delivery ``delivery``? (None, a non-string, one over
    :data:`MAX_SEAL_LENGTH`, one for another delivery or key, or an incident status token handed out before: not ok.)"""
    if token is None or token == "":
        return False, "no token: the status route answers only with the token of the 202 that took this delivery"
    ok, _ = key.check(Purpose.ALERT_DELIVERY, delivery, _DELIVERY_DIGEST, token)
    return ok, ("the delivery token is valid" if ok else
                "the token was not issued for this delivery by this app (links handed out before this version named "
                "incidents and no longer answer; or the app's seal key has changed since)")


def seal_decision(event: dict[str, Any], *, key: SealKey | None = None) -> dict[str, Any]:
    """``event`` (:func:`firestop.lifecycle.approvals.decision_event`) sealed for its incident and step."""
    return seal(Purpose.APPROVAL, event, binding=binding_of_decision(str(event.get("incident_id")), str(event.get("step"))), key=key)


def seal_stop(event: dict[str, Any], *, key: SealKey | None = None) -> dict[str, Any]:
    """A stop request ``{"incident_id", "by", "groups", "reason", "stop_id", "at"}`` sealed for its incident."""
    return seal(Purpose.STOP, event, binding=str(event.get("incident_id")), key=key)
