"""freeze_startup_heap: after it, a full collection no longer walks what was alive at start-up; once per process.

Run in a child process: freezing is process-wide and would keep this test process's objects out of collection."""

from __future__ import annotations

import json
import subprocess
import sys

from firestop.settings import REPO_ROOT

_CHILD = r"""
import gc, json
import firestop.runtime  # a start-up heap of some size
from firestop.runtime.heap import freeze_startup_heap

before = len(gc.get_objects())
garbage = []
garbage.append(garbage)  # a reference cycle, unreachable once dropped: must be collected, not frozen
del garbage
first = freeze_startup_heap()
second = freeze_startup_heap()
after = len(gc.get_objects())
print(json.dumps({"before": before, "first": first, "second": second, "after": after,
                  "frozen": gc.get_freeze_count(), "enabled": gc.isenabled()}))
"""


def test_start_up_objects_leave_the_collected_generations_once():
    out = subprocess.run([sys.executable, "-c", _CHILD], cwd=REPO_ROOT, capture_output=True, text=True, timeout=60,
                         check=True).stdout
    got = json.loads(out.strip().splitlines()[-1])
    assert got["first"] > 1_000 and got["frozen"] > 1_000  # what was alive is frozen (a frozen object freed by refcount leaves the count)
    assert got["second"] == 0  # later calls do nothing
    assert got["after"] < got["before"] / 10  # a full collection now walks a small remainder
    assert got["enabled"]  # the collector still runs for everything created from now on
