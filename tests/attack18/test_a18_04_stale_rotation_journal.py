"""A18-04: a rotation journal left behind turned a later ``seal-key rotate`` into "resumed" — no new key.

seal18 journals ``seal-key rotate`` (``FIRESTOP_HOME/seal-key.rotating``, ``was=<kid> kid=<kid>``): a rerun that finds
the journal naming the current key finishes a rotation killed after its switch instead of rotating twice. It trusted
the journal whenever it was written: a rotation killed after its switch and never rerun (the admin ran ``seal-key
retire``, or ``serve`` ran on for months) left one, and so can anyone who writes the home and read the current key id
(``seal-key show``, every rotation's output). The next rotation — the one after a suspected exposure — answered
``{"rotated": true, "resumed": true}`` and made no key: the exposed key stayed current. (It never resumes *into* a
key the journal names: resuming only finishes, so no key can be chosen this way.)

Fix: a journal is honoured only within ``RESUME_SECONDS`` of the switch (the key file's time) and while the key it
rotated from is the newest retired one; ``seal-key retire`` removes a finished one. Fails before: no new key.
"""

from __future__ import annotations

import os
import time

from firestop.trust.keyring import JOURNAL_FILE, retire, rotate
from firestop.trust.seal import load_seal_key


def _killed_after_the_switch(home) -> tuple[str, str]:
    """What a rotation SIGKILLed between its switch and its last step leaves: the new key current, the journal."""
    first = load_seal_key(home).kid
    done = rotate(home)
    (home / JOURNAL_FILE).write_text(f"was={first} kid={done['kid']}\n", encoding="utf-8")
    return first, done["kid"]


def test_a_journal_left_long_ago_does_not_stop_a_rotation(firestop_home):
    _, current = _killed_after_the_switch(firestop_home)
    long_ago = time.time() - 30 * 86400  # the switch a month ago; the exposure is today
    os.utime(firestop_home / "seal-key", (long_ago, long_ago))
    done = rotate(firestop_home)
    assert done["resumed"] is False and done["kid"] != current, done  # before: resumed, no new key
    assert load_seal_key(firestop_home).kid == done["kid"] != current


def test_after_a_retire_the_journal_is_gone_and_the_next_rotation_rotates(firestop_home):
    first, current = _killed_after_the_switch(firestop_home)
    retire(firestop_home, first)
    assert not (firestop_home / JOURNAL_FILE).exists()
    done = rotate(firestop_home)
    assert done["resumed"] is False and load_seal_key(firestop_home).kid not in (first, current), done


def test_a_planted_journal_naming_the_current_key_does_not_stop_the_rotation(firestop_home):
    current = load_seal_key(firestop_home).kid  # what `seal-key show` prints; nothing retired yet
    (firestop_home / JOURNAL_FILE).write_text(f"was=0badc0de kid={current}\n", encoding="utf-8")
    done = rotate(firestop_home)
    assert done["resumed"] is False and load_seal_key(firestop_home).kid != current, done


def test_a_rerun_just_after_the_kill_still_finishes_without_a_second_key(firestop_home):
    _, current = _killed_after_the_switch(firestop_home)
    done = rotate(firestop_home)
    assert done["resumed"] is True and load_seal_key(firestop_home).kid == current, done
