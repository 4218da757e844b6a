"""Server loops whose ``shutdown()`` returns at once instead of after the loop's next poll.

``socketserver.BaseServer.serve_forever(poll_interval)`` notices a ``shutdown()`` only when its ``select`` times out
(or a connection arrives), so every stop waits up to ``poll_interval`` seconds (0.05-0.1 s here) doing nothing: the
local management API, ``firestop serve``'s listener and the tabletop's notification sink are started and stopped by
most tests (tests/trust/test_attack_roles.py: 85 tests, 3.6 of its 10.9 s of wall time in ``shutdown()``).

:class:`Wakeup` is a non-blocking socket pair: a loop registers :attr:`Wakeup.reader` with its selector beside the
listening socket, and ``shutdown()`` calls :meth:`Wakeup.ring` after asking the loop to stop, so the ``select``
returns at once. :class:`PromptShutdownMixin` gives a ``socketserver`` server such a loop (the same loop as the
standard library's, one more file descriptor watched). The poll interval stays: it is still the longest a loop
sleeps when nothing happens. No firestop imports (used by firestop.runtime and firestop.tabletop).
"""

from __future__ import annotations

import selectors
import socket
import threading
from typing import Any


#: what socketserver's own loop uses (poll(2) where there is one: no epoll instance per loop)
_Selector = selectors.PollSelector if hasattr(selectors, "PollSelector") else selectors.SelectSelector


class Wakeup:
    """A socket pair: :meth:`ring` makes :attr:`reader` readable (at most one pending byte matters);
    :meth:`drain` empties it; :meth:`close` closes both ends (idempotent). Never raises from ring/drain."""

    def __init__(self) -> None:
        self.reader, self._writer = socket.socketpair()
        self.reader.setblocking(False)
        self._writer.setblocking(False)

    def ring(self) -> None:
        try:
            self._writer.send(b"\0")
        except OSError:  # buffer full (a byte is already pending: the reader is readable) or closed
            pass

    def drain(self) -> None:
        try:
            while self.reader.recv(512):
                pass
        except OSError:  # BlockingIOError: empty; or closed
            pass

    def close(self) -> None:
        self.reader.close()
        self._writer.close()


class PromptShutdownMixin:
    """Mix in before a ``socketserver.BaseServer`` subclass: :meth:`serve_forever` is the standard library's loop
    also watching a :class:`Wakeup`, which :meth:`shutdown` rings. Same contract as the standard library: ``shutdown``
    asks the loop to stop and waits until it has returned (call it from another thread); a ``shutdown`` before the
    loop runs makes the next ``serve_forever`` return at once; connections being handled are not waited for."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self._wakeup = Wakeup()
        self._stop_asked = False
        self._stopped_loop = threading.Event()
        self._stopped_loop.set()
        try:
            super().__init__(*args, **kwargs)
        except BaseException:  # the address could not be bound: nothing to serve, nothing left open
            self._wakeup.close()
            raise

    def serve_forever(self, poll_interval: float = 0.5) -> None:
        self._stopped_loop.clear()
        try:
            with _Selector() as selector:
                selector.register(self, selectors.EVENT_READ)  # type: ignore[arg-type]  # fileno(): the listener
                selector.register(self._wakeup.reader, selectors.EVENT_READ)
                while not self._stop_asked:
                    ready = selector.select(poll_interval)
                    if self._stop_asked:
                        break
                    if any(key.fileobj is self for key, _ in ready):
                        self._handle_request_noblock()  # type: ignore[attr-defined]
                    elif ready:
                        self._wakeup.drain()  # a ring whose stop was already taken must not keep select awake
                    self.service_actions()  # type: ignore[attr-defined]
        finally:
            self._stop_asked = False
            self._wakeup.drain()
            self._stopped_loop.set()

    def shutdown(self) -> None:
        self._stop_asked = True
        self._wakeup.ring()
        self._stopped_loop.wait()

    def server_close(self) -> None:
        super().server_close()  # type: ignore[misc]
        self._wakeup.close()
