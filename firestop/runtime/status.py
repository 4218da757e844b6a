"""Status models returned by the local durable host."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

RuntimeStatus = Literal["Pending", "Running", "Completed", "Failed", "Terminated"]

#: Statuses after which an instance id may be reused and nothing runs.
TERMINAL_STATUSES: frozenset[str] = frozenset({"Completed", "Failed", "Terminated"})
ACTIVE_STATUSES: frozenset[str] = frozenset({"Pending", "Running"})


class OrchestrationStatus(BaseModel):
    """One orchestration instance, as ``DurableOrchestrationStatus`` describes it.

    * ``input``, ``output``, ``custom_status``: decoded JSON values. For a
      Failed instance ``output`` is the failure message
      (``"Orchestrator function '<name>' failed: <error>"``, as the extension
      words it); for a Terminated one, the termination reason.
    * ``created_time``, ``last_updated_time``: aware UTC datetimes from the
      host's clock.
    * ``history``: only with ``show_history=True``; event dicts in the host
      format (PascalCase, ``history.py``), oldest first.
    """

    model_config = ConfigDict(frozen=True)

    instance_id: str
    name: str
    runtime_status: RuntimeStatus
    custom_status: Any = None
    input: Any = None
    output: Any = None
    created_time: datetime
    last_updated_time: datetime
    parent_instance_id: str | None = None
    history: list[dict[str, Any]] | None = None
