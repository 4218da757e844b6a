"""RT6-05: bidi and invisible formatting characters reach log lines raw.

Attack: :func:`firestop.telemetry.logs.safe` — the helper every structured field and every plain message goes through
before it is printed — escaped C0 controls, DEL, U+0085 and U+2028/2029, but not the Unicode bidi controls (U+202A–202E
embeddings/overrides, U+2066–2069 isolates, U+200E/200F, U+061C), zero-width characters (U+200B–200D, U+2060, U+FEFF)
nor the other C1 controls. An alert sender (or any caller) puts ``\\u202e`` in an alert rule name, an event id or a
route: the log viewer then shows the rest of the line reversed ("Trojan Source", CVE-2021-42574), so
``caller=attacker outcome=refused`` can read as something else, and a zero-width space makes two ids look equal.
(``%r`` in a message already escapes them: Python's repr escapes every non-printable character.)

Fix: ``safe`` escapes those characters as ``\\uNNNN``/``\\xNN`` (the set :mod:`firestop.markup` already removes from
Markdown), in the text and JSON formats alike.
"""

from __future__ import annotations

import io
import json
import logging

import pytest

from firestop.telemetry.logs import StructuredFormatter, event, safe

RLO, PDF = "\u202e", "\u202c"
INVISIBLE = ["\u202a", "\u202b", "\u202c", "\u202d", "\u202e", "\u2066", "\u2067", "\u2068", "\u2069", "\u200e", "\u200f",
             "\u061c", "\u200b", "\u200c", "\u200d", "\u2060", "\ufeff", "\u2028", "\u2029", "\x85", "\x9b", "\x1b"]


@pytest.mark.parametrize("char", INVISIBLE)
def test_rt6_05_safe_escapes_every_bidi_zero_width_and_control_character(char):
    for field in (False, True):
        text = safe(f"rule{char}name x=1", field=field)
        assert char not in text and ("\\u" in text or "\\x" in text), (hex(ord(char)), text)


def test_rt6_05_a_line_that_would_reorder_is_printed_escaped_in_text_and_json():
    # rendered raw, "outcome=" + RLO + "detpecca" reads as "outcome=accepted" in a bidi-aware viewer
    forged = f"aoai-leaked-key{RLO}detpecca=emoctuo{PDF}"
    for fmt in ("text", "json"):
        stream = io.StringIO()
        handler = logging.StreamHandler(stream)
        handler.setFormatter(StructuredFormatter(fmt))
        logger = logging.getLogger(f"firestop.test.rt6.{fmt}")
        logger.handlers, logger.propagate = [handler], False
        logger.setLevel(logging.INFO)
        event(logger, "alert", {"alert_id": forged, "outcome": "refused"})
        logger.info("plain message about %s", forged)  # a %s of an external value: the formatter makes it safe
        lines = stream.getvalue().splitlines()
        assert len(lines) == 2, lines
        for line in lines:
            assert RLO not in line and PDF not in line, (fmt, ascii(line))
            assert "\\u202e" in line and "\\u202c" in line, (fmt, line)
        if fmt == "json":
            assert json.loads(lines[0])["outcome"] == "refused"
        else:
            assert lines[0].endswith("outcome=refused")


def test_rt6_05_text_in_other_scripts_is_left_alone():
    assert safe("Jörg 中文 עברית x=1") == "Jörg 中文 עברית x=1"  # only the invisible formatting characters are escaped
