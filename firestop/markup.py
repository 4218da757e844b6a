"""Escaping for the text formats Firestop writes: one helper per place a value from outside lands.

Alert fields, resource ids, approval comments and runbook messages come from
outside (an alert sender, a responder, Azure). Whatever they contain, the
document they land in must keep its structure: no raw HTML (``<img onerror>``,
``<script>``), no links or images (``[x](javascript:…)``, ``![](http://…)``),
no new headings or list items from a line break, no broken code span.

| helper | for | what it does |
|---|---|---|
| :func:`md_text` | Markdown inline text (CommonMark / GFM), incl. a table cell | line breaks and other control characters → space (so a value never starts a line: no heading, list or block); the characters that open inline constructs are backslash-escaped: ``\\`` (escapes) `````` (code) ``*`` ``_`` ``~`` (emphasis) ``[`` ``]`` ``!`` (links, images) ``<`` ``>`` (HTML, autolinks) ``&`` (entities) ``|`` (table cells) ``#`` (headings); a leading ``-`` ``+`` ``=`` or ``1.`` too (a list item or underline); the ``:`` of ``scheme://`` and the ``.`` of ``www.`` (GFM/Teams autolink bare URLs: an outside URL stays text, never a link). Bare e-mail addresses still autolink in GFM (``mailto:``; no escape prevents it: cmark-gfm joins the text before matching them) |
| :func:`md_code` | a Markdown code span | control characters → space; fenced with one backtick more than the longest backtick run inside, padded when it starts or ends with one |
| :func:`md_cell` | a GFM table cell | :func:`md_text`, ``—`` for empty |
| :func:`slack_text` | Slack ``mrkdwn`` / ``text`` | control characters except ``\\n`` → space; ``&`` ``<`` ``>`` → entities (Slack's documented escaping: no links, no ``<!channel>`` mentions, https://api.slack.com/reference/surfaces/formatting#escaping) |
| :func:`one_line` | a value on one line anywhere (logs, plain text) | control characters (incl. CR, LF, U+2028/2029, U+0085) → space |
| :func:`html_text` | HTML text content or a double-quoted attribute value (the web console) | :func:`one_line`, then ``&`` ``<`` ``>`` ``"`` ``'`` → character references (HTML Living Standard, "Serializing HTML fragments" escapes ``&``, NBSP, ``<``, ``>`` in text and ``"`` in attributes; ``'`` too, so a value is safe in either quoting) |

Pure; imports nothing from Firestop.
"""

from __future__ import annotations

import re
from typing import Any

from firestop.lazy_re import LazyPattern

__all__ = ["html_text", "md_cell", "md_code", "md_text", "one_line", "slack_text"]

#: Control characters, line/paragraph separators, and the invisible format characters that reorder or hide text
#: (zero-width U+200B–U+200F, bidi embeddings/overrides U+202A–U+202E and isolates U+2066–U+2069, U+2060–U+2065,
#: BOM U+FEFF): an alert field must not visually reorder an approval card or a log line.
_CONTROL = re.compile(r"[\x00-\x1f\x7f\x80-\x9f\u2028\u2029\u200b-\u200f\u202a-\u202e\u2060-\u2069\ufeff]")
_CONTROL_KEEP_NL = LazyPattern(r"[\x00-\x09\x0b-\x1f\x7f\x80-\x9f\u2028\u2029\u200b-\u200f\u202a-\u202e\u2060-\u2069\ufeff]", 0, globals())
_MD_SPECIAL = re.compile(r"([\\`*_\[\]!<>|~&#])")
#: What starts a GFM "extended autolink" (GitHub Flavored Markdown spec §6.9; Teams links the same): the ``:`` of
#: ``scheme://`` and the ``.`` of ``www.`` after a non-alphanumeric. Escaped (``http\://``, ``www\.``), the renderer
#: shows the same text and never sees the trigger (checked against cmark-gfm in tests/trust/test_hostile_markdown.py).
_AUTOLINK_COLON = re.compile(r":(?=//)")
_AUTOLINK_WWW = re.compile(r"(?i)(?<![A-Za-z0-9])(www)\.")
#: A value placed first in a list item or cell could still open a block: a list marker, a setext underline.
_BLOCK_START = re.compile(r"^(\s*)([-+=](?=\s|$)|\d{1,9}(?=[.)](?:\s|$)))")
_BACKTICKS = re.compile(r"`+")


def _text(value: Any) -> str:
    text = "" if value is None else str(value)
    return text.encode("utf-8", "replace").decode("utf-8")  # unpaired surrogates cannot be written


def one_line(value: Any) -> str:
    """``value`` as text on one line: every control/line-break character becomes a space."""
    return _CONTROL.sub(" ", _text(value))


def md_text(value: Any) -> str:
    """``value`` as literal Markdown inline text (see the module table)."""
    text = _MD_SPECIAL.sub(r"\\\1", one_line(value))
    text = _AUTOLINK_WWW.sub(r"\1\\.", _AUTOLINK_COLON.sub(r"\\:", text))
    return _BLOCK_START.sub(lambda m: m.group(1) + ("\\" + m.group(2) if not m.group(2).isdigit() else m.group(2) + "\\"), text)


def md_cell(value: Any) -> str:
    """``value`` as a literal GFM table cell; ``—`` when None or empty."""
    if value is None or value == "":
        return "—"
    return md_text(value)


def md_code(value: Any) -> str:
    """``value`` as a Markdown code span, fences included (``—`` when None or empty)."""
    if value is None or value == "":
        return "—"
    text = one_line(value)
    longest = max((len(run) for run in _BACKTICKS.findall(text)), default=0)
    fence = "`" * (longest + 1)
    if text.startswith("`") or text.endswith("`") or (text.startswith(" ") and text.endswith(" ")):
        text = f" {text} "
    return f"{fence}{text}{fence}"


def slack_text(value: Any) -> str:
    """``value`` for Slack ``mrkdwn``: ``&``/``<``/``>`` as entities, control characters but ``\\n`` → space."""
    text = _CONTROL_KEEP_NL.sub(" ", _text(value))
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def html_text(value: Any) -> str:
    """``value`` as literal HTML text or attribute value (see the module table); ``""`` for None."""
    return (one_line(value).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
            .replace('"', "&quot;").replace("'", "&#x27;"))
