"""The tests' stand-in HTTP servers (webhooks, remote apps, pages): the standard library's, stopping at once.

``socketserver``'s ``shutdown()`` waits for the loop's next poll (0.05 s in these tests) on every teardown;
these classes watch the product's wake-up socket (:mod:`firestop.runtime.wakeup`), so ``shutdown()`` returns
as soon as the loop has left. Otherwise exactly ``http.server``'s classes."""

from __future__ import annotations

from http.server import HTTPServer as _HTTPServer
from http.server import ThreadingHTTPServer as _ThreadingHTTPServer

from firestop.runtime.wakeup import PromptShutdownMixin


class HTTPServer(PromptShutdownMixin, _HTTPServer):
    pass


class ThreadingHTTPServer(PromptShutdownMixin, _ThreadingHTTPServer):
    pass
