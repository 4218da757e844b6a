"""The responders' web console: server-rendered HTML, no script, no build step.

Served by the Function App (:mod:`firestop.functions.http_console`, routes under ``/api/console``) and so by
``firestop serve``. Rules of this package:

- **Identity** only from App Service authentication through :func:`firestop.trust.authorize` (every route
  names its role); locally ``firestop serve`` believes the principal header from loopback peers only.
- **Every outside value escaped** with :func:`firestop.markup.html_text` (:mod:`firestop.console.pages`).
- **No script**, one inline style allowed by hash: :data:`firestop.console.pages.CONTENT_SECURITY_POLICY`.
- **State changes** (approve/reject, undo) are POST forms that pass :func:`firestop.console.csrf.check_post`
  (same origin + anti-forgery token bound to the caller).

Modules: :mod:`~firestop.console.pages` (views → HTML, pure), :mod:`~firestop.console.csrf`,
:mod:`~firestop.console.scorecards` (reading tabletop scorecards from ``FIRESTOP_HOME/tabletop``).
"""
