"""Undo the containment of a finished incident (a responder's decision, after the fact).

Below both entry points: the CLI (``incident undo``, :mod:`firestop.cli.undo`) and
the web console (:mod:`firestop.functions.http_console`) call :func:`apply_undo`
with the responder who decides (``by``, an Entra object id), which lands in the
timeline entry, the record's ``reason``/``does_not_hold`` and, through
``RunbookRequest.requested_by``, the undo's ledger entry.

Entry points run it through :func:`undo_under_lease`: inside the ``resource_lock`` lease of every
resource it restores, the lease containment holds (:mod:`firestop.lifecycle.locks`), so an undo and an
incident's containment on one resource never interleave; a manual runbook run's undo takes the same lease
(:func:`manual_undo_under_lease`). Inside the lease an undo is refused while another incident still open (awaiting
approval, running) targets one of its resources (:func:`open_reliance`) or a later filed incident relies on the
state it would restore — a later filed incident's step or a later manual run's (:func:`later_reliance`,
:func:`manual_reliance`) — compared per part of the state restored
(:meth:`runbooks.base.Runbook.restored_parts` / ``relied_parts``: an NSG rule of one incident is not another's).

Undoing a step that changed nothing (it found its state in place: "already locked") is a *release*
(:func:`_release`): the incident stops relying on that state — ``undone`` and ``released`` with who and when,
nothing restored, no Azure call — so the earlier incident whose undo it blocked can be undone (never a dead end).
A manual run that changed nothing is released the same way (:func:`release_manual`, on its ledger), sharing
:func:`release_stamp` and :meth:`runbooks.base.Runbook.releasable`.

Each undo runs the runbook's ``undo`` with what the step applied (the state
recorded before it) through the same dispatcher the orchestrator uses; the
runbook refuses when the target changed since. The outcome is appended to the
incident's record (timeline and action), filed as a new revision beside the
first filing (records are never replaced: :mod:`runbooks.records`).
"""

from __future__ import annotations

from contextlib import asynccontextmanager
import hashlib
from typing import Any, AsyncIterator, Callable


class UndoRefused(ValueError):
    """Nothing can be undone as asked (unknown incident, not finished, unknown step). ``field``: what the refusal is
    about, ``incident_id`` or ``step`` (the API's error field; the message names the CLI's ``ID`` / ``--step``)."""

    def __init__(self, message: str, field: str = "incident_id") -> None:
        super().__init__(message)
        self.field = field


class UndoBusy(UndoRefused):
    """A resource to restore stayed under another holder's containment lease (``resource_lock``) for the
    whole wait; nothing was undone. ``resource``, ``holder``: which and who (a step group's instance id)."""

    def __init__(self, resource: str, holder: str | None) -> None:
        super().__init__(f"{resource} is being contained by {holder or 'another operation'}; nothing was undone — "
                         "retry once that containment has finished")
        self.resource, self.holder = resource, holder


@asynccontextmanager
async def _undo_lease(port, resources: list[str], owner: str, max_polls: int | None) -> AsyncIterator[None]:
    """Hold the containment lease of ``resources`` for ``owner`` while the block runs, then give it back —
    the one way an undo (an incident's or a manual run's) takes the ``resource_lock`` leases.
    Raises :class:`UndoBusy` when a lease stayed held ``max_polls`` polls (None: one lease's length)."""
    from firestop.lifecycle.locks import LeaseBusy, hold_outside, release_outside

    try:
        if max_polls is None:
            await hold_outside(port, resources, owner)
        else:
            await hold_outside(port, resources, owner, max_polls=max_polls)
    except LeaseBusy as exc:
        raise UndoBusy(exc.resource, exc.holder) from None
    try:
        yield
    finally:
        await release_outside(port, resources, owner)


async def undo_under_lease(port, env, incident_id: str, record: dict[str, Any], actions: list[dict[str, Any]], *,
                           by: str, max_polls: int | None = None) -> dict[str, Any]:
    """:func:`apply_undo` inside the containment lease of every resource it restores — the same
    ``resource_lock`` entity leases a step group holds (:mod:`firestop.lifecycle.locks`), taken from outside
    an orchestration through ``port`` (:class:`~firestop.lifecycle.locks.HostLeasePort` in the CLI,
    :class:`~firestop.lifecycle.locks.ClientLeasePort` in an HTTP function). An undo while an incident contains
    one of those resources waits until its step group has released it (polling as a waiting group does);
    a step group that starts while the undo runs waits for the undo. The owner is ``undo:<incident id>:<hex>``.

    Raises :class:`UndoBusy` when a lease stayed held for ``max_polls`` polls (default: one lease's length,
    :data:`~firestop.lifecycle.locks.LEASE_SECONDS`); ValueError as :func:`apply_undo`.
    """
    import uuid

    if not isinstance(by, str) or not by.strip():
        raise ValueError("by: an undo needs the responder who decided it (their object id)")
    resources = sorted({a.get("target") for a in actions if isinstance(a.get("target"), str) and a.get("target")})
    async with _undo_lease(port, resources, f"undo:{incident_id}:{uuid.uuid4().hex[:12]}", max_polls):
        from firestop.settings import get_settings

        where = getattr(env, "settings", None) or get_settings()
        still_newest(where, incident_id, record, actions)
        await check_reliance(port, where, incident_id, record, actions)
        return apply_undo(env, incident_id, record, actions, by=by)


class UndoStale(UndoRefused):
    """The incident's newest filed record is no longer the one this undo was chosen from: another undo (or release)
    filed a revision while this one waited for the lease or for its confirmation (RT8-03: the second of two undos sent
    together restored the state again from the record it read before the first, and answered "undone"). Nothing is
    undone; the caller reads the incident again (``fix``)."""

    def __init__(self, incident_id: str, revision: int | None):
        UndoRefused.__init__(self, f"ID: the record of incident {incident_id} changed since this undo read it "
                             f"(revision {revision or '?'} was filed meanwhile: another undo or release); nothing was "
                             "undone — see what is already undone and undo again if anything is left", "incident_id")
        self.fix = f"python -m firestop incident show {incident_id}, then undo what is left"


def still_newest(where: Any, incident_id: str, record: dict[str, Any], actions: list[dict[str, Any]]) -> None:
    """Refuse (:class:`UndoStale`) when the newest filed record of ``incident_id`` is not ``record`` (compared as the
    filed JSON bytes, :func:`firestop.records.store.record_json`), so an undo acts only on the revision it was chosen
    from. No record filed yet: nothing to compare, the undo goes on. A records store that cannot be read refuses as
    the reliance check does (:class:`UndoUnchecked`).

    With settings (``where``: its ledger and seal key), from one listing and one ledger read
    (:func:`runbooks.records.sealed_filings`): :class:`UndoUnattested` when a revision sealed on the incident's ledger
    is missing from the records store (ledger9: deleting the newest revision rolled the incident back to an older sealed
    one, and a step already undone was undone again — also when every revision is gone and the undo would start from
    the orchestration's output), or when the newest revision is not sealed (RT10-03); :class:`UndoUnchecked` when the
    ledger cannot be read."""
    from firestop.records.store import filed_revisions, read_filed, record_json
    from firestop.storage import StoreError

    first = actions[0] if actions else {}
    try:  # one listing: the revision named, read and checked below is the same one (RT11-04)
        revisions = filed_revisions(where, incident_id)
    except StoreError as exc:
        raise UndoUnchecked(str(first.get("step_id") or "?"), str(first.get("target") or incident_id), str(exc)) from None
    sealed = None
    if hasattr(where, "records_container"):  # settings: what its ledger says was filed must all be there
        from firestop.trust.seal import SealKeyError
        from runbooks.records import missing_filings, sealed_filings

        try:
            sealed = sealed_filings(where, incident_id)
        except SealKeyError as exc:
            if revisions:  # nothing can be believed; with nothing filed there is nothing to compare either
                raise UndoUnattested(str(first.get("step_id") or "?"), incident_id,
                                     f"the app holds no usable seal key to check the record ({exc})") from None
        except (StoreError, ValueError) as exc:
            raise UndoUnchecked(str(first.get("step_id") or "?"), incident_id, str(exc), what="record and its ledger") from None
        missing = missing_filings(incident_id, sealed or {}, [n for n, _ in revisions])
        if missing is not None:
            raise UndoUnattested(str(first.get("step_id") or "?"), incident_id, missing)
    if sealed:  # records16 (A13-07): the newest *sealed* filing, at its plain or keyed name; an object Firestop did
        # not file (at a revision's plain name, or above the newest sealed one) is not the incident's word
        from firestop.records.store import believed_filing

        try:
            believed = believed_filing(where, incident_id)
        except StoreError as exc:  # unreadable, or the newest sealed revision's names hold other bytes (changed)
            raise UndoUnchecked(str(first.get("step_id") or "?"), str(first.get("target") or incident_id), str(exc)) from None
        revisions = [believed[:2]] if isinstance(believed, tuple) else revisions
    try:
        newest = read_filed(where, incident_id, revisions[-1][1]) if revisions else None
    except StoreError as exc:
        raise UndoUnchecked(str(first.get("step_id") or "?"), str(first.get("target") or incident_id), str(exc)) from None
    if newest is not None and record_json(newest) != record_json(record):
        raise UndoStale(incident_id, revisions[-1][0] if revisions else None)
    if newest is not None and revisions and sealed is not None:
        # the seal is checked over the bytes of the record the undo restores from (record_json: what records.file
        # wrote), not over a later read of the store, which a blob writer may have changed meanwhile (RT11-04)
        from runbooks.records import filing_problem

        revision, name = revisions[-1]
        problem = filing_problem(incident_id, sealed, revision, hashlib.sha256(record_json(record)).hexdigest())
        if problem is not None:
            raise UndoUnattested(str(first.get("step_id") or "?"), incident_id, f"{problem} ({name})")


def unsealed_filing(where: Any, incident_id: str, revision: int, name: str, *, sha256: str | None = None) -> str | None:
    """None when the stored bytes of ``name`` (revision ``revision`` of ``incident_id``'s record) — or, given, the
    JSON whose SHA-256 (hex) is ``sha256`` — are sealed by this app's key in a ``record`` entry of the incident's
    ledger (``runbooks.records``); else why not. Raises :class:`UndoUnchecked` when the record or the ledger cannot
    be read."""
    from firestop.records.store import RECORD_READ_LIMIT, records_store
    from firestop.storage import StoreError
    from runbooks.records import seal_problem

    try:
        raw = records_store(where).read(name, limit=RECORD_READ_LIMIT) if sha256 is None else b""
        if raw is None:
            return f"revision {revision} of the record is no longer in the records store"
        problem = seal_problem(where, incident_id, revision, sha256 or hashlib.sha256(raw).hexdigest())
    except (StoreError, ValueError) as exc:
        raise UndoUnchecked("?", incident_id, str(exc), what="record and its ledger") from None
    return None if problem is None else f"{problem} ({name})"


async def check_reliance(port, where: Any, incident_id: str, record: dict[str, Any], actions: list[dict[str, Any]]) -> None:
    """Refuse an undo relied on: an incident still open on a resource it restores (:func:`open_reliance`, RT6-03), or a
    later filed incident relying on what it restores (:func:`later_reliance`, reading every incident created since:
    RT7-03). Releases (actions that changed nothing) restore nothing and are never refused. Inside the lease it decides;
    the CLI also runs it before asking to confirm (advisory: the check inside the lease still decides).
    Raises :class:`UndoReliedOn` (and its kinds)."""
    restores = restoring(actions)
    if not restores:
        return
    resources = sorted({a.get("target") for a in restores if isinstance(a.get("target"), str) and a.get("target")})
    await open_reliance(port, incident_id, resources)
    later_reliance(where, incident_id, record, restores, candidates=await later_incidents(port, record))


async def manual_undo_under_lease(port, where: Any, run: Any, undo: Callable[[], dict[str, Any]], *,
                                  max_polls: int | None = None, by: str | None = None) -> dict[str, Any]:
    """Undo a manual runbook run (``runbook undo RUN_ID``, ``POST /api/runbook-runs/…/undo``) inside the
    containment lease of its target — the ``resource_lock`` lease a step group holds — so it never interleaves
    with an incident's containment of that resource (RT6-02: it took no lease, and its write could land between
    a group's before-state snapshot and its apply). Inside the lease it refuses as an incident's undo does: an
    incident still open on the target (:func:`open_reliance`), one filed after the run relying on it
    (:func:`manual_reliance`). ``undo()`` runs the runbook's undo and returns its dispatcher answer.

    A run that changed nothing (``run.changed`` False) is *released* instead, as an incident's step is
    (:func:`release_manual`): nothing restored, ``undo()`` never called, no reliance check (it restores nothing);
    ``by``: who released it (the API caller's object id; None from the local CLI, whose runs record no one).

    ``run``: a :class:`runbooks.manual_runs.ManualRun`; ``where``: settings (filed records, ledgers).
    Raises :class:`UndoBusy` when the lease stayed held ``max_polls`` polls (default: one lease's length),
    :class:`UndoReliedOn` (or :class:`UndoOpenIncident`) when relied on, :class:`runbooks.manual_runs.ManualUndoRefused`
    when the run's ledger, read again inside the lease, says it was undone meanwhile (RT8-03).
    """
    import uuid

    resources = [run.target] if isinstance(run.target, str) and run.target else []
    async with _undo_lease(port, resources, f"undo:{run.incident_id}/{run.step_id}:{uuid.uuid4().hex[:12]}", max_polls):
        from runbooks.manual_runs import find_manual_run

        # read the run's ledger again: another undo (or release) of it may have run while this one waited (RT8-03);
        # raises ManualUndoRefused ("already undone") or ManualAlreadyReleased before anything is written
        run = find_manual_run(where, f"{run.incident_id}/{run.step_id}")
        if not run.changed:
            return release_manual(where, run, by)
        await open_reliance(port, run.incident_id, resources)
        manual_reliance(where, run, candidates=await later_incidents(port, _manual_record(run)))
        return undo()


def _reversible(action: dict[str, Any]) -> bool:
    from runbooks import get_runbook

    try:
        return bool(type(get_runbook(action["runbook"])).reversible)
    except (KeyError, LookupError, TypeError):
        return False


def _why_not(action: dict[str, Any]) -> str:
    """Why a step's change stays (for the preview and the refusal)."""
    if action.get("runbook") in ("keys.rotate", "keys.revoke"):
        return "a revoked key is gone for good (regenerating cannot bring the old value back); consumers already use the new key"
    return "its runbook has no undo"


def not_undoable(record: dict[str, Any]) -> list[dict[str, Any]]:
    """Applied changes that stay whatever is undone: ``[{"step_id", "runbook", "why"}]``."""
    return [{"step_id": a.get("step_id"), "runbook": a.get("runbook"), "why": _why_not(a)}
            for a in record.get("actions") or [] if a.get("ok") and a.get("changed") and not _reversible(a)]


def outside_step(incident_id: str, record: dict[str, Any], step: str) -> list[dict[str, Any]]:
    """The incident's other steps when an undo or release is of ``step`` alone (``incident undo ID --step STEP``):
    ``[{"step_id", "runbook", "why"}]``, one per other step that did something, ``why`` saying how to undo or
    release it (the command) or why it cannot be. A ``--step`` preview lists these as *not part of this*
    undo/release — never as "stays as it is", which reads as if this undo decided they stay."""
    out: list[dict[str, Any]] = []
    seen: set[str] = set()
    for action in record.get("actions") or []:
        step_id = action.get("step_id")
        if not isinstance(action, dict) or step_id == step or step_id in seen or not action.get("ok"):
            continue
        command = f"python -m firestop incident undo {incident_id} --step {step_id}"
        if action.get("released"):
            why = "already released"
        elif action.get("undone"):
            why = "already undone"
        elif releasable(action):
            why = f"release it with: {command} (it changed nothing; nothing is restored)"
        elif not action.get("changed"):
            continue  # read-only or found nothing to do: nothing to undo or release
        elif _reversible(action):
            why = f"undo it with: {command}"
        else:
            why = f"cannot be undone: {_why_not(action)}"
        seen.add(step_id)
        out.append({"step_id": step_id, "runbook": action.get("runbook"), "why": why})
    return out


def already_undone(record: dict[str, Any]) -> list[dict[str, Any]]:
    """Steps a responder already undid: ``[{"step_id", "runbook", "at"}]`` (``at`` from the undo's timeline entry)."""
    when = {e.get("step", "")[len("undo "):]: e.get("at") for e in record.get("timeline") or []
            if str(e.get("step", "")).startswith("undo ") and e.get("outcome") in ("undone", "released")}
    return [{"step_id": a.get("step_id"), "runbook": a.get("runbook"), "at": when.get(a.get("step_id"))}
            for a in record.get("actions") or [] if a.get("undone")]


def _left_alone(record: dict[str, Any]) -> str:
    from firestop.times import instant

    parts = []
    done = already_undone(record)
    if done:
        parts.append("already undone: " + ", ".join(f"{d['step_id']} ({d['runbook']}{', at ' + instant(d['at']) if d['at'] else ''})" for d in done))
    stays = not_undoable(record)
    if stays:
        parts.append("cannot be undone: " + ", ".join(f"{d['step_id']} ({d['runbook']}: {d['why']})" for d in stays))
    free = sorted({str(a.get("step_id")) for a in record.get("actions") or [] if releasable(a)})
    if free:  # an undo without a step restores only; these found their state in place and may still block another's undo
        parts.append("changed nothing (found the state in place): " + ", ".join(free)
                     + f" — release one with --step {free[0]} (nothing is restored; an earlier incident relying on it can then be undone)")
    return ("; " + "; ".join(parts)) if parts else ""


def undo_selection(incident_id: str, runtime_status: str, output: Any, filed: dict[str, Any] | None, *,
                   step: str | None = None) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """(record, actions to undo, newest first) of a finished incident — the one choice behind ``incident undo``
    locally (:func:`firestop.cli.undo.undo_candidates`) and the API's undo routes (:mod:`firestop.functions.http_responders`).

    ``runtime_status``: the Durable runtime status (``Completed`` …); ``output``: the orchestration's output (its
    record); ``filed``: the newest filed record (it carries undos done after the orchestration ended), or None.
    Raises :class:`UndoRefused` when the incident has not finished or there is nothing (left) to undo.
    """
    if runtime_status != "Completed" or not isinstance(output, dict):
        if runtime_status in ("Pending", "Running"):  # running, or waiting for an approval: it may still act
            raise UndoRefused(f"ID: incident {incident_id} has not finished (it is running or waiting for an approval); undo "
                              "applies to finished incidents — to end it now: python -m firestop incident stop "
                              f"{incident_id} --reason TEXT (what already ran stays in place), then undo it; "
                              f"where it stands: python -m firestop incident show {incident_id}")
        raise UndoRefused(f"ID: incident {incident_id} ended without filing its record ({runtime_status}) and undo works "
                          f"from that record; see what it changed: python -m firestop incident show {incident_id} (and its "
                          f"ledger: python -m firestop ledger verify {incident_id}), and restore that by hand")
    from firestop.lifecycle.view import record_of

    record = filed or record_of(output)
    actions = [a for a in record.get("actions") or [] if a.get("ok") and a.get("changed") and not a.get("undone")
               and _reversible(a)]
    if step is not None:
        mine = [a for a in record.get("actions") or [] if a.get("step_id") == step]
        actions = [a for a in actions if a.get("step_id") == step]
        if not actions:
            known = ", ".join(sorted({a.get("step_id") for a in record.get("actions") or []})) or "none"
            released = [a for a in mine if a.get("released")]
            if released:
                raise AlreadyReleased(incident_id, step, released[0])
            releases = [a for a in mine if releasable(a)]
            if releases:  # found the state in place: undoing it is a release (nothing restored, no Azure call)
                return record, list(reversed(releases))
            if mine and all(a.get("undone") for a in mine if a.get("ok") and a.get("changed")) and any(a.get("undone") for a in mine):
                raise UndoRefused(f"--step: {step!r} is already undone", "step")
            if any(not _reversible(a) for a in mine):
                raise UndoRefused(f"--step: {step!r} ({mine[0].get('runbook')}) cannot be undone: {_why_not(mine[0])}", "step")
            if not mine:  # a typo or another incident's step: name this incident's steps
                raise UndoRefused(f"--step: incident {incident_id} has no step {step!r}; its steps: {known} "
                                  f"(see: python -m firestop incident show {incident_id})", "step")
            raise UndoRefused(f"--step: {step!r} changed nothing that can be undone (steps: {known})", "step")
    if not actions:
        raise UndoRefused(f"ID: incident {incident_id} has nothing left to undo" + _left_alone(record))
    return record, list(reversed(actions))


def undo_left_hint(incident_id: str, record: dict[str, Any], flags: str = "") -> str:
    """What a stop of the finished incident ``record`` (its record or view) tells the responder instead: the undo
    command (``flags`` appended, e.g. `` --as OID``) when some change can still be undone or released (as
    :func:`undo_selection` would choose), else that nothing it changed is left to undo — why, as ``incident undo``
    would refuse (:func:`_left_alone`), never a command that only answers "nothing left to undo" (new user 11)."""
    actions = [a for a in record.get("actions") or [] if isinstance(a, dict)]
    if any((a.get("ok") and a.get("changed") and not a.get("undone") and _reversible(a)) or releasable(a) for a in actions):
        return f"to restore what its containment changed: python -m firestop incident undo {incident_id}{flags}"
    if record.get("actions") is None:  # a view that is not a record (nothing to read): say nothing it cannot know
        return f"its record: python -m firestop incident show {incident_id}"
    return "nothing it changed is left to undo" + _left_alone(record)


def releasable(action: dict[str, Any]) -> bool:
    """A step that succeeded and changed nothing (it found its state in place: "already locked"), not yet undone or
    released, of a reversible containment runbook (not evidence): undoing it is a release — the incident stops relying
    on that state, nothing is restored (:func:`apply_undo`)."""
    from runbooks import get_runbook

    if not action.get("ok") or action.get("changed") or action.get("undone") or action.get("outcome") == "failed":
        return False
    try:
        return type(get_runbook(action["runbook"])).releasable()
    except (KeyError, LookupError, TypeError):
        return False


def restoring(actions: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The actions of an undo that restore something (changed the tenant); the others are releases."""
    return [a for a in actions if a.get("changed")]


def relied_state(action: dict[str, Any]) -> str:
    """What a released step relied on, for the message: ``network.lock's state on contoso-openai-prod``."""
    target = str(action.get("target") or "")
    return f"{action.get('runbook')}'s state on {target.rstrip('/').rsplit('/', 1)[-1] or 'its target'}"


class AlreadyReleased(UndoRefused):
    """The step was released already (:func:`undo_selection`): nothing to do. Entry points answer it as done
    (exit 0 / 200 with ``already_released``), so a retried release is idempotent."""

    def __init__(self, incident_id: str, step: str, action: dict[str, Any]):
        super().__init__(f"--step: {step!r} is already released: {incident_id} no longer relies on {relied_state(action)}"
                         f" (released by {action.get('released_by') or 'a responder'}"
                         f"{', at ' + str(action.get('released_at')) if action.get('released_at') else ''}); nothing was restored",
                         "step")
        self.incident_id, self.step = incident_id, step


class UndoReliedOn(UndoRefused):
    """A later incident's containment relies on the state this undo would restore away (RT4-06)."""

    def __init__(self, step_id: str, target: str, later: str, later_step: str, *, later_changed: bool = True):
        if later.startswith("manual-"):  # a manual run (runbook run) after it: ``later`` is its run id
            self.fix = (f"release it first — python -m firestop runbook undo {later} (it changed nothing, so nothing is "
                        "restored; the run stops relying on the state) — then undo this step again") if not later_changed \
                else f"undo that run first — python -m firestop runbook undo {later} — or decide with whoever ran it"
            super().__init__(f"step {step_id!r} on {target} is relied on by a later manual run, {later} "
                             f"({'it found that state in place and changed nothing' if not later_changed else 'it changed the same state'}); "
                             f"nothing was undone — {self.fix}", "step")
        elif later_changed:
            super().__init__(f"step {step_id!r} on {target} is relied on by a later incident, {later} (its step {later_step!r} "
                             f"found that state in place or made it); nothing was undone — undo {later} first, or "
                             "decide with that incident's responders", "step")
        else:  # the later step changed nothing: undoing it is a release (nothing restored), which unblocks this undo
            self.fix = (f"release it first — python -m firestop incident undo {later} --step {later_step} (it changed "
                        f"nothing, so nothing is restored; {later} stops relying on the state) — then undo this step again")
            super().__init__(f"step {step_id!r} on {target} is relied on by a later incident, {later}: its step {later_step!r} "
                             f"found that state in place and changed nothing; nothing was undone — {self.fix}", "step")
        self.later = later


class UndoOpenIncident(UndoReliedOn):
    """An incident still open (awaiting approval, running) targets a resource this undo restores (RT6-03): its
    containment may rely on the state the undo takes away, and it has no filed record yet to say so."""

    def __init__(self, target: str, later: str, state: str):
        UndoRefused.__init__(self, f"{target} is a target of incident {later}, which is still open ({state}); its "
                             "containment may rely on the state this undo would restore away; nothing was undone — "
                             f"let {later} finish (approve or reject it), then undo what it left", "step")
        self.later, self.state = later, state
        self.fix = f"let {later} finish first, then decide the undo"


class UndoTooManyOpen(UndoReliedOn):
    """More incidents are open than an undo reads (:data:`MAX_OPEN_INCIDENTS`): the one relying on the state the undo
    restores may be among those not read, so nothing is undone (RT7-01: the check read the oldest 200 and let the
    undo through, while the incident most likely to rely on it — the newest — was past the cut)."""

    def __init__(self, target: str, limit: int):
        UndoRefused.__init__(self, f"more than {limit} incidents are open (awaiting approval, running), more than an undo "
                             f"reads to check that none of them targets {target}; nothing was undone — let open incidents "
                             "finish (approve, reject or stop them), then undo", "step")
        self.later, self.state = "", "too many open"
        self.fix = f"retry once at most {limit} incidents are open (incident list shows them)"


#: Open incidents an undo reads to find one on its resources (a bound on its reads, oldest first); with more open, the
#: undo is refused (:class:`UndoTooManyOpen`): it cannot show that none of them relies on what it restores.
MAX_OPEN_INCIDENTS = 200


def _open_state(custom: Any) -> str:
    custom = custom if isinstance(custom, dict) else {}
    pending = custom.get("pending_approval") if isinstance(custom.get("pending_approval"), dict) else None
    if pending:
        return f"awaiting approval of step {str(pending.get('step'))[:80]!r}"
    return f"running, phase {str(custom.get('phase') or 'starting')[:40]}"


async def open_reliance(port, incident_id: str, resources: list[str]) -> None:
    """Refuse an undo while another incident still open (Pending/Running ``incident_orchestrator``: awaiting an
    approval, or containing) targets one of ``resources`` (its input's ``alert.target_ids``, or the target of the
    step it awaits approval for). :func:`later_reliance` reads filed records only, and an open incident has none
    yet: undoing the state it found in place would leave it approving or reporting a containment that no longer
    holds (RT6-03). ARM ids compare case-insensitively. Reads at most :data:`MAX_OPEN_INCIDENTS` instances through
    ``port`` (:meth:`firestop.lifecycle.locks.LeasePort.open_instances`), and asks for one more: with more open than
    it reads, the undo is refused (an unread one may rely on it: RT7-01).

    Raises :class:`UndoOpenIncident` naming the incident and what it waits for; :class:`UndoTooManyOpen` when more
    than :data:`MAX_OPEN_INCIDENTS` other incidents are open.
    """
    from firestop.lifecycle.incident import ORCHESTRATOR_NAME
    from firestop.resource_id import resource_id_key

    def key(value: Any) -> str:
        try:
            return resource_id_key(str(value))
        except ValueError:
            return str(value).strip().lower()

    mine = {key(r): r for r in resources if isinstance(r, str) and r}
    if not mine:
        return
    from firestop.instance_listing import InstanceListingIncomplete

    try:
        listed = await port.open_instances(ORCHESTRATOR_NAME, MAX_OPEN_INCIDENTS + 2)
    except InstanceListingIncomplete as exc:  # an unread open incident may rely on it: refuse (fail closed)
        raise UndoListingCut(next(iter(mine.values())), "open", exc.read) from None
    found = [entry for entry in listed if entry[0] != incident_id]  # (+2: the undone incident itself may be listed, and one past the bound)
    if len(found) > MAX_OPEN_INCIDENTS:
        raise UndoTooManyOpen(next(iter(mine.values())), MAX_OPEN_INCIDENTS)
    for other, data, custom in found:
        alert = data.get("alert") if isinstance(data, dict) else None
        targets = list(alert.get("target_ids") or []) if isinstance(alert, dict) and isinstance(alert.get("target_ids"), list) else []
        pending = custom.get("pending_approval") if isinstance(custom, dict) else None
        if isinstance(pending, dict) and pending.get("target"):
            targets.append(pending["target"])
        hit = next((mine[key(t)] for t in targets if isinstance(t, str) and key(t) in mine), None)
        if hit is not None:
            raise UndoOpenIncident(hit, other, _open_state(custom))


class UndoListingCut(UndoReliedOn):
    """The Durable backend's instance listing stopped at its page bound with more left
    (:class:`firestop.instance_listing.InstanceListingIncomplete`): an incident not read may rely on the state this
    undo restores, so nothing is undone. ``which``: ``"open"`` (incidents still open) or ``"later"`` (received
    since)."""

    def __init__(self, target: str, which: str, read: int):
        what = "still open" if which == "open" else "received since"
        UndoRefused.__init__(self, f"more incidents are {what} than the {read} an undo can list to check that none of "
                             f"them relies on {target}; nothing was undone", "step")
        self.later, self.state = "", f"too many {which}"
        self.fix = "let open incidents finish, then undo; or restore the state by hand after checking the incident list"


class UndoUnchecked(UndoReliedOn):
    """The filed records could not be listed (or one of them read), so whether a later incident relies on the state this undo restores is
    unknown: nothing is undone (RT7-02: the check returned as if none did, and the undo went ahead)."""

    def __init__(self, step_id: str, target: str, error: str, *, what: str = "filed records"):
        UndoRefused.__init__(self, f"step {step_id!r} on {target}: the {what or 'manual runs'} could not be read to check "
                             f"that no later incident or run relies on it ({error[:200]}); nothing was undone", "step")
        self.later = ""
        self.fix = "retry once the records store answers (python -m firestop doctor checks it)"


class UndoUnattested(UndoReliedOn):
    """The newest filed record of the incident is not one Firestop filed: its bytes carry no valid seal on the
    incident's ledger (:func:`unsealed_filing`), so nothing is restored from it (RT10-03: a revision planted in the
    records store chose the ``before`` an undo wrote to Azure). Nothing is undone."""

    def __init__(self, step_id: str, incident_id: str, problem: str):
        UndoRefused.__init__(self, f"step {step_id!r} of incident {incident_id}: {problem}; nothing was undone", "step")
        self.later = ""
        self.fix = (f"check the records store and the ledger (python -m firestop ledger verify {incident_id}); restore by hand "
                    "from a record you trust")


#: Filed records an undo reads to find later incidents relying on what it restores (a bound on its reads, in name order).
MAX_RELIANCE_RECORDS = 2000


#: Instances created this long before an incident's ``received_at`` are read too (clocks of workers and backend differ).
LATER_SLACK_SECONDS = 600


async def later_incidents(port, record: dict[str, Any]) -> list[str] | None:
    """Ids of the incidents created since ``record``'s ``received_at`` (less :data:`LATER_SLACK_SECONDS`), read through
    ``port`` (:meth:`firestop.lifecycle.locks.LeasePort.instances_since`): the only ones whose filed record can be
    a later incident's (an incident's orchestration is created when its alert is received). None when the port cannot
    say or the record has no time. Raises :class:`UndoListingCut` when the backend's listing stopped at its page
    bound (fail closed)."""
    from datetime import timedelta

    from firestop.instance_listing import InstanceListingIncomplete
    from firestop.lifecycle.incident import ORCHESTRATOR_NAME
    from firestop.lifecycle.timeline import parse_time

    received = parse_time(record.get("received_at"))
    if received is None:
        return None
    try:
        return await port.instances_since(ORCHESTRATOR_NAME, received - timedelta(seconds=LATER_SLACK_SECONDS))
    except InstanceListingIncomplete as exc:  # a later incident not read may rely on it: refuse (fail closed)
        raise UndoListingCut(f"what {str(record.get('incident_id') or 'this incident')[:80]} changed", "later",
                             exc.read) from None


class UndoTooManyLater(UndoReliedOn):
    """More incidents were received after this one than an undo reads (:data:`MAX_RELIANCE_RECORDS`): one relying on
    the state the undo restores may be among those not read, so nothing is undone (RT7-03)."""

    def __init__(self, step_id: str, target: str, count: int, limit: int):
        UndoRefused.__init__(self, f"step {step_id!r} on {target}: {count} incidents were received after it, more than "
                             f"the {limit} an undo reads to check that none relies on it; nothing was undone", "step")
        self.later = ""
        self.fix = "restore the state by hand, after checking the later incidents on the resource (incident list)"


def later_reliance(where: Any, incident_id: str, record: dict[str, Any], actions: list[dict[str, Any]], *,
                   candidates: Any = None) -> None:
    """Refuse an undo that would take away a later incident's containment.

    A later incident (received after this one) whose filed record holds a step on the same target with the same
    runbook, not undone and not failed, relies on the state this incident made: its step found it in place
    ("already locked; nothing changed") or made it again. Undoing this incident's step would silently reopen what
    that incident still reports as contained. Reads at most :data:`MAX_RELIANCE_RECORDS` filed records of
    ``where`` (settings, a store or a folder: :func:`firestop.records.store.records_store`); incidents still
    running have no filed record and are not seen (:func:`open_reliance` sees them).

    ``candidates``: the ids of every incident created since this one (:func:`later_incidents`, what the undo entry
    points pass inside the lease): exactly their filed records are read, and more than :data:`MAX_RELIANCE_RECORDS`
    of them refuses the undo (:class:`UndoTooManyLater`). None (a check before asking, outside the lease): the
    filed records are read in name order up to the bound — names are hashes, so past the bound a later incident
    is missed at random (RT7-03): only the check inside the lease decides.

    When ``where`` is settings, the manual runs applied after ``record``'s ``received_at`` (their ledgers:
    :func:`runbooks.manual_runs.manual_runs_since`) are compared the same way (:func:`_manual_later`): a
    responder's ``runbook run`` that found the state in place relies on it until released (``runbook undo`` of it).

    With ``candidates`` and settings, each later incident's newest revision must carry the app's seal on its ledger
    (RT11-03: a planted revision marking its step undone switched the check off), every revision sealed on its ledger
    must still be listed, and a candidate with no record listed must have none sealed on its ledger (ledger9: deleted
    record blobs hid a later incident) — one ledger read per candidate (:func:`_custody`); more than
    :data:`MAX_RELIANCE_RECORDS` candidates without a listed record refuse (:class:`UndoTooManyLater`).

    Raises :class:`UndoReliedOn` naming the later incident (or manual run id) and its step; :class:`UndoUnchecked`
    when the records store or a manual-run ledger cannot be listed or read (never "nobody relies on it" unread);
    :class:`UndoUnattested` when a later incident's newest revision is not sealed or a revision sealed on its ledger is
    missing from the records store.
    """
    from firestop.lifecycle.timeline import parse_time
    from firestop.records.store import (believed_filing, listed_revisions, newest_filed, read_filed, record_json,
                                        records_store, revision_of_name)
    from firestop.storage import StoreError
    from runbooks.targets import target_key

    # ARM resource IDs compare case-insensitively (learn.microsoft.com: resource names and IDs are case-insensitive)
    mine: dict[tuple[str, Any], list[tuple[Any, str, frozenset[str] | None]]] = {}
    for a in actions:  # compared lower-case, named as recorded; with the parts of the state each restores
        if a.get("target"):
            mine.setdefault((target_key(a.get("target")), a.get("runbook")), []).append(
                (a.get("step_id"), str(a.get("target")), _parts(a, "restored_parts")))
    if not mine:
        return
    received = parse_time(record.get("received_at"))
    try:
        names = records_store(where).names("")
    except (StoreError, ValueError, OSError) as exc:  # unread is not "none relies on it" (RT7-02)
        step_id, target, _ = next(iter(mine.values()))[0]
        raise UndoUnchecked(step_id, target, str(exc)) from None
    newest = newest_filed(names)  # one listing; one read per other incident's newest revision
    if candidates is None:
        others = sorted(set(newest) - {incident_id}, reverse=True)[:MAX_RELIANCE_RECORDS]
    else:
        others = sorted((set(newest) & {str(c) for c in candidates}) - {incident_id})
        if len(others) > MAX_RELIANCE_RECORDS:
            step_id, target, _ = next(iter(mine.values()))[0]
            raise UndoTooManyLater(step_id, target, len(others), MAX_RELIANCE_RECORDS)
    # RT11-03: the deciding check (inside the lease, ``candidates`` listed) believes a later incident's newest revision
    # only when it is sealed on that incident's ledger — a planted one marked its step undone and the undo reopened
    # the account; one ledger read more per later incident
    attest = candidates is not None and hasattr(where, "records_container")
    listed = listed_revisions(names) if attest else {}
    for other in others:
        name: str | None = newest[other]
        try:
            if attest:  # A16-06, as records16 reads the undone incident's own record: the later incident's newest
                # *sealed* filing is its record; an object above it that Firestop did not file is no revision
                believed = believed_filing(where, other)
                if isinstance(believed, tuple):
                    name = believed[1]
                elif believed is None:  # nothing sealed is listed: nothing filed (custody below names deleted ones)
                    name = None
            later = read_filed(where, other, name) if name is not None else None
        except (StoreError, OSError) as exc:  # a record left unread may be the one relying on it
            step_id, target, _ = next(iter(mine.values()))[0]
            raise UndoUnchecked(step_id, target, str(exc)) from None
        if later:
            at = parse_time(later.get("received_at"))
            if received is not None and at is not None and at > received:
                _relied_on(mine, other, later.get("actions") or [])
        if attest:  # what it says (no reliance, an earlier time, not its record) is believed only when Firestop filed it;
            # checked over the record just read (RT11-04), and a listed revision that is not its record is not Firestop's;
            # every revision sealed on its ledger must still be listed (ledger9: a deleted newest revision rolled it back)
            problem = _custody(where, other, listed.get(other, set()),
                               (revision_of_name(other, name) or 1,
                                hashlib.sha256(record_json(later)).hexdigest()) if later and name else None)
            if problem is None and not later and name is not None:
                problem = f"revision {name} is not a record of {other}"
            if problem is not None:
                step_id, target, _ = next(iter(mine.values()))[0]
                raise UndoUnattested(step_id, other, f"{problem}; whether it relies on {target} is unknown")
    if attest:  # ledger9: a later incident whose record blobs were all deleted is not listed; its ledger still says it filed
        unlisted = sorted({str(c) for c in candidates} - set(newest) - {incident_id})
        if len(unlisted) > MAX_RELIANCE_RECORDS:
            step_id, target, _ = next(iter(mine.values()))[0]
            raise UndoTooManyLater(step_id, target, len(unlisted), MAX_RELIANCE_RECORDS)
        for other in unlisted:
            problem = _custody(where, other, set(), None)
            if problem is not None:
                step_id, target, _ = next(iter(mine.values()))[0]
                raise UndoUnattested(step_id, other, f"{problem}; whether it relies on {target} is unknown")
    if hasattr(where, "records_container"):  # settings: the manual runs on its ledgers rely on it as incidents do
        _manual_later(where, incident_id, received, mine)


def _custody(settings: Any, incident: str, listed: set[int], newest: tuple[int, str] | None) -> str | None:
    """Why a later incident's filed record cannot be believed, or None (one ledger read,
    :func:`runbooks.records.sealed_filings`): a revision sealed on its ledger missing from ``listed`` (the revisions the
    records store lists for it: deleted blobs), or ``newest`` — ``(revision, SHA-256 hex of the record read)`` — not
    sealed (RT11-03). An incident with nothing sealed and nothing listed (still running, or failed before filing) is no
    problem. Raises :class:`UndoUnchecked` when its ledger cannot be read."""
    from firestop.storage import StoreError
    from firestop.trust.seal import SealKeyError
    from runbooks.records import filing_problem, missing_filings, sealed_filings

    try:
        sealed = sealed_filings(settings, incident)
    except SealKeyError as exc:
        return f"the app holds no usable seal key to check the record of {incident} ({exc})"
    except (StoreError, ValueError, OSError) as exc:
        raise UndoUnchecked("?", incident, str(exc), what="record and its ledger") from None
    missing = missing_filings(incident, sealed, listed)
    if missing is not None or newest is None:
        return missing
    return filing_problem(incident, sealed, *newest)


def _relied_on(mine: dict[tuple[str, Any], list[tuple[Any, str, frozenset[str] | None]]], other: str,
               actions: list[dict[str, Any]]) -> None:
    """Raise :class:`UndoReliedOn` when one of ``actions`` (a later incident's, or a manual run's: ``other`` names it)
    relies on a part of the state ``mine`` restores: same target (:func:`runbooks.targets.target_key`: case-insensitive,
    in any form a runbook reads as that resource) and runbook, not undone or released, not failed, and the parts
    overlap."""
    from runbooks.targets import target_key

    for action in actions:
        key = (target_key(action.get("target")), action.get("runbook"))
        if key in mine and action.get("ok", True) and not action.get("undone") and action.get("outcome") != "failed":
            theirs = _parts(action, "relied_parts")
            for step_id, target, restores in mine[key]:
                if restores is None or theirs is None or restores & theirs:  # per thing restored
                    raise UndoReliedOn(step_id, target, other, str(action.get("step_id")),
                                       later_changed=action.get("changed") is not False)


def _manual_later(settings: Any, incident_id: str, received: Any, mine) -> None:
    """Refuse an undo a manual run applied after ``received`` relies on (:func:`runbooks.manual_runs.manual_runs_since`):
    a responder's ``runbook run network.lock`` that found the incident's lock in place ("already locked") holds only
    as long as the incident's does — the same rule as a later incident's step. Releasing that run (``runbook undo``
    of a run that changed nothing) lifts it. ``incident_id``: a manual undo's own run id is left out. Only the runs on
    ``mine``'s targets are read, through their index (:mod:`runbooks.manual_runs`): bounded by their number, not by
    the days since. Fails closed: :class:`UndoUnchecked` when an index or a ledger cannot be listed or read, or more
    runs (or days written before the index) than are read."""
    from datetime import datetime, timezone

    from runbooks.manual_runs import ManualRunsUnread, manual_runs_since

    since = received if received is not None else datetime(2000, 1, 1, tzinfo=timezone.utc)
    own = [f"{incident_id}/{step_id}" for entries in mine.values() for step_id, _, _ in entries]
    try:  # a manual undo leaves its own run out
        runs = manual_runs_since(settings, since, exclude=own[0] if incident_id.startswith("manual-") and own else None,
                                 targets=[target for target, _ in mine], now=_clock_now())
    except (OSError, ValueError) as exc:  # StoreError is an OSError; ManualRunsUnread a ValueError: unread is not "none"
        step_id, target, _ = next(iter(mine.values()))[0]
        raise UndoUnchecked(step_id, target, str(exc), what="ledgers of manual runs" if not isinstance(exc, ManualRunsUnread)
                            else "") from None
    for run in runs:
        _relied_on(mine, run["run_id"], [run])


def _clock_now() -> Any:
    """The clock that names manual-run ledgers (the runbooks' client factory: the sandbox's, or UTC on Azure)."""
    from firestop.azure.clients import get_client_factory

    return get_client_factory().clock.now()


def _parts(action: dict[str, Any], which: str) -> frozenset[str] | None:
    """The runbook's :meth:`~runbooks.base.Runbook.restored_parts` / ``relied_parts`` of ``action``; None (the whole
    target) when the runbook is unknown or cannot say."""
    from runbooks import get_runbook

    try:
        parts = getattr(type(get_runbook(action["runbook"])), which)(action)
    except (KeyError, LookupError, TypeError, AttributeError, ValueError):
        return None
    return frozenset(str(p).lower() for p in parts) if parts is not None else None


def _manual_record(run: Any) -> dict[str, Any]:
    """What :func:`later_reliance` reads of a manual run: its apply time (the oldest possible when not recorded)."""
    return {"received_at": run.applied_at or "2000-01-01T00:00:00+00:00"}


def manual_reliance(where: Any, run: Any, *, candidates: Any = None) -> None:
    """Refuse the undo of a manual runbook run (``runbook undo RUN_ID``, ``POST /api/runbook-runs/…/undo``) that
    would take away the containment of an incident received after the run's apply — the same rule as
    :func:`later_reliance` (RT5-02: a hand-made lock an incident found in place, and so reported as holding, was
    undone without a word). ``run``: a :class:`runbooks.manual_runs.ManualRun`; an apply with no recorded time is
    compared as if it were the oldest (every incident with a filed record counts as later: refuse rather than reopen).

    Raises :class:`UndoReliedOn` naming the incident and its step.
    """
    later_reliance(where, run.incident_id, _manual_record(run),
                   [{"target": run.target, "runbook": run.runbook, "step_id": run.step_id}], candidates=candidates)


def apply_undo(env, incident_id: str, record: dict[str, Any], actions: list[dict[str, Any]], *, by: str) -> dict[str, Any]:
    """Undo ``actions`` (the record's applied actions to undo, newest first) and file the record again with what
    happened: ``{"incident_id", "undone": [{"step_id", "runbook", "ok", "detail"}]}``.

    ``by`` is the responder who decided the undo (an Entra object id from the caller's authentication: the
    console's principal, the CLI's sign-in or sandbox ``--as``); it is written into each undo's timeline entry
    (``by``), the record's ``reason``/``does_not_hold`` lines and the ledger entry (``requested_by``).
    Raises ValueError when ``by`` is empty: an undo is never filed without who did it.
    """
    if not isinstance(by, str) or not by.strip():
        raise ValueError("by: an undo needs the responder who decided it (their object id)")
    from runbooks import get_runbook
    from runbooks.dispatch import execute

    from firestop.lifecycle.timeline import parse_time, seconds_between
    from firestop.records.store import record_json

    revision_of = hashlib.sha256(record_json(record)).hexdigest()  # the filed record this undo revises
    results = []
    for action in actions:
        runbook = type(get_runbook(action["runbook"]))
        if not action.get("changed"):
            results.append(_release(record, action, incident_id, by))
            continue
        if not runbook.reversible:
            results.append({"step_id": action["step_id"], "runbook": action["runbook"], "ok": False,
                            "detail": f"{action['runbook']} cannot be undone"})
            continue
        applied = {"runbook": action["runbook"], "target": action.get("target") or "", "changed": True,
                   "before": action.get("before") or {}, "after": action.get("after") or {},
                   "summary": action.get("summary") or "", "artifacts": action.get("artifacts") or {}}
        answer = execute({"runbook": action["runbook"], "action": "undo", "target": action.get("target"), "params": action.get("params") or {},
                          "incident_id": incident_id, "step_id": action["step_id"], "applied": applied, "requested_by": by})
        ok = bool(answer.get("ok"))
        detail = (answer.get("result") or {}).get("summary") if ok else (answer.get("error") or {}).get("message")
        results.append({"step_id": action["step_id"], "runbook": action["runbook"], "ok": ok, "detail": detail})
        at = parse_time(answer.get("finished_at"))
        record.setdefault("timeline", []).append({
            "phase": "resolve", "step": f"undo {action['step_id']}", "runbook": action["runbook"], "target": action.get("target"),
            "outcome": "undone" if ok else "undo failed", "detail": detail or "", "at": at.isoformat() if at else None,
            "offset_s": seconds_between(parse_time(record.get("received_at")), at), "duration_s": None, "by": by,
        })
        if ok:
            action["undone"] = True
            label = f"{action['step_id']} ({action['runbook']})"
            record["holds"] = [h for h in record.get("holds") or [] if not h.startswith(label)]
            record.setdefault("does_not_hold", []).append(f"{label}: undone by {by}")
            record["reason"] = f"{record.get('reason') or ''}; {action['step_id']} undone by {by}".lstrip("; ")
    if results:
        filed = execute({"runbook": "records.file", "action": "apply", "params": {"record": record, "revision_of": revision_of},
                         "incident_id": incident_id, "step_id": "file-record"})
        if not filed.get("ok"):
            results.append({"step_id": "file-record", "runbook": "records.file", "ok": False,
                            "detail": f"record revision not filed: {(filed.get('error') or {}).get('message')}"})
    return {"incident_id": incident_id, "undone": results}


def release_stamp(owner: str, action: dict[str, Any], by: str | None) -> tuple[dict[str, Any], str]:
    """What every release records — an incident step's (:func:`_release`) and a manual run's (:func:`release_manual`):
    ``({"undone": True, "released": True, "released_by", "released_at"}, detail)``, ``released_at`` on the clients'
    clock (ISO 8601 UTC), ``detail`` ``released: <owner> no longer relies on <runbook>'s state on <target>; nothing was
    restored``. ``owner``: the incident id or the run id; ``action``: ``runbook``/``target`` of what is released."""
    from firestop.azure.clients import get_client_factory

    at = get_client_factory().clock.now()
    return ({"undone": True, "released": True, "released_by": by, "released_at": at.isoformat()},
            f"released: {owner} no longer relies on {relied_state(action)}; nothing was restored")


def _release(record: dict[str, Any], action: dict[str, Any], incident_id: str, by: str) -> dict[str, Any]:
    """Release a step that changed nothing (it found its state in place): mark it ``undone`` and ``released`` with
    who and when (:func:`release_stamp`), add a timeline entry (outcome ``released``);
    nothing is restored and no Azure call is made. The incident no longer relies on the state, so an earlier
    incident's undo of it is no longer refused (:func:`later_reliance` skips undone steps).
    Answers the undo's result item ``{"step_id", "runbook", "ok": True, "released": True, "detail"}``."""
    from firestop.lifecycle.timeline import parse_time, seconds_between

    stamp, detail = release_stamp(incident_id, action, by)
    action.update(stamp)
    at = stamp["released_at"]
    record.setdefault("timeline", []).append({
        "phase": "resolve", "step": f"undo {action['step_id']}", "runbook": action["runbook"], "target": action.get("target"),
        "outcome": "released", "detail": detail, "at": at,
        "offset_s": seconds_between(parse_time(record.get("received_at")), parse_time(at)), "duration_s": None, "by": by,
    })
    label = f"{action['step_id']} ({action['runbook']})"
    record["holds"] = [h for h in record.get("holds") or [] if not h.startswith(label)]
    record.setdefault("does_not_hold", []).append(f"{label}: released by {by} (nothing restored)")
    record["reason"] = f"{record.get('reason') or ''}; {action['step_id']} released by {by}".lstrip("; ")
    return {"step_id": action["step_id"], "runbook": action["runbook"], "ok": True, "released": True, "detail": detail}


def release_manual(settings: Any, run: Any, by: str | None) -> dict[str, Any]:
    """Release a manual run that changed nothing (``run``: a :class:`runbooks.manual_runs.ManualRun` with ``changed``
    False): an ``undo`` entry on its ledger with ``ok``, ``changed: false``, ``released: true``, who (``requested_by``,
    None from the local CLI) and when (:func:`release_stamp`) — nothing restored, no Azure call. The run no longer
    relies on the state, so an earlier incident's or run's undo of it is no longer refused
    (:func:`runbooks.manual_runs.manual_runs_since` skips it); a second release is
    :class:`runbooks.manual_runs.ManualAlreadyReleased`.

    Answers in the dispatcher's shape (what ``runbook undo`` prints): ``{"ok": True, "released": True, "runbook",
    "action": "undo", "target", "step_id", "result": {"changed": False, "summary": detail, "artifacts": {"ledger":
    {"seq", "hash"}}}, "error": None}``. Raises StoreError/ValueError when the ledger cannot be written: the release
    is not recorded, so it did not happen (the run still relies on the state)."""
    from runbooks.ledger import Ledger

    stamp, detail = release_stamp(run.run_id, {"runbook": run.runbook, "target": run.target}, by)
    data = {"ok": True, "changed": False, "released": True, "summary": detail, "released_at": stamp["released_at"],
            **({"requested_by": by} if by else {})}
    entry = Ledger.of(settings).append(run.incident_id, kind="action", runbook=run.runbook, action="undo",
                                       step_id=run.step_id, target=run.target, at=stamp["released_at"], data=data)
    return {"ok": True, "released": True, "runbook": run.runbook, "action": "undo", "target": run.target,
            "step_id": run.step_id, "error": None, "started_at": stamp["released_at"], "finished_at": stamp["released_at"],
            "result": {"changed": False, "summary": detail, "artifacts": {"ledger": {"seq": entry["seq"], "hash": entry["hash"]}}}}
