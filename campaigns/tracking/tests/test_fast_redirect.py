"""The redirect fast path (ADR 11) answers exactly as the full stack, records the same clicks, and steps aside."""

from __future__ import annotations

import hashlib
import hmac
import io
import sys
from collections.abc import Callable, Iterable, Iterator
from typing import Any, cast
from urllib.parse import quote

import pytest
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from django.test import Client
from hypothesis import HealthCheck, assume, example, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from redis.exceptions import ConnectionError as RedisConnectionError

from campaigns.models import Click, ClickReason, TrackingLink
from campaigns.tracking import capture, services
from campaigns.tracking.capture import QUEUE_KEY, redis_client, redis_key
from campaigns.tracking.fast_redirect import RedirectFastPath
from tests.factories.tracking import TrackingLinkFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _keep_the_test_transactions_connection(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """As Django's test client does: requests must not close the connection the test's transaction uses."""
    monkeypatch.setattr("campaigns.tracking.fast_redirect.close_old_connections", lambda: None)
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


FIREFOX = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"
PER_RESPONSE = {"date", "server"}


class CountingApp:
    """Django's WSGI handler, counting the requests that reach it."""

    def __init__(self) -> None:
        self.django = WSGIHandler()
        self.calls = 0

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        self.calls += 1
        return self.django(environ, start_response)


def environ(path: str, *, method: str = "GET", **extra: str) -> dict[str, Any]:
    return {
        "REQUEST_METHOD": method,
        "PATH_INFO": path,
        "SCRIPT_NAME": "",
        "QUERY_STRING": "",
        "SERVER_NAME": "testserver",
        "SERVER_PORT": "80",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "HTTP_HOST": "testserver",
        "REMOTE_ADDR": "203.0.113.9",
        "HTTP_USER_AGENT": FIREFOX,
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(b""),
        "wsgi.errors": sys.stderr,
        **extra,
    }


def call(app: Callable[..., Iterable[bytes]], env: dict[str, Any]) -> tuple[str, dict[str, str], bytes]:
    answer: dict[str, Any] = {}

    def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> None:
        answer["status"], answer["headers"] = status, headers

    body = app(env, start_response)
    content = b"".join(body)
    if hasattr(body, "close"):
        body.close()
    headers = {name: value for name, value in answer["headers"] if name.lower() not in PER_RESPONSE}
    return answer["status"], headers, content


def unclosed(app: Callable[..., Iterable[bytes]], env: dict[str, Any]) -> Iterable[bytes]:
    """The answer's body, read but not closed: what a server holds while the response goes out."""
    body = app(env, lambda status, headers, exc_info=None: None)
    assert b"".join(body) == b""
    return body


def connection_dropped(*args: Any, **kwargs: Any) -> Any:
    raise RedisConnectionError("Connection closed by server.")


def queued() -> int:
    return int(redis_client().llen(redis_key(QUEUE_KEY)))


@pytest.fixture
def link() -> TrackingLink:
    return cast(TrackingLink, TrackingLinkFactory())


@pytest.mark.parametrize(
    "extra",
    [
        {},
        {"method": "HEAD"},
        {"HTTP_ACCEPT_LANGUAGE": "de-AT,de;q=0.9"},
        {"wsgi.url_scheme": "https", "SERVER_PORT": "443"},
        {"HTTP_USER_AGENT": "Twitterbot/1.0", "HTTP_REFERER": "https://social.example/@lena/1"},
    ],
)
def test_the_fast_answer_equals_the_full_stacks_answer(link: TrackingLink, extra: dict[str, str]) -> None:
    counting = CountingApp()
    fast = RedirectFastPath(counting)
    full = WSGIHandler()
    path = f"/r/{link.code}"
    first = call(fast, environ(path, **extra))  # through Django: becomes the template of its kind
    second = call(fast, environ(path, **extra))  # answered by the fast path
    reference = call(full, environ(path, **extra))
    assert counting.calls == 1
    assert first == second == reference
    assert second[0] == "302 Found"
    assert second[1]["Location"] == link.target_url
    assert "Set-Cookie" not in second[1]
    assert queued() == 3


def test_fast_clicks_are_recorded_by_the_same_rules(link: TrackingLink) -> None:
    counting = CountingApp()
    fast = RedirectFastPath(counting)
    path = f"/r/{link.code}"
    call(fast, environ(path))  # the template request, through Django
    call(fast, environ(path, REMOTE_ADDR="198.51.100.2"))
    call(fast, environ(path, REMOTE_ADDR="198.51.100.2"))  # the same visitor again
    call(fast, environ(path, method="HEAD", HTTP_USER_AGENT=FIREFOX + " head"))
    call(fast, environ(path, HTTP_USER_AGENT="curl/8.5.0"))
    call(fast, environ(path, HTTP_SEC_PURPOSE="prefetch;prerender", HTTP_USER_AGENT=FIREFOX + " p"))
    services.clicks_drain()
    assert counting.calls == 2  # the first GET and the first HEAD: the templates of their kinds
    reasons = sorted(Click.objects.filter(link=link).values_list("reason", flat=True))
    assert reasons == sorted(["", "", ClickReason.DUPLICATE, ClickReason.HEAD, ClickReason.BOT, ClickReason.PREFETCH])
    assert Click.objects.filter(link=link, billable=True).count() == 2


@pytest.mark.parametrize(
    ("path", "extra", "status"),
    [
        ("/r/doesNotExist", {}, "404"),
        ("/r/{code}", {"method": "POST"}, "403"),  # CSRF answers before the view's 405
        ("/r/{code}", {"method": "PUT"}, "403"),
        ("/r/{code}", {"HTTP_HOST": "evil.example"}, "400"),
        ("/r/{code}/more", {}, "404"),
    ],
)
def test_everything_but_a_plain_redirect_is_left_to_django(
    link: TrackingLink, path: str, extra: dict[str, str], status: str
) -> None:
    counting = CountingApp()
    fast = RedirectFastPath(counting)
    call(fast, environ(f"/r/{link.code}"))  # a template exists for plain GETs
    env = environ(path.format(code=link.code), **extra)
    assert call(fast, env)[0].startswith(status)
    assert call(fast, environ(path.format(code=link.code), **extra))[0].startswith(status)
    assert counting.calls == 3
    assert queued() == 1


def test_requests_with_cookies_go_through_django(link: TrackingLink) -> None:
    counting = CountingApp()
    fast = RedirectFastPath(counting)
    path = f"/r/{link.code}"
    call(fast, environ(path))
    status, headers, _body = call(fast, environ(path, HTTP_COOKIE="sessionid=abc"))
    assert (status, headers["Location"]) == ("302 Found", link.target_url)
    assert counting.calls == 2
    assert queued() == 2


def test_an_https_redirect_setting_keeps_plain_http_on_django(link: TrackingLink, settings: Any) -> None:
    settings.SECURE_SSL_REDIRECT = True
    counting = CountingApp()
    fast = RedirectFastPath(counting)
    for _attempt in range(2):
        status, headers, _body = call(fast, environ(f"/r/{link.code}"))
        assert status.startswith("301")
        assert headers["Location"].startswith("https://testserver/r/")
    assert counting.calls == 2
    assert queued() == 0


def test_a_code_is_resolved_again_after_the_ttl(link: TrackingLink, monkeypatch: pytest.MonkeyPatch) -> None:
    counting = CountingApp()
    fast = RedirectFastPath(counting, link_ttl=0)
    path = f"/r/{link.code}"
    call(fast, environ(path))
    resolved: list[str] = []
    real = services.tracking_link_resolve

    def spy(*, code: str) -> tuple[int, str] | None:
        resolved.append(code)
        return real(code=code)

    monkeypatch.setattr("campaigns.tracking.fast_redirect.tracking_link_resolve", spy)
    call(fast, environ(path))
    call(fast, environ(path))
    assert resolved == [link.code, link.code]


def test_a_click_survives_redis_dropping_the_push_connection(link: TrackingLink) -> None:
    """The per-thread push connection closed by Redis (restart, idle timeout): the click still lands, once."""
    fast = RedirectFastPath(CountingApp())
    path = f"/r/{link.code}"
    call(fast, environ(path))  # the template request, through Django
    call(fast, environ(path))  # the fast path opens its push connection
    connection = capture._push.connection
    connection.send_command("CLIENT", "ID")
    redis_client().execute_command("CLIENT", "KILL", "ID", connection.read_response())
    status, _headers, _body = call(fast, environ(path))
    call(fast, environ(path))  # and the next one pushes on a new connection
    assert status == "302 Found"
    assert queued() == 4


def test_the_answer_goes_out_before_the_worker_waits_for_redis(link: TrackingLink) -> None:
    """The click's LPUSH is sent before the answer; Redis's confirmation is read when the server closes the
    response (after sending it), and a push started meanwhile reads the older answer first."""
    fast = RedirectFastPath(CountingApp())
    path = f"/r/{link.code}"
    call(fast, environ(path))  # the template request, through Django
    before = queued()

    first = unclosed(fast, environ(path))
    assert len(capture._push.pending) == 1  # sent, not confirmed: the server is still answering
    second = unclosed(fast, environ(path))
    assert len(capture._push.pending) == 2
    cast(Any, second).close()  # reads the first answer, then its own
    assert capture._push.pending == []
    cast(Any, first).close()  # already confirmed: nothing left to read
    assert queued() == before + 2
    # The connection is in step: the next click's answer is its own.
    call(fast, environ(path))
    assert queued() == before + 3
    assert capture._push.pending == []


def test_pushes_unconfirmed_when_the_connection_drops_are_sent_again_and_recorded_once(
    link: TrackingLink, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Redis stored two pushes, then the connection dropped before their answers were read: both go again
    (the answer is what says a click is stored), and the drain records each click once."""
    fast = RedirectFastPath(CountingApp())
    path = f"/r/{link.code}"
    call(fast, environ(path))  # the template request, through Django: one click
    call(fast, environ(path))  # the fast path opens its push connection: two

    pending = [unclosed(fast, environ(path)) for _ in range(2)]
    while queued() < 4:  # Redis has stored both
        pass

    monkeypatch.setattr(capture._push.connection, "read_response", connection_dropped)
    for body in pending:
        cast(Any, body).close()
    assert capture._push.pending == []
    assert queued() == 6
    services.clicks_drain()
    assert Click.objects.filter(link=link).count() == 4


def test_a_click_redis_cannot_take_is_recorded_in_the_database(
    link: TrackingLink, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The push's answer never comes and the client's own retries fail: the visitor still has the redirect,
    and the click goes into the database directly (once, even though Redis may have stored it)."""
    fast = RedirectFastPath(CountingApp())
    path = f"/r/{link.code}"
    call(fast, environ(path))  # the template request, through Django
    call(fast, environ(path))  # the fast path opens its push connection
    services.clicks_drain()
    assert Click.objects.filter(link=link).count() == 2

    with monkeypatch.context() as patched:
        patched.setattr(capture._push.connection, "read_response", connection_dropped)
        patched.setattr(redis_client(), "lpush", connection_dropped)
        status, _headers, _body = call(fast, environ(path))
    assert status == "302 Found"
    assert Click.objects.filter(link=link).count() == 3
    assert capture._push.pending == []
    services.clicks_drain()  # Redis had stored the push after all: the same event, recorded once
    assert Click.objects.filter(link=link).count() == 3
    call(fast, environ(path))  # and the next click goes through Redis again
    assert queued() == 1


def test_the_visitor_hash_is_the_keyed_hmac_and_follows_the_salt_setting(settings: Any) -> None:
    settings.TRACKING_HASH_SALT = "salt-one"
    first = capture._salted_hash("203.0.113.9")
    assert first == hmac.new(b"tracking:salt-one", b"203.0.113.9", hashlib.sha256).hexdigest()[:32]
    settings.TRACKING_HASH_SALT = "salt-two"
    assert (
        capture._salted_hash("203.0.113.9")
        == (hmac.new(b"tracking:salt-two", b"203.0.113.9", hashlib.sha256).hexdigest()[:32])
    )


# --- any code: 404, never 500 -------------------------------------------------------------------

#: raw path bytes after /r/ as a client may send them (percent-decoded by the server), NUL included.
ANY_CODE = st.binary(max_size=40)
ANY_CODE_SETTINGS = hypothesis_settings(
    max_examples=150,
    deadline=None,
    derandomize=True,  # the same cases on every run: a red build is reproducible
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@ANY_CODE_SETTINGS
@given(raw=ANY_CODE)
@example(raw=b"\x00")
@example(raw=b"abc\x00def")
@example(raw=b"A" * 17)
@example(raw=b"\xff\xfe")
@example(raw=b"%00")
def test_any_code_through_the_fast_path_answers_404(link: TrackingLink, raw: bytes) -> None:
    """The WSGI callable in front of Django, as a server calls it: PATH_INFO is the bytes decoded latin-1."""
    fast = RedirectFastPath(WSGIHandler())
    call(fast, environ(f"/r/{link.code}"))  # a template exists: unknown codes are resolved by the fast path
    path = "/r/" + raw.decode("latin-1")
    assume(raw.decode("latin-1") != link.code)  # the only link there is
    for method in ("GET", "HEAD"):
        status, _headers, _body = call(fast, environ(path, method=method))
        assert status.startswith("404"), (path, method, status)


@ANY_CODE_SETTINGS
@given(raw=ANY_CODE)
@example(raw=b"\x00")
@example(raw=b"abc\x00def")
@example(raw=b"A" * 17)
def test_any_code_through_django_answers_404(link: TrackingLink, raw: bytes) -> None:
    """The Django view of ``r/<str:code>`` (what the fast path hands over): the test client percent-encodes."""
    client = Client(raise_request_exception=False)
    assume(raw.decode("latin-1") != link.code)  # the only link there is
    response = client.get("/r/" + quote(raw, safe=""))
    assert response.status_code == 404, (raw, response.status_code)
