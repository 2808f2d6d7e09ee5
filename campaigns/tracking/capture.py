"""The request side of a click: classify cheaply, hash the visitor, push to Redis. No ORM writes.

Without Redis (``make run`` on SQLite, no ``REDIS_URL``) the event is recorded directly.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import re
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest

logger = logging.getLogger(__name__)

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


@dataclass(frozen=True)
class ClickEvent:
    """What the redirect captured; JSON-serialised onto the Redis list with short keys."""

    event_id: str
    link_id: int
    occurred_at: float  # epoch seconds
    ip_hash: str
    ua_hash: str
    ua_family: str
    referrer_host: str
    is_head: bool
    is_prefetch: bool
    is_bot: bool

    def to_json(self) -> str:
        # vars() is asdict() without its recursive deep copy (every field is a plain value).
        return json.dumps(vars(self), separators=(",", ":"))

    @classmethod
    def from_json(cls, raw: bytes | str) -> ClickEvent:
        data: dict[str, Any] = json.loads(raw)
        return cls(**data)


def _salted_hash(value: str) -> str:
    salt = getattr(settings, "TRACKING_HASH_SALT", "") or settings.SECRET_KEY
    return hmac.new(f"tracking:{salt}".encode(), value.encode(), hashlib.sha256).hexdigest()[:32]


def client_ip(request: HttpRequest) -> str:
    return _client_ip_meta(request.META)


def _client_ip_meta(meta: Mapping[str, Any]) -> str:
    if getattr(settings, "TRACKING_TRUST_X_FORWARDED_FOR", False):
        forwarded = meta.get("HTTP_X_FORWARDED_FOR", "")
        if forwarded:
            return str(forwarded).split(",")[0].strip()
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
        event_id=uuid.uuid4().hex,
        link_id=link_id,
        occurred_at=time.time(),
        ip_hash=_salted_hash(_client_ip_meta(meta)),
        ua_hash=_salted_hash(user_agent),
        ua_family=ua_family(user_agent, is_bot=is_bot),
        referrer_host=_referrer_host_meta(meta),
        is_head=method == "HEAD",
        is_prefetch=_is_prefetch_meta(meta),
        is_bot=is_bot,
    )


def redis_client() -> Any | None:
    """The cache's Redis connection, or None when there is no Redis (SQLite dev runs).

    Django's Redis cache builds a new ``redis.Redis`` object around its pool on every call, which
    costs more than the LPUSH itself on the redirect's hot path; one client per cache backend
    (per thread, like the backend) shares the same pool.
    """
    if not getattr(settings, "REDIS_URL", ""):
        return None
    backend = cache._cache  # type: ignore[attr-defined]
    client = getattr(backend, "_linkilike_write_client", None)
    if client is None:
        client = backend.get_client(write=True)
        backend._linkilike_write_client = client
    return client


def redis_key(name: str) -> str:
    return cache.make_key(name)


def link_cache_key(code: str) -> str:
    return f"tracking:link:{code}"


def click_push(*, event: ClickEvent) -> None:
    """Durable hand-off of one click: LPUSH to Redis, or record it directly without Redis."""
    client = redis_client()
    if client is None:
        from campaigns.tracking.services import clicks_record

        clicks_record(events=[event])
        return
    length = int(client.lpush(redis_key(QUEUE_KEY), event.to_json()))
    trigger = int(getattr(settings, "TRACKING_DRAIN_TRIGGER", 500))
    if trigger and length % trigger == 0:
        from campaigns.tracking.tasks import clicks_drain_task

        try:
            clicks_drain_task.delay()
        except Exception:  # the beat schedule drains anyway; never fail a redirect over it
            logger.warning("could not trigger the click drain", exc_info=True)
