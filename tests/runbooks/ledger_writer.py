"""Child process for the two-writer ledger test: appends COUNT entries to one incident's ledger.

Usage: python ledger_writer.py <blob endpoint or local folder> <container or -> <incident> <writer> <count>
Prints "ready", waits for a line on stdin (the parent's start signal, sent once every writer is ready),
appends, then prints {"writer", "appended", "conflicts"} as JSON.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))


def main() -> None:
    where, container, incident, writer, count = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5])
    from firestop.storage import AppendConflict, blob_service
    from firestop.storage.blob import BlobStore
    from firestop.storage.local import LocalStore
    from runbooks.ledger import Ledger

    store = BlobStore(blob_service(where), container) if where.startswith("http") else LocalStore(Path(where))
    conflicts = 0
    append = store.append

    def counting_append(name: str, data: bytes, at: int) -> None:
        nonlocal conflicts
        try:
            append(name, data, at)
        except AppendConflict:
            conflicts += 1
            raise

    store.append = counting_append  # type: ignore[method-assign]
    ledger = Ledger(store)
    print("ready", flush=True)
    sys.stdin.readline()
    for i in range(count):
        ledger.append(incident, kind="action", runbook="test.writer", action="apply", step_id=f"{writer}-{i}",
                      target=None, at=str(i), data={"writer": writer, "i": i})
    print(json.dumps({"writer": writer, "appended": count, "conflicts": conflicts}), flush=True)


if __name__ == "__main__":
    main()
