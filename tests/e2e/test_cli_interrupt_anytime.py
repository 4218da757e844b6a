"""Ctrl-C at any instant of ``python -m firestop`` (cli13, items 1–2 of the new-user leftovers): one line, exit 130,
no traceback; and a process started with SIGINT ignored keeps ignoring it (firestop.cli.interrupt's module doc).

Real processes and real signals. The synchronisation is the process's own: a test-only wrapper (:data:`_AT`) runs
``python -m firestop`` as runpy does and, when the module named in ``FIRESTOP_TEST_STOP_AT`` is imported (or at exit),
writes a marker on a pipe and waits there — inside a ``__set_name__`` call, as pydantic's model classes make
one, so the handler's exception is raised where CPython 3.11 wraps it in a ``RuntimeError``; or reading stdin. The test
sends SIGINT once it read the marker: the signal is pending before the wait can end, so where it lands is known.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys

import pytest

from firestop.settings import REPO_ROOT
from tests.e2e.test_cli_interrupt import PROD, _read_until

EXAMPLE = "examples/alerts/leaked-key.json"

_AT = """
import atexit, os, runpy, signal, sys
where, how, fd = os.environ["FIRESTOP_TEST_STOP_AT"], os.environ["FIRESTOP_TEST_STOP_HOW"], int(os.environ["MARK_FD"])

def wait():
    os.write(fd, b"here\\n")
    if how == "stdin":
        sys.stdin.readline()
    else:
        signal.pause()  # the handler runs (and raises, or ends the process) inside this call

class Waits:
    def __set_name__(self, owner, name):
        wait()

def stop_here():
    type("Model", (), {"field": Waits()})  # type() calls __set_name__ as a class statement does

class At:
    def find_spec(self, name, path=None, target=None):
        if name == where:
            sys.meta_path.remove(self)
            stop_here()

if where == "exit":
    atexit.register(stop_here)
else:
    sys.meta_path.insert(0, At())
sys.argv = ["firestop", *sys.argv[1:]]
runpy.run_module("firestop", run_name="__main__", alter_sys=True)
"""


def _ignore_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # inherited through exec: what `cmd &` without job control does


def _interrupted_at(home, where: str, *args: str, how: str = "pause", ignored: bool = False, answer: bytes = b""):
    """Run ``python -m firestop ARGS`` through :data:`_AT`, send SIGINT once it waits at ``where``; then write
    ``answer`` to its stdin. Returns (exit status, stdout, stderr)."""
    mark_r, mark_w = os.pipe()
    env = {**os.environ, "FIRESTOP_HOME": str(home), "COLUMNS": "400", "FIRESTOP_TEST_STOP_AT": where,
           "FIRESTOP_TEST_STOP_HOW": how, "MARK_FD": str(mark_w)}
    proc = subprocess.Popen([sys.executable, "-c", _AT, *args], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, env=env, cwd=REPO_ROOT, pass_fds=(mark_w,),
                            preexec_fn=_ignore_sigint if ignored else None)
    os.close(mark_w)
    try:
        _read_until(mark_r, b"here\n")
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(answer, timeout=120)
    finally:
        os.close(mark_r)
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    return proc.returncode, out.decode(), err.decode()


def test_ctrl_c_inside_a_start_up_import_that_rewraps_it_is_one_line_and_130(firestop_home):
    """Ctrl-C while ``firestop.cli.main`` imports typer, landing in a ``__set_name__`` call: Python 3.11 turned the
    KeyboardInterrupt into ``RuntimeError: Error calling __set_name__ …``, which ``__main__``'s ``except
    KeyboardInterrupt`` missed: a traceback and exit 1. Fails before (exit 1, Traceback)."""
    code, out, err = _interrupted_at(firestop_home, "typer", "alert", "handle", EXAMPLE)
    assert (code, out, err) == (130, "", "error: interrupted while starting; nothing was changed\n")
    code, out, err = _interrupted_at(firestop_home, "typer", "alert", "handle", EXAMPLE, "--json")
    assert code == 130 and err == "", err
    assert json.loads(out) == {"error": "interrupted while starting; nothing was changed", "exit_code": 130}


@pytest.mark.parametrize("where", ["firestop.cli.collector", "firestop.cli.incidents"])
def test_ctrl_c_inside_alert_handles_own_imports_that_rewrap_it_says_no_incident_was_started(firestop_home, where):
    """Ctrl-C during ``alert handle``'s start-up imports (after main() installed its handler), landing in a
    ``__set_name__`` call: it read ``internal error: RuntimeError: Error calling __set_name__ on …`` and exit 1
    (seen at 0.21 s into a run). ``firestop.cli.collector`` is imported outside the command's own error handler (main()
    answers), ``firestop.cli.incidents`` inside it (``_internal`` answers). Fails before (exit 1, internal error)."""
    code, out, err = _interrupted_at(firestop_home, where, "alert", "handle", EXAMPLE)
    assert code == 130 and out == "", err
    assert " ".join(err.split()) == ("error: interrupted — nothing further was changed; no incident was started; "
                                     f"resume with: python -m firestop alert handle {EXAMPLE}"), err
    code, out, err = _interrupted_at(firestop_home, where, "alert", "handle", EXAMPLE, "--debug")
    assert code == 130 and "Traceback" in err and "Interrupted" in err  # --debug shows where it landed


def test_ctrl_c_while_the_process_exits_keeps_the_answer_and_its_exit_code(firestop_home):
    """Ctrl-C after the command returned, while the interpreter's exit runs ``atexit`` callbacks: main()'s handler
    raised there, outside any ``except``: 'Exception ignored in atexit callback' and a traceback on stderr. The answer
    stands, as when Ctrl-C lands while the command's exit unwinds (interrupt.answered): its output whole, its exit code,
    nothing added. Fails before (the traceback)."""
    code, out, err = _interrupted_at(firestop_home, "exit", "playbook", "list")
    assert (code, err) == (0, "") and "leaked-api-key" in out
    code, out, err = _interrupted_at(firestop_home, "exit", "playbook", "list", "--json")
    assert (code, err) == (0, "") and "leaked-api-key" in {p["name"] for p in json.loads(out)}
    code, out, err = _interrupted_at(firestop_home, "exit", "playbook", "validate", "no-such-file.yaml")
    assert code == 2 and "Traceback" not in err and "no-such-file.yaml" in err  # a refusal's code stands too


def test_sigint_ignored_on_entry_stays_ignored_at_a_prompt(firestop_home):
    """Started with SIGINT ignored (``cmd &`` in a script, ``trap '' INT``), Ctrl-C in that terminal is not for
    Firestop: main() installed its handler regardless, and the prompt ended with exit 130. Now the prompt reads the
    answer given after the signal (exit 2, not confirmed). Fails before (130)."""
    env = {**os.environ, "FIRESTOP_HOME": str(firestop_home), "COLUMNS": "400"}
    proc = subprocess.Popen([sys.executable, "-m", "firestop", "runbook", "run", "network.lock", "--target", PROD],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, cwd=REPO_ROOT,
                            preexec_fn=_ignore_sigint)
    try:
        _read_until(proc.stdout.fileno(), b"[y/N]: ")  # waiting on stdin for the answer
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(b"n\n", timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 2 and "not confirmed; nothing was changed" in err.decode(), (proc.returncode, err)
    assert "interrupted" not in err.decode()


def test_sigint_ignored_on_entry_stays_ignored_while_starting(firestop_home):
    """The start-up handler (firestop.cli.interrupt.guard_start) is not installed over an ignored SIGINT either: the
    process, interrupted while it imports, goes on once stdin gives it a line and lists the playbooks (exit 0)."""
    code, out, err = _interrupted_at(firestop_home, "typer", "playbook", "list", how="stdin", ignored=True, answer=b"\n")
    assert (code, err) == (0, "") and "leaked-api-key" in out


def test_serve_started_with_sigint_ignored_stops_on_sigterm_only(tmp_path):
    """``serve`` set its own SIGINT handler regardless: a server started in the background of a script stopped on a
    Ctrl-C meant for the foreground. SIGINT then SIGTERM: it is SIGTERM that stops it. Fails before ('Stopped.' on
    SIGINT)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("WEBSITE_", "FIRESTOP_"))}
    env.update(FIRESTOP_HOME=str(tmp_path / "home"), FIRESTOP_FUNCTION_KEY="k" * 32, PYTHONUNBUFFERED="1")
    proc = subprocess.Popen([sys.executable, "-m", "firestop", "serve", "--port", "0", "--realtime-factor", "0"], cwd=REPO_ROOT,
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, preexec_fn=_ignore_sigint)
    try:
        _read_until(proc.stdout.fileno(), b"Listening on ")
        proc.send_signal(signal.SIGINT)
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, err
    assert out.decode().splitlines()[-1] == "Stopped (SIGTERM).", out
