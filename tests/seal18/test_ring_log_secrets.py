"""seal18, item 3: every key of the seal ring is a log secret, wherever it was read from.

Before: only the app settings' values (``FIRESTOP_SEAL_KEY``, ``FIRESTOP_SEAL_KEY_RETIRED``) were registered with the
log redaction, at the start of ``serve`` and the Functions host; the key a local ``FIRESTOP_HOME`` holds
(``seal-key``, generated or stored), its retired keys (``seal-key.retired``) and the key ``seal-key rotate`` makes while
a ``serve`` process runs were printed as they were by every log line that held one (the first two tests fail before:
the key is in the line)."""

from __future__ import annotations

import logging

from firestop.telemetry.logs import StructuredFormatter, event, safe


def _keys(home) -> list[str]:
    """Every seal key the home holds now, current first: what no log line may carry."""
    retired = home / "seal-key.retired"
    return (home / "seal-key").read_text().split() + (retired.read_text().split() if retired.exists() else [])


def _line(text: str, fmt: str) -> str:
    """What a configured handler (``serve``'s, the Functions host's) prints of a record whose message is ``text``."""
    record = logging.LogRecord("firestop.test", logging.WARNING, __file__, 1, "%s", (text,), None)
    return StructuredFormatter(fmt).format(record)


def _event_line(value: str) -> str:
    seen: list[str] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            seen.append(StructuredFormatter("json").format(record))

    logger = logging.getLogger("firestop.test.seal18")
    handler = Keep()
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:
        event(logger, "request", {"path": f"/api/incidents/{value}", "detail": value})
    finally:
        logger.removeHandler(handler)
    return "\n".join(seen)


def test_the_homes_key_and_its_retired_keys_are_never_in_a_log_line(firestop_home):
    from firestop.trust.keyring import rotate
    from firestop.trust.seal import load_seal_key

    load_seal_key(firestop_home)  # generated into FIRESTOP_HOME/seal-key
    rotate(firestop_home)
    rotate(firestop_home)
    load_seal_key(firestop_home)  # (rotate reads the ring it wrote; a serve process reads it at its next seal)
    keys = _keys(firestop_home)
    assert len(keys) == 3
    for key in keys:
        for fmt in ("text", "json"):
            line = _line(f"could not read {key} from the store", fmt)
            assert key not in line and "[redacted]" in line, line
        assert key not in str(safe(key)) and key not in str(safe(f"value {key}"))
        assert key not in _event_line(key)


def test_a_key_rotated_in_by_another_process_is_a_log_secret_once_read(firestop_home):
    """A ``serve`` process reads the ring the CLI's ``seal-key rotate`` wrote at its next seal: the new key is
    registered then (here: the files written as another process would, then read)."""
    from firestop.trust.keyring import _replace
    from firestop.trust.seal import load_seal_key

    first = load_seal_key(firestop_home)
    new = "n" + "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGH"[::-1]
    old = _keys(firestop_home)[0]
    _replace(firestop_home / "seal-key.retired", old + "\n")
    _replace(firestop_home / "seal-key", new + "\n")
    ring = load_seal_key(firestop_home)
    assert ring.kid != first.kid and [k.kid for k in ring.retired] == [first.kid]
    assert new not in _line(f"x {new} y", "text") and new not in _event_line(new)


def test_keys_from_the_settings_are_log_secrets_without_start_telemetry(firestop_home):
    """The settings' keys were registered only by start_telemetry; a process that loads them is covered now too."""
    from firestop.trust.seal import load_seal_key

    current, retired = "s" * 20 + "-seal18-current-" + "c" * 10, "s" * 20 + "-seal18-retired-" + "r" * 10
    load_seal_key(firestop_home, {"FIRESTOP_SEAL_KEY": current, "FIRESTOP_SEAL_KEY_RETIRED": retired})
    for key in (current, retired):
        assert key not in _line(f"[{key}]", "text")


def test_a_dropped_key_stays_a_log_secret_and_the_registry_is_bounded_by_owner(firestop_home, tmp_path):
    """Dropping a key from the ring (``seal-key retire``) does not make it printable: a key exposed is the reason to
    drop it. The registry keeps every key of at most MAX_SECRET_OWNERS homes (a process serves one; a test process
    opens thousands, and each value costs every log line a search)."""
    from firestop.telemetry import logs
    from firestop.trust.keyring import retire, rotate
    from firestop.trust.seal import load_seal_key

    first = load_seal_key(firestop_home)
    old = _keys(firestop_home)[0]
    rotate(firestop_home)
    load_seal_key(firestop_home)
    retire(firestop_home, first.kid)
    assert load_seal_key(firestop_home).retired == ()
    assert old not in _line(old, "text")  # dropped from the ring, still a secret of this process

    homes = [tmp_path / f"other-{n}" for n in range(logs.MAX_SECRET_OWNERS)]
    for home in homes:
        load_seal_key(home)
    assert old in _line(old, "text")  # the home opened longest ago is forgotten first
    newest = _keys(homes[-1])[0]
    assert newest not in _line(newest, "text")
    assert len(logs._owned_secrets) == logs.MAX_SECRET_OWNERS


def test_no_key_of_the_ring_is_in_any_output_log_record_ledger_or_history(firestop_home, caplog):
    """Guard (passes before too): an incident handled, the key rotated, the incident undone and its ledger verified,
    the old key dropped, a refused undo — no key the ring ever held is in any output, log record, or file of the home
    but the key files (records, ledgers, the durable host's history, the sandbox's state)."""
    import json

    from typer.testing import CliRunner

    from firestop.cli.main import app
    from firestop.settings import REPO_ROOT

    caplog.set_level(logging.DEBUG)

    def cli(*args):
        return CliRunner().invoke(app, list(args), catch_exceptions=False).output

    outputs = [cli("alert", "handle", str(REPO_ROOT / "examples" / "alerts" / "leaked-key.json"), "--json")]
    incident = json.loads(outputs[0])["incident_id"]
    keys = set(_keys(firestop_home))
    old = json.loads(cli("seal-key", "show", "--json"))["kid"]
    outputs += [cli("seal-key", "rotate", "--as", "oid-admin", "--json"), cli("ledger", "verify", incident, "--json"),
                cli("incident", "undo", incident, "--as", "oid-bob", "--yes", "--json")]
    keys |= set(_keys(firestop_home))
    outputs += [cli("seal-key", "retire", old, "--as", "oid-admin", "--yes", "--json"),
                cli("incident", "undo", incident, "--as", "oid-bob", "--yes", "--json"),
                cli("ledger", "verify", incident, "--json"), cli("incident", "show", incident, "--json")]
    assert len(keys) == 2
    logged = "\n".join(r.getMessage() for r in caplog.records)
    for key in keys:
        assert not any(key in text for text in outputs) and key not in logged
    for path in firestop_home.rglob("*"):
        if path.is_file() and path.name not in ("seal-key", "seal-key.retired"):
            data = path.read_bytes()
            for key in keys:
                assert key.encode() not in data, path
