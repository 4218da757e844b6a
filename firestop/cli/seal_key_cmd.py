"""``firestop seal-key show|rotate|retire``: the seal key's ring in a local ``FIRESTOP_HOME`` (seal17).

The noun is ``seal-key`` (not ``keys``: the ``keys.*`` runbooks rotate an Azure OpenAI account's keys, which this is
not). What the ring is and what each verb writes: :mod:`firestop.trust.keyring`; the procedure, locally and on Azure:
README "Rotating the seal key".

- ``seal-key show [--json]``: the current key's id, the retired keys' ids (newest first), where they come from. Key
  ids only (what every seal carries anyway): no role needed.
- ``seal-key rotate --as OID [--exposed] [--dry-run] [--json]``: a new current key; the current one retired (still opens what it
  sealed). Before the key files are written (seal18: a kill between could leave the new ring without it; ``retire``
  carries it first too when a ring was rotated without it, :func:`_carry_marker`), the manual-run index's sealed-lines
  marker is sealed anew under the new key with its time
  (:func:`runbooks.manual_runs.reseal_marker`), and the standing rule trusts are carried (A18-03) — none with
  ``--exposed`` (A19-03: the key's thief may have sealed any of them; each then shows ``re-trust``). Admin role.
- ``seal-key retire KEY_ID --as OID [--with-older] [--dry-run] [--yes] [--json]``: a retired key leaves the ring;
  nothing it sealed is believed from then on (asks first unless ``--yes``; ``--json`` needs ``--yes``). Keys leave
  oldest first: a key with older retired keys behind it is refused unless ``--with-older`` drops them with it
  (RT20-02/03, :class:`firestop.trust.keyring.OlderKeysKept`). Admin role.

``--as``: the caller's object id, checked against the local role table (FIRESTOP_ROLES or FIRESTOP_HOME/roles.json:
whoever can write FIRESTOP_HOME holds the key anyway; the check keeps a responder's habits from rotating by accident).
On Azure (App Service) and with the ring in app settings (``FIRESTOP_SEAL_KEY``/``FIRESTOP_SEAL_KEY_RETIRED`` set) the
verbs write nothing and say which setting or Key Vault secret to change.

Exit codes: 0 shown / rotated / retired (or a dry run), 2 bad input (not an admin, no such retired key, the current
key named, older retired keys kept behind it, the ring full, the ring in settings, not confirmed), 1 the home or the key files cannot be read or written.
No output, error or ``--json`` field ever carries a key.
"""

from __future__ import annotations

import os
from contextlib import contextmanager
from typing import Any, Iterator, Optional

import typer

from firestop.cli.output import EXIT_BAD_INPUT, EXIT_INTERNAL, clean, confirm_or_exit, console, err_console, fail, print_json

seal_key_app = typer.Typer(help="The seal key's ring in FIRESTOP_HOME: show, rotate, retire (key ids only, never a key).",
                           no_args_is_help=True)

_AS_HELP = "Your object ID, checked for the admin role in the local role table (default FIRESTOP_PRINCIPAL_ID)."


def _home() -> Any:
    from firestop.settings import get_settings

    return get_settings().home


def _say(lines: list[str]) -> None:
    for text in lines:
        console.print(clean(text), highlight=False, markup=False, soft_wrap=True)


@contextmanager
def _ring_failures(as_json: bool, refusals: tuple[type[Exception], ...] = (), *, files: str = "written",
                   after: str = "") -> Iterator[None]:
    """Exits the CLI for what a keyring step raises: one of ``refusals`` (the ring's own refusals, their message as is)
    or :class:`firestop.trust.seal.SealKeyError` → exit 2; ``OSError`` → exit 1 "FIRESTOP_HOME's seal key files cannot
    be {files} (<type>: <reason>)" then ``after`` (what was left undone). Anything else passes through."""
    from firestop.trust.seal import SealKeyError

    try:
        yield
    except refusals as exc:
        fail(str(exc), EXIT_BAD_INPUT, as_json=as_json)
    except SealKeyError as exc:
        fail(f"the seal key cannot be read: {exc}", EXIT_BAD_INPUT, as_json=as_json)
    except OSError as exc:
        fail(f"FIRESTOP_HOME's seal key files cannot be {files} ({type(exc).__name__}: {exc.strerror or exc}){after}",
             EXIT_INTERNAL, as_json=as_json)


@seal_key_app.command("show")
def show(as_json: bool = typer.Option(False, "--json", help="Print {kid, origin, retired, max_retired, where} as JSON.")) -> None:
    """The current seal key's id and the retired keys' ids (newest first). Key ids only."""
    from firestop.trust.keyring import describe

    with _ring_failures(as_json, files="read"):
        ring = describe(_home())
    if as_json:
        print_json(ring)
        return
    _say([f"Current seal key: {ring['kid']} ({ring['origin']}, {ring['where']})",
          f"Retired keys (still open what they sealed): {', '.join(ring['retired']) or 'none'} "
          f"(at most {ring['max_retired']})"])


@seal_key_app.command("rotate")
def rotate(
    as_: Optional[str] = typer.Option(None, "--as", help=_AS_HELP),
    dry_run: bool = typer.Option(False, "--dry-run", help="Say what would change; change nothing."),
    exposed: bool = typer.Option(False, "--exposed", help="The current key may have been copied: carry no rule trust "
                                 "under the new key (each shows re-trust until an admin trusts it again; A19-03)."),
    as_json: bool = typer.Option(False, "--json", help="Print {rotated, dry_run, was, kid, resumed, retired, resealed_marker, resealed_trusts, exposed} as JSON."),
) -> None:
    """Make a new seal key current; the current one is retired and still opens what it sealed. Admin role."""
    from firestop.trust.keyring import RingFull, RingNotLocal, rotate as rotate_ring

    _admin(as_, as_json)
    home = _home()
    carried: list[bool] = []
    trusts: list[int] = []
    with _ring_failures(as_json, (RingNotLocal, RingFull), after="; nothing was rotated, or run it again to finish"):
        done = rotate_ring(home, dry_run=dry_run, prepare=lambda ring: carried.append(_reseal_marker(ring)),
                           # A19-03: a thief of the exposed key plants trusts sealed with it: an exposure carries none
                           carry=None if exposed else (lambda ring: trusts.append(_reseal_trusts(ring))))
    done["resealed_marker"] = bool(carried and carried[0])
    done["resealed_trusts"] = trusts[0] if trusts else 0
    done["exposed"] = exposed
    if as_json:
        print_json(done)
        return
    if dry_run:
        if done.get("resumed"):
            _say([f"Would finish the rotation from {done['was']} that was stopped after its switch (no new key). "
                  "Nothing was changed."])
            return
        _say([f"Would make a new seal key current and retire {done['was']} (retired after: {', '.join(done['retired'])}). "
              "Nothing was changed."])
        return
    if done.get("resumed"):
        _say([f"The rotation from {done['was']} had been stopped after its switch: finished, no new key made; "
              f"{done['kid']} is current (retired: {', '.join(done['retired'])}). Run it again to rotate once more."])
        return
    _say([f"Seal key rotated: {done['kid']} is current; {done['was']} is retired and still opens what it sealed "
          f"(retired: {', '.join(done['retired'])}).",
          ("Rule trusts not carried (--exposed: whoever copied the old key could have sealed any of them): rules list "
           "flags each re-trust; trust again with rules trust the ones an admin made." if exposed else
           f"Rule trusts carried under the new key: {done['resealed_trusts']} (what was trusted stays trusted; a trust "
           "sealed with a retired key from now on is not believed: rules list flags it re-trust). After a suspected "
           "exposure rotate with --exposed instead: a trust the key's thief sealed would be carried too."),
          "Running `firestop serve` processes on this FIRESTOP_HOME read the new ring at their next seal (no restart).",
          f"After a suspected exposure: python -m firestop seal-key retire {done['was']} --with-older --as <admin object "
          "id> once what must stay believed is filed (it drops every older key too; README: Rotating the seal key)."])


def _reseal_trusts(ring: Any) -> int:
    """The standing rule trusts sealed anew under ``ring``'s current key (:func:`firestop.infra.trusted_rules.
    reseal_trusts`): the ring to come, before a rotation's files are written. 0 when the store cannot be read or
    written (noted on stderr; the rotation goes on and the rules show re-trust in ``rules list``: the safe side)."""
    from firestop.infra.trusted_rules import reseal_trusts
    from firestop.records.store import records_store
    from firestop.settings import get_settings
    from firestop.trust.seal import SealKeyError

    try:
        return reseal_trusts(records_store(get_settings()), ring)
    except (OSError, SealKeyError, ValueError) as exc:  # StoreError is an OSError
        err_console.print(clean(f"note: the rule trusts were not sealed anew ({type(exc).__name__}); after the rotation "
                                "rules list flags them re-trust: trust them again"), highlight=False, markup=False,
                          soft_wrap=True)
        return 0


def _reseal_marker(ring: Any) -> bool:
    """Seal the manual-run index's sealed-lines marker anew under ``ring``'s current key
    (:func:`runbooks.manual_runs.reseal_marker`): the ring to come, before a rotation's files are written; the ring,
    before a drop. False when there was none to carry, it is there already, or the store cannot be written (then the
    next manual run carries it while the old key is in the ring, and a ``retire`` tries again first)."""
    from firestop.settings import get_settings
    from firestop.storage import stores_for
    from firestop.trust.seal import SealKeyError
    from runbooks.manual_runs import reseal_marker

    settings = get_settings()
    try:
        return reseal_marker(stores_for(settings).ledger, ring)
    except (OSError, SealKeyError) as exc:  # StoreError is an OSError: the key is rotated (dropped) either way
        err_console.print(clean(f"note: the manual-run marker was not sealed anew ({type(exc).__name__}); the next "
                                "manual run does it"), highlight=False, markup=False, soft_wrap=True)
        return False


@seal_key_app.command("retire")
def retire(
    kid: str = typer.Argument(..., metavar="KEY_ID", help="The retired key's id (seal-key show lists them)."),
    as_: Optional[str] = typer.Option(None, "--as", help=_AS_HELP),
    with_older: bool = typer.Option(False, "--with-older", help="Drop every retired key older than KEY_ID too (keys "
                                    "leave oldest first: without it a key with older ones behind it is refused)."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Say what would change; change nothing."),
    yes: bool = typer.Option(False, "--yes", help="Do not ask first."),
    as_json: bool = typer.Option(False, "--json", help="Print {retired_kid, dry_run, dropped, dropped_kids, kid, retired} as JSON."),
) -> None:
    """Drop a retired seal key: nothing it sealed is believed from then on (past records shown unverified, their
    undo refused). Keys leave oldest first (--with-older drops the older ones with it). Admin role."""
    from firestop.trust.keyring import OlderKeysKept, RingNotLocal, UnknownKey, retire as retire_key

    kid = kid.strip().lower()
    if len(kid) != 8 or any(c not in "0123456789abcdef" for c in kid):
        fail(f"KEY_ID: {clean(kid[:40])!r} is not a key id (8 lower-case hex digits; python -m firestop seal-key show "
             "lists them)", EXIT_BAD_INPUT, as_json=as_json)
    _admin(as_, as_json)
    home = _home()
    if not dry_run:
        _carry_marker(home)  # (seal18: before any drop; create-only and idempotent, so before the question too)
    with _ring_failures(as_json, (RingNotLocal, UnknownKey, OlderKeysKept), after="; nothing was retired"):
        plan = retire_key(home, kid, dry_run=True, with_older=with_older)
        if not dry_run:
            if not yes:
                if as_json:
                    fail("--yes: seal-key retire --json does not ask; confirm with --yes (--dry-run shows it first)",
                         EXIT_BAD_INPUT, as_json=True)
                confirm_or_exit(f"Drop retired seal key{'s' if len(plan['dropped_kids']) > 1 else ''} "
                                f"{', '.join(plan['dropped_kids'])}? Nothing they sealed will be believed again",
                                as_json=as_json)
            plan = retire_key(home, kid, with_older=with_older)
    if as_json:
        print_json(plan)
        return
    verb = "Would drop" if dry_run else "Dropped"
    also = plan["dropped_kids"][1:]
    _say([f"{verb} retired seal key {kid}" + (f" and the older {', '.join(also)}" if also else "")
          + f": what only {'they' if also else 'it'} sealed is no longer believed (retired left: "
          f"{', '.join(plan['retired']) or 'none'}; current {plan['kid']})." + (" Nothing was changed." if dry_run else "")])


def _carry_marker(home: Any) -> bool:
    """Before ``seal-key retire`` drops a key: the manual-run marker sealed under the current key (:func:`_reseal_marker`
    with the home's ring) when a ring was rotated without it — by a version before seal18, or when the store could not
    be written at ``rotate`` — so that the drop does not move the time from which unsealed index lines are refused.
    False when nothing was carried (none to carry, already there, the key or the store unreadable: noted)."""
    from firestop.trust.seal import SealKeyError, load_seal_key

    try:
        ring = load_seal_key(home)
    except SealKeyError:
        return False  # (retire says why the key cannot be read)
    return _reseal_marker(ring)


def _admin(as_: Optional[str], as_json: bool) -> None:
    """Exit 2 unless ``--as`` (or FIRESTOP_PRINCIPAL_ID) holds the admin role in the local role table."""
    from firestop.trust import TrustError, roles_held

    who = (as_ or os.environ.get("FIRESTOP_PRINCIPAL_ID") or "").strip()
    if not who:
        fail("--as: who rotates the seal key? give an admin's object ID with --as <object-id> (the demo roles: oid-admin)",
             EXIT_BAD_INPUT, as_json=as_json)
    try:
        roles_held(who, (), (), "admin", azure=False)
    except TrustError as exc:
        fail(f"{exc.reason}; {exc.fix}", EXIT_BAD_INPUT, as_json=as_json)


def register(app: typer.Typer) -> None:
    """Add the ``seal-key`` noun to the root app."""
    app.add_typer(seal_key_app, name="seal-key")
