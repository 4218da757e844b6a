"""Shared fixtures: an isolated FIRESTOP_HOME per test and clean process-global state.

Also a suite-wide guard: every request the Azure SDKs send to a sandbox tenant
must be answered by a route. The sandbox answers unknown routes 501 and appends
them to the journal file named by ``FIRESTOP_SANDBOX_UNROUTED_LOG``; the hooks
below point that variable at a fresh file per test (subprocesses such as the
CLI inherit it) and fail the test whose setup or call produced an entry (a
teardown entry errors its teardown). Tests that hit an unknown route on purpose
carry ``@pytest.mark.sandbox_unrouted``.

And two speed-ups that change no test's outcome: the click command tree of a Typer app is built once per
process (:func:`_reuse_built_cli_commands`), and so is a sandbox document per seed spec outside tests/sandbox
(:func:`_reuse_built_tenant_documents`).
"""

from __future__ import annotations

import os
import signal
import tempfile
import threading
from pathlib import Path

import pytest

from hypothesis import HealthCheck, settings as hypothesis_settings

# Property tests judge behaviour, not speed: on a loaded 2-core CI machine running two xdist workers,
# hypothesis' wall-clock health checks and per-example deadlines would fail tests for the machine's load.
hypothesis_settings.register_profile("firestop", deadline=None, suppress_health_check=[HealthCheck.too_slow])
hypothesis_settings.load_profile("firestop")

def _reuse_built_cli_commands() -> None:
    """Build the click command tree of a Typer app once per process, not on every in-process CLI call.

    ``typer.testing.CliRunner.invoke(app, ...)`` and ``Typer.__call__`` (``firestop.cli.main.main``) both call
    ``typer.main.get_command(app)``, which turns every registered command and option of the app into click objects
    again: ~30 ms of CPU for Firestop's app, on each of the suite's in-process CLI calls. Click commands hold no
    per-call state (each call gets its own click Context), so the tree built for an app is kept and reused while
    the app is unchanged: the cache key walks the app (its callback and every registered command and group, by
    identity), so a test that registers or replaces a command gets a tree built afresh. Subprocess CLI tests
    (``python -m firestop``) are untouched. Test-only: nothing in firestop/ sees this.
    """
    import typer.main
    import typer.testing

    build = typer.main.get_command
    built: dict[tuple, tuple] = {}

    def shape(app, keep: list) -> tuple:
        keep.append(app)
        keep.extend((app.registered_callback, app.info.callback))
        commands = []
        for info in app.registered_commands:
            keep.extend((info, info.callback))
            commands.append((id(info), id(info.callback), info.name))
        groups = []
        for info in app.registered_groups:
            keep.append(info)
            groups.append((id(info), info.name, shape(info.typer_instance, keep)))
        return (id(app), id(app.registered_callback), id(app.info.callback), tuple(commands), tuple(groups))

    def get_command(app):
        keep: list = []  # the objects whose ids make the key stay alive with the entry, so no id is reused
        key = shape(app, keep)
        entry = built.get(key)
        if entry is None:
            entry = built[key] = (build(app), keep)
        return entry[0]

    typer.main.get_command = get_command
    typer.testing._get_command = get_command


_reuse_built_cli_commands()

_UNROUTED_MARKER = "sandbox_unrouted"
_journal_key = pytest.StashKey[dict]()


def pytest_collection_finish(session):
    """Keep what collection loaded out of the cyclic garbage collector's later full collections (each process
    that collects: every xdist worker, or the single pytest process).

    Collecting the suite imports every test module and with them firestop, the Azure SDKs, hypothesis and
    playwright: ~300,000 tracked objects that live until the process ends. Each automatic full (generation 2)
    collection during the tests walked all of them, and so do the 5 ``gc.collect()`` pytest runs at exit
    (``_pytest.unraisableexception.cleanup``). One collection, then ``gc.freeze()`` (the same move as
    :func:`firestop.runtime.heap.freeze_startup_heap` in ``firestop serve``; docs.python.org/3/library/gc.html):
    objects created from now on are collected as before, and a frozen object freed by its reference count is
    freed as before; only a frozen object that later becomes part of an unreachable cycle is never freed (memory,
    not behaviour). Measured with ``gc.callbacks`` around every collection (CPU time, so the machine's load does
    not count): 225 tests of tests/runbooks in one process spent 2.70 s of CPU in the collector after
    collection, 1.35 s frozen (load 6-8).
    """
    import gc

    gc.collect()
    gc.freeze()


def pytest_configure(config):
    # A shell without job control starts a background command (`./scripts/test ... &`, `nohup`) with SIGINT and
    # SIGQUIT ignored (POSIX, "asynchronous lists"), and every child inherits that: the Ctrl-C tests' children
    # (tests/e2e/test_cli_interrupt*.py, review13) keep an inherited SIG_IGN as the CLI must (firestop.cli.interrupt),
    # so they never saw their SIGINT and the suite hung (seen in session 17: a `runbook run` child waiting at its
    # prompt for 45 min). The tests model a user's terminal, where Ctrl-C reaches the command: give the run Python's
    # own handler back (xdist's workers and the tests' children then start with SIGINT at its default).
    if threading.current_thread() is threading.main_thread() and signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
        signal.signal(signal.SIGINT, signal.default_int_handler)
    config.addinivalue_line(
        "markers", f"{_UNROUTED_MARKER}: the test sends requests the sandbox tenant does not route, on purpose (501s allowed)"
    )
    config.addinivalue_line(
        "markers", "fresh_seed_build: every build_document call of the test builds (it patches the seeding code; see _reuse_built_tenant_documents)"
    )
    config.addinivalue_line("markers", "per_peer(n): the per-peer connection cap of the test's serve (tests/trust)")
    config.addinivalue_line("markers", "header_timeout(s): the header deadline (seconds) of the test's serve (tests/trust)")


def _unrouted_since_last_check(item) -> list[dict]:
    from firestop.sandbox.tenant import read_unrouted_journal

    journal = item.stash.get(_journal_key, None)
    if journal is None:
        return []
    entries = read_unrouted_journal(journal["path"])
    fresh, journal["seen"] = entries[journal["seen"] :], len(entries)
    if item.get_closest_marker(_UNROUTED_MARKER) is not None:
        return []
    return fresh


def _fail_for(entries: list[dict], phase: str) -> None:
    lines = "\n".join(f"  {e['method']} https://{e['host']}{e['path']} (api-version {e.get('api_version')}): {e.get('reason')}" for e in entries)
    pytest.fail(
        f"{len(entries)} request(s) {phase} reached no sandbox route (answered 501); add the route to "
        f"the firestop/sandbox room of that service, or mark the test @pytest.mark.{_UNROUTED_MARKER} if that is the point:\n{lines}",
        pytrace=False,
    )


@pytest.hookimpl(wrapper=True)
def pytest_runtest_setup(item):
    from firestop.sandbox.tenant import UNROUTED_JOURNAL_ENV

    fd, path = tempfile.mkstemp(prefix="firestop-unrouted-", suffix=".jsonl")
    os.close(fd)
    item.stash[_journal_key] = {"path": path, "seen": 0, "previous": os.environ.get(UNROUTED_JOURNAL_ENV)}
    os.environ[UNROUTED_JOURNAL_ENV] = path
    return (yield)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item):
    result = yield  # a test that already failed keeps its own failure
    entries = _unrouted_since_last_check(item)
    if entries:
        _fail_for(entries, "sent during this test")
    return result


@pytest.hookimpl(wrapper=True)
def pytest_runtest_teardown(item, nextitem):
    from firestop.sandbox.tenant import UNROUTED_JOURNAL_ENV

    try:
        result = yield
        entries = _unrouted_since_last_check(item)
    finally:
        journal = item.stash.get(_journal_key, None)
        if journal is not None:
            if journal["previous"] is None:
                os.environ.pop(UNROUTED_JOURNAL_ENV, None)
            else:
                os.environ[UNROUTED_JOURNAL_ENV] = journal["previous"]
            try:
                os.unlink(journal["path"])
            except OSError:
                pass
            del item.stash[_journal_key]
    if entries:
        _fail_for(entries, "sent during teardown")
    return result


@pytest.fixture(autouse=True)
def _clean_globals():
    """Key Vault's challenge cache and Firestop's injected clients/settings are process-global."""
    from azure.keyvault.secrets._shared import http_challenge_cache

    from firestop.azure.clients import configure_clients
    from firestop.settings import configure_settings

    http_challenge_cache.clear()
    sigint = signal.getsignal(signal.SIGINT) if threading.current_thread() is threading.main_thread() else None
    yield
    http_challenge_cache.clear()
    configure_clients(None)
    configure_settings(None)
    if sigint is not None and signal.getsignal(signal.SIGINT) is not sigint:
        # The CLI run in-process installs its own handler (firestop.cli.interrupt): put the worker's back. A SIG_IGN
        # left behind is worse: every child process the worker starts later inherits it through exec, the Ctrl-C
        # tests' children then ignore the signal (an inherited SIG_IGN is kept) and the suite hangs — fail that test.
        left = signal.signal(signal.SIGINT, sigint)
        if left is signal.SIG_IGN:
            pytest.fail(f"the test left SIGINT ignored (was {sigint!r})", pytrace=False)


_SANDBOX_TESTS = Path(__file__).resolve().parent / "sandbox"
_built_documents: dict[bytes, bytes] = {}  # pickled seed spec -> pickled document, this process's builds
_read_seeds: dict[tuple[str, bytes], bytes] = {}  # (suffix, file bytes) -> pickled spec, this process's parses


@pytest.fixture(autouse=True)
def _reuse_built_tenant_documents(request, monkeypatch):
    """``firestop.sandbox.seed.build_document(spec)`` builds a spec's document once per process; later calls
    with an identical spec get a fresh copy of it.

    The tabletop builds a tenant from each scenario's merged seed with ``build_document`` (no seed cache: the
    spec is the seed file with the scenario's overrides) twice per run — ``load_scenario`` checks references on
    one, the exercise runs on another — and ``tabletop list`` once per scenario: ~300 builds of 8 distinct
    specs in tests/tabletop, tests/infra and tests/audit, 12.8 s of CPU (0.05-0.3 s each). The build is a pure
    function of the spec (seeded ``random.Random`` only), so a copy of the first build is what a second build
    returns: the key is the spec's pickle (identical specs only: same values, types and order), the copy a
    pickle round trip (an independent, equal document: JSON types only, ~1-3 ms).

    Likewise ``read_seed_file(path)``: the tabletop merges each scenario's overrides into a fresh parse of its seed
    file (the 0.1 MB default tenant YAML: ~8 ms of CPU per parse, libyaml's parser but PyYAML's pure-Python
    constructor and resolver), ~390 parses in tests/infra, runbooks, lifecycle and tabletop alone (cProfile). The
    parse is a pure function of the file's bytes and suffix, so the file is read every time and a copy (pickle
    round trip, ~0.2 ms; shared YAML anchors stay shared within the copy) of the first parse of the same bytes is
    returned; a file that does not parse raises as before (nothing is kept).

    Not applied to tests/sandbox (the seeding code and its cache are what those tests test: a build there is
    always a build) nor to a test marked ``fresh_seed_build`` (one that patches the seeding code). Subprocesses
    (``python -m firestop``) always build. Test-only: nothing in firestop/ sees this.
    """
    if _SANDBOX_TESTS in request.node.path.parents or request.node.get_closest_marker("fresh_seed_build"):
        yield
        return
    import pickle

    from firestop.sandbox import seed

    build = seed.build_document

    def build_document(spec):
        try:
            key = pickle.dumps(spec, protocol=pickle.HIGHEST_PROTOCOL)
        except Exception:  # noqa: BLE001 — whatever cannot be pickled is built every time
            return build(spec)
        document = _built_documents.get(key)
        if document is None:
            document = _built_documents[key] = pickle.dumps(build(spec), protocol=pickle.HIGHEST_PROTOCOL)
        return pickle.loads(document)

    read = seed.read_seed_file

    def read_seed_file(path=None):
        source = Path(path) if path is not None else seed.DEFAULT_SEED_FILE
        try:
            key = (source.suffix.lower(), source.read_bytes())
        except OSError:  # the real reader raises what it raises
            return read(path)
        spec = _read_seeds.get(key)
        if spec is None:
            spec = _read_seeds[key] = pickle.dumps(read(path), protocol=pickle.HIGHEST_PROTOCOL)
        return pickle.loads(spec)

    monkeypatch.setattr(seed, "build_document", build_document)
    monkeypatch.setattr(seed, "read_seed_file", read_seed_file)
    yield


@pytest.fixture
def firestop_home(tmp_path, monkeypatch):
    """A fresh FIRESTOP_HOME for one test."""
    home = tmp_path / "home"
    monkeypatch.setenv("FIRESTOP_HOME", str(home))
    for name in ("FIRESTOP_KEY_VAULT_URL", "FIRESTOP_LOG_WORKSPACE_ID", "FIRESTOP_PLAYBOOKS", "FIRESTOP_KEY_SECRET_NAME"):
        monkeypatch.delenv(name, raising=False)
    return home


@pytest.fixture
def firestop_main(monkeypatch):
    """Run the CLI's entry point in this process with the argv and environment ``python -m firestop ARGS`` gets.

    ``firestop_main(*args, env=None, stdin=None)`` -> ``subprocess.CompletedProcess`` (args, returncode, stdout,
    stderr as text): :func:`firestop.cli.main.main` itself (the function ``firestop/__main__.py`` calls: click's
    standalone handling, ``--json`` error objects, the last-line-of-defence messages), with ``env`` (a mapping;
    default: this process's environment) as the whole environment for the rest of the test, the repository as the
    working directory, ``stdin`` (text; default empty) as standard input, and the exit status from its
    ``SystemExit`` (0 when it returns). A ``python -m firestop`` child costs ~0.8-1.5 s of CPU in imports before
    the command starts; this costs none. It does not cover the process boundary (``__main__``'s import-time
    Ctrl-C, ``quick_exit.leave``, the interpreter's exit): tests/cli/test_cli_quick_exit.py,
    tests/e2e/test_cli_interrupt.py and each converted module's remaining subprocess test keep that.
    Standard streams and SIGINT's handler (``main`` installs its own) are restored after each call.
    """
    import io
    import signal
    import subprocess
    import sys

    from firestop.settings import REPO_ROOT

    def run(*args: str, env=None, stdin: str | None = None) -> "subprocess.CompletedProcess[str]":
        from firestop.cli.main import main

        if env is not None:
            for name in [n for n in os.environ if n not in env]:
                monkeypatch.delenv(name)
            for name, value in env.items():
                monkeypatch.setenv(name, value)
        monkeypatch.chdir(REPO_ROOT)
        out, err = io.StringIO(), io.StringIO()
        streams = sys.stdin, sys.stdout, sys.stderr
        sigint = signal.getsignal(signal.SIGINT)
        sys.stdin = io.TextIOWrapper(io.BytesIO((stdin or "").encode()), encoding="utf-8")
        sys.stdout, sys.stderr = out, err
        try:
            main(list(args))
            code = 0
        except SystemExit as done:
            code = done.code if isinstance(done.code, int) else (0 if done.code is None else 1)
        finally:
            sys.stdin, sys.stdout, sys.stderr = streams
            signal.signal(signal.SIGINT, sigint)
        return subprocess.CompletedProcess(["python", "-m", "firestop", *args], code, out.getvalue(), err.getvalue())

    return run
