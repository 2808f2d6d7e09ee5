"""The redirect fast path (ADR 11): ``/r/<code>`` answered in front of Django's middleware stack.

Every click on a published post lands on ``/r/<code>``; through the full stack (sessions, auth,
CSRF, locale, messages, CSP, audit context, allauth, staff MFA) it costs several times the redirect
itself. This WSGI wrapper answers the common case without the stack and with the same result:

* the same click: ``click_event_from_request`` + ``click_push`` as the view does, except that Redis's
  confirmation is read after the answer went out (``_AnsweredFirst``);
* the same response: the header set is taken from a real answer of the full stack. The first
  request of each kind (method, https or not, negotiated language) goes through Django; its 302 is
  kept as the template and later redirects of that kind reuse it with their own ``Location``. A
  kind whose Django answer is not that plain 302 (an https redirect, a disallowed host, a session
  cookie being set) never gets a template and stays on Django;
* the same target: a process-local cache of code -> (link id, target) in front of the resolver
  (``tracking_link_resolve``: Redis cache, then one indexed read), for ``LINK_TTL`` seconds.

Everything else goes to Django untouched: other paths and methods, requests carrying cookies (a
signed-in person may meet the staff-MFA or session machinery), unknown codes (the 404 page), hosts
Django refuses (400).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from django.conf import settings
from django.core.exceptions import DisallowedHost
from django.core.handlers.wsgi import WSGIRequest
from django.db import close_old_connections
from django.utils.translation import get_language_from_request

from campaigns.tracking.capture import click_event_from_meta
from campaigns.tracking.handoff import ClickHandoff, click_push_start
from campaigns.tracking.services import tracking_link_resolve

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]
HeaderKind = tuple[str, bool, str]

PREFIX = "/r/"
#: seconds a code's target is served from process memory (the Redis cache keeps it for a day).
LINK_TTL = 300.0
MAX_LINKS = 100_000
#: kinds are (method, secure, language): a handful; the cap only guards against surprises.
MAX_KINDS = 64
MAX_KIND_INPUTS = 1024


class _AnsweredFirst:
    """The redirect's empty body; the server calls ``close`` once the answer went out (PEP 3333), and only
    then does the worker wait for Redis to confirm the click (it was sent before the answer). Not waiting in
    between saves the worker a sleep and a wake-up per click, most of what the push cost (bench P1)."""

    __slots__ = ("handoff",)

    def __init__(self, handoff: ClickHandoff) -> None:
        self.handoff = handoff

    def __iter__(self) -> Iterator[bytes]:
        yield b""

    def close(self) -> None:
        self.handoff.finish()


class RedirectFastPath:
    def __init__(self, app: WSGIApp, *, link_ttl: float = LINK_TTL) -> None:
        self.app = app
        self.link_ttl = link_ttl
        self._links: dict[str, tuple[int, str, float]] = {}
        #: headers of Django's plain redirect per kind; None marks where ``Location`` goes.
        self._templates: dict[HeaderKind, list[tuple[str, str | None]]] = {}
        self._kinds: dict[tuple[str, ...], HeaderKind | None] = {}
        self._lock = threading.Lock()
        proxy_ssl_header = settings.SECURE_PROXY_SSL_HEADER[0] if settings.SECURE_PROXY_SSL_HEADER else ""
        #: every environ value that request.get_host(), is_secure() and the language negotiation read.
        self._kind_keys = (
            "HTTP_HOST",
            "SERVER_NAME",
            "SERVER_PORT",
            "wsgi.url_scheme",
            "HTTP_ACCEPT_LANGUAGE",
            *(("HTTP_X_FORWARDED_HOST",) if settings.USE_X_FORWARDED_HOST else ()),
            *(("HTTP_X_FORWARDED_PORT",) if settings.USE_X_FORWARDED_PORT else ()),
            *((proxy_ssl_header,) if proxy_ssl_header else ()),
        )
        # Settings under which Django's answer depends on more than the kind: leave it all to Django.
        self.enabled = not settings.PREPEND_WWW and not settings.DISALLOWED_USER_AGENTS

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        path: str = environ.get("PATH_INFO", "")
        method = environ.get("REQUEST_METHOD", "")
        if (
            not self.enabled
            or not path.startswith(PREFIX)
            or method not in ("GET", "HEAD")
            or "HTTP_COOKIE" in environ
            or environ.get("SCRIPT_NAME")
        ):
            return self.app(environ, start_response)
        code = path[len(PREFIX) :]
        if not code or "/" in code or not code.isascii():
            return self.app(environ, start_response)
        kind = self._kind(environ, method)
        if kind is None:
            return self.app(environ, start_response)
        template = self._templates.get(kind)
        if template is None:
            return self._through_django(environ, start_response, kind=kind, code=code)
        link = self._link(code)
        if link is None:
            return self.app(environ, start_response)
        link_id, target = link
        handoff = click_push_start(event=click_event_from_meta(environ, method=method, link_id=link_id))
        start_response("302 Found", [(name, target if value is None else value) for name, value in template])
        return _AnsweredFirst(handoff)

    def _kind(self, environ: dict[str, Any], method: str) -> HeaderKind | None:
        """(method, https, language) as Django's request would see them; None for a host Django refuses.

        Remembered per combination of the environ values they depend on (there are few in practice),
        so the hot path builds no HttpRequest.
        """
        # WSGI environ values are native strings (PEP 3333): hashable as they are.
        inputs = (method, *[environ.get(key, "") for key in self._kind_keys])
        if inputs in self._kinds:
            return self._kinds[inputs]
        request = WSGIRequest(environ)
        kind: HeaderKind | None
        try:
            request.get_host()
        except DisallowedHost:
            kind = None
        else:
            # No cookies reach this point, so the language comes from Accept-Language as in LocaleMiddleware.
            kind = (method, request.is_secure(), get_language_from_request(request))
        if len(self._kinds) >= MAX_KIND_INPUTS:
            self._kinds.clear()
        self._kinds[inputs] = kind
        return kind

    def _link(self, code: str) -> tuple[int, str] | None:
        now = time.monotonic()
        cached = self._links.get(code)
        if cached is not None and cached[2] > now:
            return cached[0], cached[1]
        # What Django does at every request start; this path may now touch the database.
        close_old_connections()
        resolved = tracking_link_resolve(code=code)
        if resolved is None:
            return None
        if len(self._links) >= MAX_LINKS:
            self._links.clear()
        self._links[code] = (resolved[0], resolved[1], now + self.link_ttl)
        return resolved

    def _through_django(
        self, environ: dict[str, Any], start_response: Callable[..., Any], *, kind: HeaderKind, code: str
    ) -> Iterable[bytes]:
        """Serves the request through the full stack and keeps its answer's headers if it is the plain redirect."""

        def capture(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            names = {name.lower() for name, _value in headers}
            if status.startswith("302 ") and "set-cookie" not in names and "location" in names:
                location = next(value for name, value in headers if name.lower() == "location")
                link = self._link(code)
                if link is not None and link[1] == location:
                    with self._lock:
                        if len(self._templates) < MAX_KINDS:
                            self._templates[kind] = [
                                (name, None if name.lower() == "location" else value) for name, value in headers
                            ]
            return start_response(status, headers, exc_info) if exc_info else start_response(status, headers)

        return self.app(environ, capture)
