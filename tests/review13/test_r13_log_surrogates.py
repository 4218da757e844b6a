"""R13-06 (low; logs, every outside value escaped for where it lands): ``firestop.telemetry.logs.safe`` escaped
control, bidi and zero-width characters but left a *lone surrogate* (U+D800–U+DFFF: JSON's ``"\\udfff"`` in an alert's
rule name, a Sentinel title — any delivered text) in the line. Such a line is no UTF-8: a stream that encodes strictly
(a file, a pipe with ``PYTHONIOENCODING=utf-8``, a log shipper's) raises ``UnicodeEncodeError`` inside the handler —
"--- Logging error ---" and the decision line lost — and the test suite's own run ended in INTERNALERROR at 1,546 and
1,550 passed: the incident's ``decision … detail=aoai-leaked-key-\\udfff`` line, captured in
``tests/e2e/test_hostile_inputs.py``'s report once an earlier test had set the ``firestop`` logger to INFO
(``configure_logging``), could not be sent by pytest-xdist's worker (execnet: "surrogates not allowed"). Fixed: a lone
surrogate is escaped as ``\\udfff`` like the other unsafe characters.
"""

from __future__ import annotations

import io
import logging

from firestop.telemetry.logs import StructuredFormatter, event, safe


def test_a_lone_surrogate_is_escaped_in_a_log_value():
    assert safe("aoai-leaked-key-\udfff") == "aoai-leaked-key-\\udfff"
    assert safe("x\ud800y", field=True) == "x\\ud800y"
    assert safe("caf\u00e9 \U0001f525") == "caf\u00e9 \U0001f525"  # (a real character outside the BMP stays as it is)


def test_a_decision_line_with_a_lone_surrogate_is_utf8_in_both_formats():
    for fmt in ("text", "json"):
        stream = io.TextIOWrapper(io.BytesIO(), encoding="utf-8", errors="strict", write_through=True)
        handler = logging.StreamHandler(stream)
        handler.setFormatter(StructuredFormatter(fmt))
        logger = logging.getLogger(f"firestop.review13.{fmt}")
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)
        logger.propagate = False
        failed: list[BaseException] = []
        handler.handleError = lambda record: failed.append(record)  # (the handler's "--- Logging error ---")
        try:
            event(logger, "decision", {"incident_id": "inc-1", "detail": "aoai-leaked-key-\udfff"})
            logger.info("rule %s", "aoai-leaked-key-\udfff")  # a non-event record: safe() on the whole message
        finally:
            logger.removeHandler(handler)
        assert failed == [], fmt
        written = stream.buffer.getvalue().decode("utf-8")
        assert written.count("\\udfff") == 2, written
