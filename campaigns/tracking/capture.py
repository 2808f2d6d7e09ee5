"""The request side of a click: classify cheaply, hash the visitor, push to Redis. No ORM writes.

``handoff.click_push`` hands a click over: onto this queue, or (without Redis: ``make run`` on SQLite, no
``REDIS_URL``) straight to the recording service.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import ipaddress
import json
import os
import re
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core.cache import cache
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.http import HttpRequest
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisError
from redis.exceptions import TimeoutError as RedisTimeoutError

QUEUE_KEY = "tracking:clicks"
PROCESSING_KEY = "tracking:clicks:processing"
DRAIN_LOCK_KEY = "tracking:clicks:drain-lock"
LINK_CACHE_TTL = 24 * 3600

#: Lower-case substrings of user agents that are bots, link unfurlers or scripts (never billable).
BOT_UA_SUBSTRINGS: tuple[str, ...] = (
    "bot",
    "crawler",
    "spider",
    "slurp",
    "facebookexternalhit",
    "facebookcatalog",
    "meta-externalagent",
    "twitterbot",
    "slackbot",
    "linkedinbot",
    "discordbot",
    "whatsapp",
    "telegrambot",
    "skypeuripreview",
    "embedly",
    "pinterest",
    "redditbot",
    "mastodon",
    "akkoma",
    "pleroma",
    "misskey",
    "bluesky cardyb",
    "cardyb",
    "curl",
    "wget",
    "python-requests",
    "python-urllib",
    "aiohttp",
    "httpx",
    "go-http-client",
    "java/",
    "okhttp",
    "libwww",
    "node-fetch",
    "axios",
    "headless",
    "phantomjs",
    "lighthouse",
    "pingdom",
    "uptime",
    "preview",
)

UA_FAMILIES: tuple[tuple[str, str], ...] = (
    ("edg/", "Edge"),
    ("opr/", "Opera"),
    ("samsungbrowser", "Samsung Internet"),
    ("firefox/", "Firefox"),
    ("chrome/", "Chrome"),
    ("crios/", "Chrome"),
    ("safari/", "Safari"),
)


_JSON_ENCODER = json.JSONEncoder(separators=(",", ":"))


@dataclass(frozen=True)
class ClickEvent:
    """What the redirect captured; JSON-serialised onto the Redis list with short keys."""

    event_id: str
    link_id: int
    occurred_at: float  # epoch seconds
    ip_hash: str  # ``visitor_hash``: the visitor the rules count (address, IPv6 by /64)
    ua_hash: str  # stored for reviews only; a different user agent is not a different visitor
    ua_family: str
    referrer_host: str
    is_head: bool
    is_prefetch: bool
    is_bot: bool

    def to_json(self) -> str:
        # vars() is asdict() without its recursive deep copy (every field is a plain value); one encoder
        # for every click (json.dumps with separators builds a new one per call: half the cost, profiled).
        return _JSON_ENCODER.encode(vars(self))

    @classmethod
    def from_json(cls, raw: bytes | str) -> ClickEvent:
        data: dict[str, Any] = json.loads(raw)
        return cls(**data)


class _Settings:
    """The settings every click reads, read once: each ``settings.X`` is a lazy-object lookup (µs per
    read, several per click on the redirect's hot path). Cleared when a test changes a setting."""

    def __init__(self) -> None:
        salt = getattr(settings, "TRACKING_HASH_SALT", "") or settings.SECRET_KEY
        #: the keyed HMAC state, copied per value instead of re-keyed per value.
        self.hasher = hmac.new(f"tracking:{salt}".encode(), digestmod=hashlib.sha256)
        self.trust_forwarded_for = bool(getattr(settings, "TRACKING_TRUST_X_FORWARDED_FOR", False))
        #: proxies of ours that each append to X-Forwarded-For (the load balancer; a CDN in front of it).
        self.forwarded_for_proxies = max(1, int(getattr(settings, "TRACKING_FORWARDED_FOR_PROXIES", 1)))
        self.drain_trigger = int(getattr(settings, "TRACKING_DRAIN_TRIGGER", 500))
        self.redis = bool(getattr(settings, "REDIS_URL", ""))


_settings: _Settings | None = None


def _conf() -> _Settings:
    global _settings
    if _settings is None:
        _settings = _Settings()
    return _settings


@receiver(setting_changed)
def _settings_changed(**_kwargs: Any) -> None:
    global _settings
    _settings = None


def _salted_hash(value: str) -> str:
    mac = _conf().hasher.copy()
    mac.update(value.encode())
    return mac.hexdigest()[:32]


#: The /64 an IPv6 address belongs to: one subscriber's network (RFC 6177); its host half rotates freely.
_IPV6_NETWORK_MASK = ((1 << 64) - 1) << 64


def _ipv6_network(ip: str) -> str:
    """The first four groups of an IPv6 address ("2001:db8:aa:bb"), read without ``ipaddress``.

    ``ipaddress.IPv6Address`` costs several times the click's HMAC; this splits the string and leaves the
    spellings it cannot split (an embedded IPv4 address, no "::" where groups are missing) to ``ipaddress``.
    Equal to ``ipaddress`` on every valid address (tested).
    """
    head, gap, tail = ip.partition("::")
    groups = head.split(":") if head else []
    if len(groups) < 4:
        rest = tail.split(":") if tail else []
        if not gap or "." in tail or len(groups) + len(rest) > 7:
            raise ValueError(ip)
        groups += ["0"] * (8 - len(groups) - len(rest)) + rest
    # Leading zeros and case are spelling; what is not hex is not an address and stays as sent (one visitor).
    return ":".join([group.lstrip("0") or "0" for group in groups[:4]]).lower()


def network_identity(ip: str) -> str:
    """The visitor the click rules count: the IPv4 address, or the /64 of an IPv6 address.

    Keyed on the network address only, never on headers the client chooses (user agent, cookies): a
    script rotating user agents from one address is one visitor. An IPv6 host picks any address in its
    /64 (privacy extensions), so the /64 is the subscriber. IPv4 is kept whole and cheap (no parsing):
    the redirect's hot path runs this on every click.
    """
    ip = ip.strip()
    if ":" not in ip:
        return ip
    ip = ip.split("%", 1)[0]  # a zone index ("fe80::1%eth0") is local noise
    if "." not in ip:
        try:
            network = _ipv6_network(ip)
        except ValueError:
            network = ""
        # 0:0:0:0 may be an IPv4 address written as IPv6 ("::ffff:c000:207"): ``ipaddress`` tells.
        if network and network != "0:0:0:0":
            return network + "::/64"
    try:
        address = ipaddress.IPv6Address(ip)
    except ValueError:
        return ip  # not an address (a misconfigured proxy header): hashed as given, still one visitor
    if address.ipv4_mapped is not None:
        return str(address.ipv4_mapped)
    return _ipv6_network(str(ipaddress.IPv6Address(int(address) & _IPV6_NETWORK_MASK))) + "::/64"


def visitor_hash(ip: str) -> str:
    """The salted hash stored as ``Click.ip_hash``: the one identity rule of both redirect paths (ADR 10, 11)."""
    return _salted_hash(network_identity(ip))


def client_ip(request: HttpRequest) -> str:
    return _client_ip_meta(request.META)


def _client_ip_meta(meta: Mapping[str, Any]) -> str:
    conf = _conf()
    if conf.trust_forwarded_for:
        forwarded = meta.get("HTTP_X_FORWARDED_FOR", "")
        if forwarded:
            # Our proxies append the address they saw; entries left of theirs are whatever the client sent,
            # and a visitor who could choose them would be a new visitor on every request.
            entries = str(forwarded).split(",")
            return entries[-min(conf.forwarded_for_proxies, len(entries))].strip()
    return str(meta.get("REMOTE_ADDR", ""))


#: one pass over the user agent instead of one ``in`` per substring (it runs on every click).
_BOT_UA = re.compile("|".join(re.escape(part) for part in BOT_UA_SUBSTRINGS))

#: The request headers that announce a prefetch or prerender, as WSGI environ keys.
PREFETCH_HEADERS: tuple[str, ...] = ("HTTP_PURPOSE", "HTTP_SEC_PURPOSE", "HTTP_X_PURPOSE", "HTTP_X_MOZ")


def is_bot_user_agent(user_agent: str) -> bool:
    lowered = user_agent.lower()
    return not lowered.strip() or _BOT_UA.search(lowered) is not None


def ua_family(user_agent: str, *, is_bot: bool | None = None) -> str:
    if is_bot if is_bot is not None else is_bot_user_agent(user_agent):
        return "bot"
    lowered = user_agent.lower()
    for needle, family in UA_FAMILIES:
        if needle in lowered:
            return family
    return "other"


def is_prefetch(request: HttpRequest) -> bool:
    return _is_prefetch_meta(request.META)


def _is_prefetch_meta(meta: Mapping[str, Any]) -> bool:
    for name in PREFETCH_HEADERS:
        value = str(meta.get(name, "")).lower()
        if "prefetch" in value or "prerender" in value or "preview" in value:
            return True
    return False


def referrer_host(request: HttpRequest) -> str:
    return _referrer_host_meta(request.META)


def _referrer_host_meta(meta: Mapping[str, Any]) -> str:
    referrer = meta.get("HTTP_REFERER", "")
    if not referrer:
        return ""
    try:
        return (urlsplit(referrer).hostname or "")[:200]
    except ValueError:
        return ""


def click_event_from_request(request: HttpRequest, *, link_id: int) -> ClickEvent:
    return click_event_from_meta(request.META, method=request.method or "", link_id=link_id)


def click_event_from_meta(meta: Mapping[str, Any], *, method: str, link_id: int) -> ClickEvent:
    """The click from the request's WSGI environ (``request.META``), so the redirect fast path can skip HttpRequest."""
    user_agent = meta.get("HTTP_USER_AGENT", "")[:1000]
    is_bot = is_bot_user_agent(user_agent)
    return ClickEvent(
        # 128 random bits as 32 hex digits, the column's form; uuid4() built a UUID object around them (1.4 us).
        event_id=os.urandom(16).hex(),
        link_id=link_id,
        occurred_at=time.time(),
        ip_hash=visitor_hash(_client_ip_meta(meta)),
        ua_hash=_salted_hash(user_agent),
        ua_family=ua_family(user_agent, is_bot=is_bot),
        referrer_host=_referrer_host_meta(meta),
        is_head=method == "HEAD",
        is_prefetch=_is_prefetch_meta(meta),
        is_bot=is_bot,
    )


class _PushConnection(threading.local):
    """This thread's own connection for the click ``LPUSH``, and the command's packed head.

    The full client call (connection pool checkout and release, command packing, observability
    hooks) cost as much CPU as the rest of the redirect; the hand-off is one pre-packed command
    on a connection kept per thread (per process under sync workers), made from the cache
    client's pool settings. Tied to that client (so to the cache backend and its key prefix) and
    to the process (a connection is never shared across a fork).
    """

    conf: _Settings | None = None
    cached_client: Any = None
    client: Any = None
    pid: int = 0
    connection: Any = None
    head: bytes = b""
    #: Pushes sent on ``connection`` whose answers are not read yet, oldest first.
    pending: list[PendingPush]

    def __init__(self) -> None:
        self.pending = []


_push = _PushConnection()


def redis_client() -> Any | None:
    """The cache's Redis connection, or None when there is no Redis (SQLite dev runs).

    Django's Redis cache builds a new ``redis.Redis`` object around its pool on every call, which
    costs more than the LPUSH itself on the redirect's hot path; one client per cache backend
    (per thread, like the backend) shares the same pool.
    """
    conf = _conf()
    if not conf.redis:
        return None
    local = _push
    if local.conf is conf:
        return local.cached_client
    backend = cache._cache  # type: ignore[attr-defined]
    client = getattr(backend, "_linkilike_write_client", None)
    if client is None:
        client = backend.get_client(write=True)
        backend._linkilike_write_client = client
    # The cache backend is per thread, and changes only with settings (tests): remembered per thread
    # against the settings snapshot, which saves the cache proxy's lookups on every click.
    local.conf, local.cached_client = conf, client
    return client


def redis_key(name: str) -> str:
    return cache.make_key(name)


def drain_trigger() -> int:
    """Queue length at which a push asks for a drain before the beat schedule's next one (0: never)."""
    return _conf().drain_trigger


def link_cache_key(code: str) -> str:
    return f"tracking:link:{code}"


class PendingPush:
    """An ``LPUSH`` sent on this thread's push connection whose answer is still to be read (``length``).

    The redirect fast path reads it after its response went out: waiting for Redis between the two put the
    worker to sleep and woke it again on every click (ADR 11). Answers come in the order the commands went;
    a push started before the previous one was read reads that one first.
    """

    __slots__ = ("answer", "client", "error", "payload")

    def __init__(self, client: Any, payload: str) -> None:
        self.client, self.payload = client, payload
        self.answer: int | None = None
        self.error: Exception | None = None

    def length(self) -> int:
        """The queue's length after this push (Redis has stored it); raises Redis's error if it has not."""
        local = _push
        while self.answer is None and self.error is None and local.pending:
            head = local.pending.pop(0)
            try:
                head.answer = int(local.connection.read_response())
            except (RedisConnectionError, RedisTimeoutError, OSError):
                _send_again(local, [head, *local.pending])
            except RedisError as error:  # an error answer: the connection is still in step
                head.error = error
        if self.error is not None:
            raise self.error
        if self.answer is None:
            raise RedisConnectionError("a click push was neither answered nor pending")
        return self.answer


def _send_again(local: _PushConnection, unconfirmed: list[PendingPush]) -> None:
    """The push connection dropped (Redis restarted, idle timeout) with pushes unconfirmed: each goes again
    through the client's own call, whose retries decide (the drain records a click once per event id)."""
    local.connection.disconnect()
    local.pending = []
    for push in unconfirmed:
        try:
            push.answer = int(push.client.lpush(redis_key(QUEUE_KEY), push.payload))
        except (RedisError, OSError) as error:
            push.error = error


def queue_push_start(client: Any, payload: str) -> PendingPush:
    """Sends the ``LPUSH`` of the payload onto the click queue; ``length()`` of the result waits for Redis."""
    local = _push
    if local.client is not client or local.pid != os.getpid():
        if local.connection is not None and local.pid == os.getpid():
            for pending in list(local.pending):
                with contextlib.suppress(RedisError, OSError):  # its owner raises it from its own length()
                    pending.length()
            local.connection.disconnect()
        pool = client.connection_pool
        key = redis_key(QUEUE_KEY).encode()
        local.connection = pool.connection_class(**pool.connection_kwargs)
        local.head = b"*3\r\n$5\r\nLPUSH\r\n$%d\r\n%s\r\n" % (len(key), key)
        local.client, local.pid, local.pending = client, os.getpid(), []
    push = PendingPush(client, payload)
    data = payload.encode()
    try:
        # A list: the connection writes each item of its argument (a bare bytes would be iterated).
        local.connection.send_packed_command([b"%s$%d\r\n%s\r\n" % (local.head, len(data), data)], check_health=False)
    except (RedisConnectionError, RedisTimeoutError, OSError):
        _send_again(local, [*local.pending, push])
        if push.error is not None:
            raise push.error from None
        return push
    local.pending.append(push)
    return push
