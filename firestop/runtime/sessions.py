"""Orchestrator sessions: the SDK's orchestration objects kept alive between episodes.

Without them, every episode calls the orchestrator through the SDK's entry
point (``Orchestrator.create(fn)`` → ``handle``), which builds a new
``DurableOrchestrationContext`` with a ``HistoryEvent`` for every event of the
history, starts the generator again and replays the whole history through
``TaskOrchestrationExecutor``, then serialises the whole action list: O(history)
per episode, O(n²) over an orchestration of n steps (``bench/runtime.py``).

A session keeps what that call builds — the context, the executor and the
generator suspended at its ``yield`` — after the episode commits, and the next
episode *continues* it: the history events committed since the session last
ran (the scheduling events of its own episode, ``OrchestratorCompleted``, the
episodes the host answered without the SDK) are processed as replayed events,
then the episode's new events as new ones, with the SDK's own
``TaskOrchestrationExecutor.process_event`` — the very method its full replay
calls for each event, in the same order, so the generator sees the same values
in the same order as a full replay would give it. Its answer carries only the
actions added since the previous answer (the SDK's own ``OrchestratorState``
serialiser on that slice), so an episode costs O(new events + new actions).
The Durable extension does the same for .NET in-process apps ("extended
sessions", ``extendedSessionsEnabled`` in host.json; Microsoft Learn "Performance
and scale in Durable Functions": not available to out-of-process languages);
here it is the local host's business, at the boundary with the SDK: no SDK
file is patched, only its public classes are driven.

What keeps it exact:

* The action list the SDK answers with is append-only (``OrchestratorState``:
  "This list is append-only"), except one flag: a timer task's ``cancel()``
  sets ``isCanceled`` on an action already answered. A session watches the
  timers it answered that are not cancelled; when one flips, its answer is the
  *full* state (what ``handle`` would return), and the host checks it against
  the previous list as it does without sessions (``host._execute``: a changed
  prefix means a replay of the host's engine from scratch).
* The host still checks every episode's actions against the history
  (``replay.py``): a session changes who computes the action list, not what
  is checked.
* A session lives in memory only, in the host's per-instance cache, and is
  dropped with it whenever an episode is not committed (fenced, failed,
  crashed), when the instance ends or continues as new, and on eviction; the
  next episode then starts a new one with a full replay from the committed
  history, as the SDK always does. A crash loses nothing but the cache.
* Orchestrators must not branch on ``context.is_replaying`` to choose actions
  (the Durable code constraints); a continued session runs user code after the
  last yield once, with ``is_replaying`` False, exactly as the first execution
  of that code did.

``LocalDurableHost.sessions = False`` turns sessions off (``bench/runtime.py``
measures both); an orchestrator ``handle`` that is not the SDK's
(``Orchestrator.create``: carries ``orchestrator_function``) or answers with
replay schema V1 is always called the plain way.
"""

from __future__ import annotations

import json
from typing import Any

from azure.durable_functions.models.actions.CompoundAction import CompoundAction
from azure.durable_functions.models.actions.CreateTimerAction import CreateTimerAction
from azure.durable_functions.models.DurableOrchestrationContext import DurableOrchestrationContext
from azure.durable_functions.models.history.HistoryEvent import HistoryEvent
from azure.durable_functions.models.OrchestratorState import OrchestratorState
from azure.durable_functions.models.ReplaySchema import ReplaySchema
from azure.durable_functions.models.TaskOrchestrationExecutor import TaskOrchestrationExecutor

from .history import Event


def supports(handle: Any) -> bool:
    """True if ``handle`` (an indexed orchestrator function) is the SDK's ``Orchestrator.create`` handle."""
    return callable(getattr(handle, "orchestrator_function", None))


class OrchestratorSession:
    """One orchestration execution's live SDK objects. Not thread-safe (the host's driver owns it).

    Create with :meth:`start` (a full replay, as ``handle`` does); continue
    with :meth:`resume` once per later episode. ``fed`` is the number of
    history events the SDK has processed (committed history first, then the
    episode's new events); ``finished`` is True once the orchestrator returned,
    raised or continued as new (the session is then of no further use).
    """

    def __init__(self, context: DurableOrchestrationContext, executor: TaskOrchestrationExecutor, fed: int) -> None:
        self.context = context
        self.executor = executor
        self.fed = fed
        self._answered = 0  # actions of the context's list already answered
        self._open_timers: list[CreateTimerAction] = []  # answered timer actions not cancelled yet

    @property
    def finished(self) -> bool:
        return bool(self.executor.has_execution_completed) or not hasattr(self.executor, "generator")

    @classmethod
    def start(cls, handle: Any, context_json: str) -> tuple["OrchestratorSession | None", str]:
        """Run the orchestrator on a whole history, as ``handle(context)`` would.

        Returns ``(session or None, state JSON)``: the same state text the
        SDK's ``handle`` returns; no session when the orchestrator already
        finished or the replay schema is V1. Raises what ``handle`` raises
        (the SDK's ``$OutOfProcData$`` exception for an orchestrator error).
        """
        fn = handle.orchestrator_function
        context = DurableOrchestrationContext.from_json(context_json)
        context._input_expected_type = getattr(handle, "_df_input_type", None)
        executor = TaskOrchestrationExecutor()
        state = executor.execute(context, context.histories, fn)
        session = cls(context, executor, len(context.histories))
        if session.finished or context._replay_schema is ReplaySchema.V1:
            return None, state
        session._note_answered()
        return session, state

    def resume(self, committed: list[Event], new: list[Event]) -> tuple[str, bool]:
        """Process ``committed`` (history events since :attr:`fed`, as replayed) then ``new``.

        Returns ``(state JSON, full)``: with ``full`` False the state's action
        list holds only the actions added since the previous answer; True when
        it is the whole list (an answered timer was cancelled since, or the
        orchestration finished: the SDK's own ``get_orchestrator_state_str``).
        Raises what ``handle`` would (the orchestrator's exception, wrapped
        with ``$OutOfProcData$`` by the SDK).
        """
        executor, context = self.executor, self.context
        for played, events in ((True, committed), (False, new)):
            executor._is_processing_new_events = not played
            for event in events:
                if executor.has_execution_completed:
                    break
                # committed events are already decoded JSON; new ones go through JSON as handle's input would
                data = event if played else json.loads(json.dumps(event))
                record = HistoryEvent(**{**data, "IsPlayed": played})
                context.histories.append(record)
                executor.process_event(record)
        self.fed += len(committed) + len(new)
        if executor.has_execution_completed or any(t.is_cancelled for t in self._open_timers):
            state = executor.get_orchestrator_state_str()
            self._note_answered()
            return state, True
        actions = context._action_payload_v2
        delta = actions[self._answered:]
        state = OrchestratorState(is_done=False, actions=[delta], output=None,
                                  replay_schema=context._replay_schema, error=None,
                                  custom_status=context.custom_status).to_json_string()
        self._note_answered()
        return state, False

    def _note_answered(self) -> None:
        actions = self.context._action_payload_v2
        timers = [t for t in self._open_timers if not t.is_cancelled]
        stack = list(actions[self._answered:])
        while stack:
            action = stack.pop()
            if isinstance(action, CreateTimerAction):
                if not action.is_cancelled:
                    timers.append(action)
            elif isinstance(action, CompoundAction):
                stack.extend(action.compound_tasks)
        self._open_timers = timers
        self._answered = len(actions)
