"""R13-03 (medium, cli13 "Ctrl-C at any instant" on ``runbook run``): a Ctrl-C that lands while a runbook's apply is
in flight — after Azure took the change, before the dispatcher appended the apply to the ledger — ends the CLI with
"interrupted — nothing further was changed; incident manual-… is still as its ledger says …; resume with: the same
runbook run again (a runbook's apply is idempotent)". The change *was* made, and the ledger (the only place a manual
run's before-state and artifacts are kept: ``runbook undo`` reads them) has no entry for it: the change cannot be
undone, ``ledger verify`` shows nothing, and "run again" is a new step id (``manual_ids``: one per run), so a
rotate-keys run again rotates again.

Real process, real signal: a test-only wrapper runs ``python -m firestop`` with network.lock's apply followed by a
SIGINT the process sends itself — pending the moment the apply returns, before the dispatcher's ledger append — the
instant a Ctrl-C typed during a long apply (an LRO poll) reaches Python.

Fixed: the apply and its ledger append run with Ctrl-C deferred (:func:`firestop.cli.interrupt.deferred`): a Ctrl-C
then is taken once the change is recorded; the line says the change in progress was finished and recorded.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

from firestop.settings import REPO_ROOT
from tests.e2e.test_cli_interrupt import PROD

_WRAPPER = """
import os, runpy, signal, sys
import runbooks.network as network

original = network.LockNetwork.apply

def apply(self, *args, **kwargs):
    answer = original(self, *args, **kwargs)  # Azure took the change
    os.kill(os.getpid(), signal.SIGINT)  # Ctrl-C: pending from here; Python runs the handler at the next bytecode
    return answer

network.LockNetwork.apply = apply
sys.argv = ["firestop", *sys.argv[1:]]
runpy.run_module("firestop", run_name="__main__", alter_sys=True)
"""


def test_ctrl_c_during_an_apply_leaves_the_change_in_the_ledger(firestop_home):
    from firestop.settings import Settings
    from runbooks.ledger import Ledger

    env = {**os.environ, "FIRESTOP_HOME": str(firestop_home), "COLUMNS": "400"}
    proc = subprocess.run([sys.executable, "-c", _WRAPPER, "runbook", "run", "network.lock", "--target", PROD, "--yes"],
                          capture_output=True, env=env, cwd=REPO_ROOT, timeout=300)
    err = proc.stderr.decode()
    assert proc.returncode == 130 and "Traceback" not in err, (proc.returncode, err)
    ledger = Ledger.of(Settings.from_env(home=firestop_home))
    manual = sorted({n.split("/")[0].removesuffix(".jsonl").removesuffix(".json")
                     for n in ledger.store.names("") if n.startswith("manual-2")})
    applies = [e for i in manual for e in ledger.entries(i)
               if e.get("kind") == "action" and e.get("runbook") == "network.lock" and e.get("action") == "apply"]
    # rough15: the lock is on the account (the sandbox keeps it) and no ledger entry says so: nothing to undo it from
    assert len(applies) == 1, (manual, err)
    assert "nothing further was changed" not in err or "recorded" in err, err
