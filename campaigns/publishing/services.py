"""Publishing shares at most once (reliability T1). The state machine is on ``SharePublication``.

How "at most once" holds:

- A row is claimed by one conditional ``UPDATE`` (QUEUED and due -> PUBLISHING with a fresh
  ``attempt_id`` and a lease); exactly one worker's update matches.
- Before the call that creates the post, the network handle (the idempotency key, or the
  media container id) is committed. Every write after the call is fenced on ``attempt_id``.
- A PUBLISHING row whose lease expired (the worker died) is never published again blindly:
  ``publication_resolve`` asks the network with the stored handle. Nothing stored means
  nothing was sent, so queueing again is safe. What the network cannot answer becomes
  UNKNOWN, shown to staff and never retried automatically.

Network calls happen outside database transactions.
"""

from __future__ import annotations

import logging
import random
import re
import uuid
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from functools import partial
from urllib.parse import urlsplit

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.module_loading import import_string
from django.utils.translation import gettext as _

from campaigns.captions import TRACKING_LINK_PLACEHOLDER, utm_apply
from campaigns.matching.engine import sandbox_allowed
from campaigns.matching.selectors import share_content, share_disclosure
from campaigns.models import ContentPiece, HandleKind, MediaKind, PublicationState, Share, SharePublication, ShareStatus
from campaigns.publishing.errors import RetryNotAllowed
from campaigns.publishing.media import ImageTooLarge, image_fit, network_copy_save
from campaigns.publishing.proof import proofs_redispatch_stalled, proofs_verify_by_clicks_due
from campaigns.publishing.task_names import PUBLICATION_PUBLISH
from linkilike.dispatch import task_enqueue
from linkilike.user_files import stored_file_url
from networks.models import ConnectedAccount, Network
from networks.providers.base import NetworkProvider
from networks.providers.exceptions import (
    AccountAttention,
    AmbiguousOutcome,
    AuthExpired,
    AuthRevoked,
    ContentRejected,
    Duplicate,
    NetworkError,
    NotSupported,
    RateLimited,
    Transient,
)
from networks.providers.types import (
    Capabilities,
    LinkHandling,
    MediaItem,
    PostDraft,
    PublishResult,
    PublishState,
    TokenSet,
)
from networks.selectors import provider_get_for_account, token_set_get_for_account
from networks.services import account_network_error_record, account_token_refresh

logger = logging.getLogger(__name__)

BACKOFF_BASE_SECONDS = 30
BACKOFF_CAP_SECONDS = 60 * 60
#: Automatic attempts (transient errors, rate limits) before a share fails for good.
MAX_ATTEMPTS = 8
#: A container still processing is looked at again after this long.
PENDING_RECHECK = timedelta(seconds=30)


# --- helpers ------------------------------------------------------------------------------


def lease() -> timedelta:
    """How long a worker may hold a claim before the row is resolved by asking the network."""
    return timedelta(seconds=settings.PUBLISHING_LEASE_SECONDS)


def backoff_delay(*, attempt: int, rng: random.Random | None = None) -> timedelta:
    """Capped exponential backoff with jitter: 30 s, 60 s, 120 s ... up to 1 h, each +-25 %."""
    rng = rng or random.Random()  # noqa: S311 - jitter, not cryptography
    base = min(BACKOFF_CAP_SECONDS, BACKOFF_BASE_SECONDS * 2 ** max(attempt - 1, 0))
    return timedelta(seconds=min(BACKOFF_CAP_SECONDS, base * rng.uniform(0.75, 1.25)))


def _rate_key(*, network: str, account_id: int | None = None) -> str:
    return f"publishing:ratelimit:{network}" + (f":{account_id}" if account_id is not None else "")


def rate_limited_until(*, account: ConnectedAccount) -> datetime | None:
    """The later of the account's and the network's rate-limit block, if any is in force."""
    now = timezone.now()
    blocks = [
        value
        for value in (
            cache.get(_rate_key(network=account.network, account_id=account.pk)),
            cache.get(_rate_key(network=account.network)),
        )
        if isinstance(value, datetime) and value > now
    ]
    return max(blocks) if blocks else None


def _rate_limit_record(*, account: ConnectedAccount, until: datetime, network_wide: bool) -> None:
    seconds = max(1, int((until - timezone.now()).total_seconds()) + 1)
    cache.set(_rate_key(network=account.network, account_id=account.pk), until, seconds)
    if network_wide:
        cache.set(_rate_key(network=account.network), until, seconds)


def _provider_for(account: ConnectedAccount) -> NetworkProvider:
    return provider_get_for_account(account=account)


def tracking_link_for(*, share: Share) -> str:
    """The share's tracking link (``campaigns.tracking``); without it, the campaign link with UTM parameters."""
    try:
        tracking = import_string("campaigns.tracking.services.tracking_link_for_share")
    except ImportError:
        tracking = None
    if tracking is not None:
        return str(tracking(share=share))
    content = share_content(share=share)
    if content is None:
        return ""
    return utm_apply(url=content.target_url, campaign_slug=share.campaign.slug)


def _has_tag(text: str, tag: str) -> bool:
    return re.search(rf"(?<![\w#]){re.escape(tag)}(?!\w)", text, flags=re.IGNORECASE) is not None


@dataclass(frozen=True)
class PreparedPost:
    draft: PostDraft | None
    problem: str = ""


def _content_image(*, content: ContentPiece | None, capabilities: Capabilities) -> tuple[MediaItem | None, str]:
    """The content piece's image as the network takes it: bytes (shrunk to its byte limit, in a type it takes)
    and, for a network that fetches images itself, a time-limited URL of exactly those bytes: the copy
    made for it, stored next to the original, never the original when they differ.

    Returns ``(item, problem)``: no image (or a network without images) is ``(None, "")``; an image
    that cannot be made small enough is ``(None, "")`` where the network allows text-only posts and
    ``(None, reason)`` where it requires an image.
    """
    if content is None or not content.media or content.media_kind != MediaKind.IMAGE or capabilities.max_images < 1:
        if capabilities.image_required:
            return None, _("This network only takes posts with an image, and the content has none.")
        return None, ""
    with content.media.open("rb") as handle:
        raw = handle.read()
    name = content.media.name.rsplit("/", 1)[-1]
    try:
        data, filename, content_type = image_fit(
            content=raw, filename=name, max_bytes=capabilities.max_image_bytes, accepted_types=capabilities.image_types
        )
    except ImageTooLarge as error:
        if capabilities.image_required:
            return None, _("The content image could not be made small enough for this network (%(detail)s).") % {
                "detail": str(error)
            }
        logger.warning("Publishing without the image of content %s: %s", content.pk, error)
        return None, ""
    url = ""
    if capabilities.media_by_url:
        storage = content.media.storage
        stored = content.media.name
        if data != raw:
            stored = network_copy_save(storage=storage, original_name=stored, content=data, filename=filename)
        url = stored_file_url(storage, stored, seconds=settings.MEDIA_NETWORK_URL_SECONDS)
    return MediaItem(content=data, filename=filename, content_type=content_type, description=content.title, url=url), ""


def post_prepare(*, share: Share) -> PreparedPost:
    """The post as it goes out: tracking link in place of the placeholder, disclosure and link checked again,
    and the content piece's image (fitted to the network's limits)."""
    link = tracking_link_for(share=share)
    content = share_content(share=share)
    disclosure = share_disclosure(share=share)
    text = share.caption_text.replace(TRACKING_LINK_PLACEHOLDER, link) if link else share.caption_text
    if not _has_tag(text, disclosure):
        return PreparedPost(
            None, _("The caption lost the disclosure %(tag)s; it was not published.") % {"tag": disclosure}
        )
    if not link or link not in text:
        return PreparedPost(None, _("The caption has no campaign link; it was not published."))
    # The account's own server's limits (a Mastodon server states its own image size limit).
    capabilities = _provider_for(share.connected_account).current_capabilities()
    image, problem = _content_image(content=content, capabilities=capabilities)
    if problem:
        return PreparedPost(None, problem)
    media = (image,) if image else ()
    if capabilities.link_handling == LinkHandling.CARD and content is not None:
        # The network shows a link card only when the client builds it (Bluesky's embed.external): hand over
        # the link, the content's title and where the link leads; the image becomes the card's thumbnail.
        destination = urlsplit(content.target_url).netloc
        draft = PostDraft(text=text, media=media, link=link, link_title=content.title, link_description=destination)
        return PreparedPost(draft)
    return PreparedPost(PostDraft(text=text, media=media))


# --- queueing -----------------------------------------------------------------------------


def _new_publication(share: Share) -> SharePublication:
    provider_cls = type(_provider_for(share.connected_account))
    needs_proof = not provider_cls.capabilities.api_posting_allowed
    return SharePublication(
        share=share,
        state=PublicationState.NEEDS_PROOF if needs_proof else PublicationState.QUEUED,
        idempotency_key=uuid.uuid4().hex,
    )


def _dispatch_key(publication_id: int) -> str:
    return f"publishing:dispatched:{publication_id}"


def _dispatch(publication_id: int) -> None:
    """Send the publish task, noting it as in flight until a worker receives it (or the note expires).

    The sweep sends a task again only for rows without the note: a backlog waiting in the queue is not
    multiplied every minute, while a message lost with a killed worker or a restarted broker (whose notes
    go with it when cache and broker share Redis) is sent again after at most the redispatch time.
    """
    key = _dispatch_key(publication_id)
    cache.set(key, True, settings.PUBLISHING_REDISPATCH_SECONDS)
    try:
        task_enqueue(PUBLICATION_PUBLISH, publication_id)
    except Exception:
        cache.delete(key)
        raise


def _dispatch_received(publication_id: int) -> None:
    cache.delete(_dispatch_key(publication_id))


def _enqueue_publish(publication_id: int) -> None:
    transaction.on_commit(partial(_dispatch, publication_id))


@transaction.atomic
def share_publication_schedule(*, share: Share, now: datetime | None = None) -> SharePublication | None:
    """Queue a READY share whose time has come (``scheduled_at`` None = now). Idempotent.

    The publish task is enqueued only after the surrounding transaction commits (T2).
    """
    now = now or timezone.now()
    locked = Share.objects.select_for_update().select_related("connected_account").get(pk=share.pk)
    if locked.status != ShareStatus.READY or (locked.scheduled_at is not None and locked.scheduled_at > now):
        return None
    existing = SharePublication.objects.filter(share=locked).first()
    if existing is not None:
        return existing
    publication = _new_publication(locked)
    if publication.state == PublicationState.NEEDS_PROOF:
        # The influencer posts it themselves: the text (with the tracking link) is fixed now.
        prepared = post_prepare(share=locked)
        publication.posted_text = prepared.draft.text if prepared.draft else ""
        publication.last_error = prepared.problem
    publication.save()
    if publication.state == PublicationState.QUEUED:
        _enqueue_publish(publication.pk)
    return publication


def publications_queue_due(*, now: datetime | None = None) -> int:
    """Create publications for every READY share whose time has come. Returns how many were queued."""
    now = now or timezone.now()
    share_ids = list(
        Share.objects.filter(status=ShareStatus.READY, publication__isnull=True)
        .filter(Q(scheduled_at__isnull=True) | Q(scheduled_at__lte=now))
        .values_list("pk", flat=True)[:500]
    )
    queued = 0
    for share_id in share_ids:
        share = Share.objects.filter(pk=share_id).first()
        if share is not None and share_publication_schedule(share=share, now=now) is not None:
            queued += 1
    return queued


def publication_ids_due(*, now: datetime | None = None) -> list[int]:
    """QUEUED publications whose next attempt is due."""
    now = now or timezone.now()
    return list(
        SharePublication.objects.filter(state=PublicationState.QUEUED)
        .filter(Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now))
        .order_by("next_attempt_at", "pk")
        .values_list("pk", flat=True)[:500]
    )


def publication_ids_lease_expired(*, now: datetime | None = None) -> list[int]:
    now = now or timezone.now()
    return list(
        SharePublication.objects.filter(state=PublicationState.PUBLISHING, lease_expires_at__lt=now).values_list(
            "pk", flat=True
        )[:500]
    )


# --- claiming and fenced writes -----------------------------------------------------------


def publication_claim(*, publication_id: int, now: datetime | None = None) -> uuid.UUID | None:
    """QUEUED and due -> PUBLISHING with a new attempt id and lease. Only one caller gets the id back."""
    now = now or timezone.now()
    attempt_id = uuid.uuid4()
    claimed = (
        SharePublication.objects.filter(pk=publication_id, state=PublicationState.QUEUED)
        .filter(Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now))
        .update(
            state=PublicationState.PUBLISHING,
            attempt=F("attempt") + 1,
            attempt_id=attempt_id,
            lease_expires_at=now + lease(),
            updated_at=now,
        )
    )
    return attempt_id if claimed == 1 else None


def _claim_expired(*, publication_id: int, now: datetime, states: tuple[str, ...]) -> uuid.UUID | None:
    """Take over a row whose lease expired (or an UNKNOWN one, for staff) to resolve it."""
    attempt_id = uuid.uuid4()
    rows = SharePublication.objects.filter(pk=publication_id, state__in=states)
    if PublicationState.PUBLISHING in states:
        rows = rows.filter(Q(state=PublicationState.UNKNOWN) | Q(lease_expires_at__lt=now))
    claimed = rows.update(
        state=PublicationState.PUBLISHING, attempt_id=attempt_id, lease_expires_at=now + lease(), updated_at=now
    )
    return attempt_id if claimed == 1 else None


def _fenced_update(publication_id: int, attempt_id: uuid.UUID, **fields: object) -> bool:
    """Write only while our claim holds (state PUBLISHING and our attempt id)."""
    fields.setdefault("updated_at", timezone.now())
    return (
        SharePublication.objects.filter(
            pk=publication_id, attempt_id=attempt_id, state=PublicationState.PUBLISHING
        ).update(**fields)
        == 1
    )


def _published(publication_id: int, attempt_id: uuid.UUID, result: PublishResult) -> bool:
    return _fenced_update(
        publication_id,
        attempt_id,
        state=PublicationState.PUBLISHED,
        external_id=result.external_id[:300],
        external_url=result.url[:1000],
        published_at=result.published_at or timezone.now(),
        lease_expires_at=None,
        next_attempt_at=None,
        last_error="",
        error_code="",
        retry_safe=False,
        auth_refreshed=False,
    )


def _failed(publication_id: int, attempt_id: uuid.UUID, *, reason: str, code: str, retry_safe: bool) -> bool:
    return _fenced_update(
        publication_id,
        attempt_id,
        state=PublicationState.FAILED,
        last_error=reason,
        error_code=code,
        retry_safe=retry_safe,
        lease_expires_at=None,
        next_attempt_at=None,
    )


def _requeue(
    publication_id: int, attempt_id: uuid.UUID, *, at: datetime, reason: str = "", code: str = "", **extra: object
) -> bool:
    ok = _fenced_update(
        publication_id,
        attempt_id,
        state=PublicationState.QUEUED,
        next_attempt_at=at,
        lease_expires_at=None,
        last_error=reason,
        error_code=code,
        retry_safe=True,
        **extra,
    )
    return ok


def _unknown(publication_id: int, attempt_id: uuid.UUID, *, detail: str) -> bool:
    return _fenced_update(
        publication_id,
        attempt_id,
        state=PublicationState.UNKNOWN,
        last_error=_(
            "We could not confirm whether the post went out. Our team is checking; it will not be posted twice."
        ),
        error_code=detail[:40],
        retry_safe=False,
        lease_expires_at=None,
        next_attempt_at=None,
    )


# --- publishing ---------------------------------------------------------------------------


def publication_publish(*, publication_id: int, now: datetime | None = None) -> SharePublication | None:
    """Claim a QUEUED publication and publish it once. Safe to call any number of times, concurrently."""
    now = now or timezone.now()
    _dispatch_received(publication_id)
    publication = SharePublication.objects.select_related("share__connected_account").filter(pk=publication_id).first()
    if publication is None:
        return None
    account = publication.share.connected_account
    blocked = rate_limited_until(account=account) if publication.state == PublicationState.QUEUED else None
    if blocked is not None:
        SharePublication.objects.filter(pk=publication_id, state=PublicationState.QUEUED).update(
            next_attempt_at=blocked
        )
        return SharePublication.objects.get(pk=publication_id)
    attempt_id = publication_claim(publication_id=publication_id, now=now)
    if attempt_id is None:
        return publication
    _publish_claimed(publication_id=publication_id, attempt_id=attempt_id)
    return SharePublication.objects.get(pk=publication_id)


def _publish_claimed(*, publication_id: int, attempt_id: uuid.UUID) -> None:
    publication = SharePublication.objects.select_related(
        "share__connected_account",
        "share__offer__campaign",
        "share__campaign__brand",
        "share__offer__influencer",
    ).get(pk=publication_id)
    share = publication.share
    account = share.connected_account
    if account.network == Network.SANDBOX and not sandbox_allowed(share.campaign):
        # Defence in depth behind matching and offers: a share to a sandbox account of a brand that is not
        # (or no longer) a demo brand never goes out, so the simulated audience cannot earn from it.
        _failed(
            publication_id,
            attempt_id,
            reason=_("The sandbox is for demo campaigns only; this share was not published."),
            code="sandbox_not_demo",
            retry_safe=False,
        )
        return
    if not account.is_usable:
        _failed(
            publication_id,
            attempt_id,
            reason=_("%(account)s needs reconnecting before this can be published.") % {"account": account.handle},
            code="account_unusable",
            retry_safe=True,
        )
        return
    prepared = post_prepare(share=share)
    if prepared.draft is None:
        _failed(publication_id, attempt_id, reason=prepared.problem, code="caption_invalid", retry_safe=False)
        return
    draft = prepared.draft
    provider = _provider_for(account)
    problems = provider.validate_draft(draft)
    if problems:
        _failed(publication_id, attempt_id, reason=" ".join(problems), code="content_invalid", retry_safe=False)
        return
    container = publication.network_handle_kind == HandleKind.CONTAINER and publication.network_handle
    # An earlier attempt stored the key, so it may have sent the post: this one sends exactly that post again
    # (its text, the media it uploaded), and only after looking whether it is already there.
    resumed = not container and bool(publication.network_handle)
    if resumed:
        draft = replace(draft, text=publication.posted_text or draft.text)
    # Media an earlier attempt uploaded are posted if the network still holds them, not uploaded again.
    draft = replace(draft, media_ids=tuple(publication.media_ids))
    # The handle is committed before the call: from here on a crash is resolved by asking the network.
    if not container and not _fenced_update(
        publication_id,
        attempt_id,
        network_handle=publication.idempotency_key,
        network_handle_kind=HandleKind.IDEMPOTENCY_KEY,
        # The provider's idempotency window runs from the key's first use: keep the earliest moment.
        handle_stored_at=publication.handle_stored_at or timezone.now(),
        posted_text=draft.text,
    ):
        return
    tokens = token_set_get_for_account(account=account)
    try:
        if container:
            result = provider.complete_pending_publish(
                tokens=tokens, draft=draft, pending_id=publication.network_handle
            )
        else:
            if resumed and _found_already(
                provider=provider, tokens=tokens, draft=draft, publication_id=publication_id, attempt_id=attempt_id
            ):
                return
            uploaded = _media_uploaded(
                provider=provider, tokens=tokens, draft=draft, publication_id=publication_id, attempt_id=attempt_id
            )
            if uploaded is None:
                return
            draft = uploaded
            result = provider.publish(tokens=tokens, draft=draft, idempotency_key=publication.idempotency_key)
    except AmbiguousOutcome:
        _ambiguous(provider=provider, tokens=tokens, draft=draft, publication_id=publication_id, attempt_id=attempt_id)
        return
    except NetworkError as error:
        _handle_error(publication, attempt_id=attempt_id, error=error, provider=provider, draft=draft)
        return
    _apply_result(publication, attempt_id=attempt_id, result=result, from_container=bool(container))
    _honour_remaining(provider=provider, account=account)


def _found_already(
    *, provider: NetworkProvider, tokens: TokenSet, draft: PostDraft, publication_id: int, attempt_id: uuid.UUID
) -> bool:
    """Look for the post an earlier attempt may have made; True when it was there (and is now recorded).

    A server error or a lost answer can come after the post was created but before the network remembered the
    key (Mastodon before 4.5), so sending again with the same key is not enough.
    """
    try:
        found = provider.lookup_publish(tokens=tokens, draft=draft)
    except NotSupported:
        return False  # this network cannot be asked: its idempotency key is what protects the resend
    if found.state != PublishState.PUBLISHED:
        return False
    _published(publication_id, attempt_id, found)
    return True


def _media_uploaded(
    *, provider: NetworkProvider, tokens: TokenSet, draft: PostDraft, publication_id: int, attempt_id: uuid.UUID
) -> PostDraft | None:
    """The draft with its media on the network (reusing what an earlier attempt uploaded), their ids stored
    before the post is created; None when our claim was lost meanwhile."""
    media_ids = provider.upload_media(tokens=tokens, draft=draft)
    if media_ids != draft.media_ids and not _fenced_update(publication_id, attempt_id, media_ids=list(media_ids)):
        return None
    return replace(draft, media_ids=media_ids)


def _ambiguous(
    *, provider: NetworkProvider, tokens: TokenSet, draft: PostDraft, publication_id: int, attempt_id: uuid.UUID
) -> None:
    """The create was sent and no answer came back."""
    settle = type(provider).ambiguous_settle
    if not settle:
        _resolve_claimed(publication_id=publication_id, attempt_id=attempt_id, give_up_to_unknown=True)
        return
    # The network may still be creating it and remembers the key only afterwards: look (that sends nothing),
    # and if it is not there yet keep the claim until the create cannot be running any more; the lease sweep
    # then resolves it by looking again before anything is sent.
    try:
        if _found_already(
            provider=provider, tokens=tokens, draft=draft, publication_id=publication_id, attempt_id=attempt_id
        ):
            return
    except NetworkError:
        pass  # the look-up failed too: the sweep asks again after the wait
    _fenced_update(publication_id, attempt_id, lease_expires_at=timezone.now() + max(lease(), settle))


def _honour_remaining(*, provider: NetworkProvider, account: ConnectedAccount) -> None:
    """The network said this account has no calls left until ``reset_at``: its other shares wait until then."""
    info = getattr(provider, "last_rate_limit", None)
    if info is not None and info.remaining == 0 and info.reset_at is not None and info.reset_at > timezone.now():
        _rate_limit_record(account=account, until=info.reset_at, network_wide=False)


def _apply_result(
    publication: SharePublication, *, attempt_id: uuid.UUID, result: PublishResult, from_container: bool
) -> None:
    if result.state == PublishState.PUBLISHED:
        _published(publication.pk, attempt_id, result)
    elif result.state == PublishState.PENDING:
        # Container created (Instagram, Threads): keep its id; the next claim completes it, never re-creates.
        _requeue(
            publication.pk,
            attempt_id,
            at=timezone.now() + PENDING_RECHECK,
            network_handle=result.external_id[:300],
            network_handle_kind=HandleKind.CONTAINER,
            handle_stored_at=timezone.now(),
            attempt=F("attempt") - 1,
        )
    elif from_container:
        # The container expired unpublished: nothing is on the network, starting over is safe.
        _requeue(publication.pk, attempt_id, at=timezone.now(), network_handle="", network_handle_kind=HandleKind.NONE)
    else:
        _unknown(publication.pk, attempt_id, detail="publish_not_found")


def _handle_error(
    publication: SharePublication,
    *,
    attempt_id: uuid.UUID,
    error: NetworkError,
    provider: NetworkProvider,
    draft: PostDraft,
) -> None:
    account = publication.share.connected_account
    now = timezone.now()
    if isinstance(error, RateLimited):
        until = error.reset_at or now + timedelta(seconds=max(error.retry_after, 1))
        last = getattr(provider, "last_rate_limit", None)
        _rate_limit_record(account=account, until=until, network_wide=bool(last and last.remaining == 0))
        _retry_later(publication, attempt_id=attempt_id, at=max(until, now + timedelta(seconds=1)), code="rate_limited")
        return
    if isinstance(error, Transient):
        _retry_later(
            publication, attempt_id=attempt_id, at=now + backoff_delay(attempt=publication.attempt), code="transient"
        )
        return
    if isinstance(error, AuthExpired) and not publication.auth_refreshed:
        refreshed = False
        try:
            refreshed = account_token_refresh(account_id=account.pk, force=True)
        except NetworkError:
            refreshed = False
        if refreshed:
            _requeue(publication.pk, attempt_id, at=now, code="auth_refreshed", auth_refreshed=True)
            _enqueue_after_commit(publication.pk)
            return
    if isinstance(error, (AuthExpired, AuthRevoked)):
        account_network_error_record(account_id=account.pk, error=error)
        _failed(
            publication.pk,
            attempt_id,
            reason=_(
                "Linkilike no longer has permission to post for %(account)s. Reconnect the account, then try again."
            )
            % {"account": account.handle},
            code="auth_revoked" if isinstance(error, AuthRevoked) else "auth_expired",
            retry_safe=True,
        )
        return
    if isinstance(error, Duplicate):
        # The network says the post exists: ask it for that post rather than failing blindly.
        try:
            result = provider.check_pending_publish(
                tokens=token_set_get_for_account(account=account),
                draft=draft,
                idempotency_key=publication.idempotency_key,
            )
        except NetworkError:
            result = PublishResult(state=PublishState.NOT_FOUND)
        if result.state == PublishState.PUBLISHED:
            _published(publication.pk, attempt_id, result)
            return
        _failed(
            publication.pk,
            attempt_id,
            reason=_("The network refused this post as a duplicate of one already on the account."),
            code="duplicate",
            retry_safe=False,
        )
        return
    if isinstance(error, AccountAttention):
        # The login or the app's permissions, not the post: the account is noted, the share may be tried again.
        account_network_error_record(account_id=account.pk, error=error)
        _failed(
            publication.pk,
            attempt_id,
            reason=_("The network would not post for %(account)s until the account is sorted out there: %(detail)s")
            % {"account": account.handle, "detail": str(error)[:300]},
            code="account_attention",
            retry_safe=True,
        )
        return
    if isinstance(error, ContentRejected):
        _failed(
            publication.pk,
            attempt_id,
            reason=_("The network refused the post: %(detail)s") % {"detail": str(error)[:300]},
            code="content_rejected",
            retry_safe=False,
        )
        return
    _failed(
        publication.pk,
        attempt_id,
        reason=_("The network refused the post."),
        code=type(error).__name__[:40],
        retry_safe=False,
    )


def _retry_later(publication: SharePublication, *, attempt_id: uuid.UUID, at: datetime, code: str) -> None:
    if publication.attempt >= MAX_ATTEMPTS:
        _failed(
            publication.pk,
            attempt_id,
            reason=_("The network kept failing; we stopped after %(n)s attempts. You can try again.")
            % {"n": publication.attempt},
            code=code,
            retry_safe=True,
        )
        return
    _requeue(
        publication.pk,
        attempt_id,
        at=at,
        reason=_("The network is busy; we will try again at %(time)s.")
        % {"time": timezone.localtime(at).strftime("%H:%M")},
        code=code,
    )


def _enqueue_after_commit(publication_id: int) -> None:
    with transaction.atomic():
        _enqueue_publish(publication_id)


# --- resolving what is unclear ------------------------------------------------------------


def publication_resolve(*, publication_id: int, now: datetime | None = None, staff: bool = False) -> SharePublication:
    """Resolve a PUBLISHING row whose lease expired (or, for staff, an UNKNOWN one) by asking the network."""
    now = now or timezone.now()
    states: tuple[str, ...] = (PublicationState.PUBLISHING,)
    if staff:
        states = (PublicationState.PUBLISHING, PublicationState.UNKNOWN)
    attempt_id = _claim_expired(publication_id=publication_id, now=now, states=states)
    if attempt_id is not None:
        _resolve_claimed(publication_id=publication_id, attempt_id=attempt_id, give_up_to_unknown=True, now=now)
    return SharePublication.objects.get(pk=publication_id)


def _resolve_claimed(
    *, publication_id: int, attempt_id: uuid.UUID, give_up_to_unknown: bool, now: datetime | None = None
) -> None:
    now = now or timezone.now()
    publication = SharePublication.objects.select_related("share__connected_account", "share__offer").get(
        pk=publication_id
    )
    if not publication.network_handle:
        # The handle is stored before any call: without it nothing was sent.
        _requeue(publication_id, attempt_id, at=timezone.now(), code="lease_expired")
        _enqueue_after_commit(publication_id)
        return
    account = publication.share.connected_account
    provider = _provider_for(account)
    tokens = token_set_get_for_account(account=account)
    draft = _draft_as_sent(publication, provider)
    try:
        if publication.network_handle_kind == HandleKind.CONTAINER:
            result = provider.complete_pending_publish(
                tokens=tokens, draft=draft, pending_id=publication.network_handle
            )
            from_container = True
        else:
            window = getattr(provider, "idempotency_window", None)
            stored = publication.handle_stored_at
            if window is not None and (stored is None or stored < now - window):
                # The key is forgotten: sending again could post twice. Looking is still safe.
                found = _looked_up(provider=provider, tokens=tokens, draft=draft)
                if found is None:
                    raise NotSupported("outside the idempotency window")
                _published(publication_id, attempt_id, found)
                return
            result = provider.check_pending_publish(
                tokens=tokens, draft=draft, idempotency_key=publication.idempotency_key
            )
            from_container = False
    except (Transient, RateLimited):
        # Ask again later: leave it PUBLISHING with a lease, the reconciler comes back.
        _fenced_update(publication_id, attempt_id, lease_expires_at=timezone.now() + lease())
        return
    except NetworkError as error:
        if give_up_to_unknown:
            _unknown(publication_id, attempt_id, detail=type(error).__name__)
        return
    if result.state == PublishState.PUBLISHED:
        _published(publication_id, attempt_id, result)
    elif result.state == PublishState.NOT_FOUND:
        # Containers: it expired unpublished. Idempotency keys: nothing under the key, and we are inside
        # the window, so sending again with the same key cannot make a second post.
        if from_container:
            _requeue(
                publication_id,
                attempt_id,
                at=timezone.now(),
                code="not_sent",
                network_handle="",
                network_handle_kind=HandleKind.NONE,
            )
        elif publication.attempt >= MAX_ATTEMPTS:
            # Every attempt came back ambiguous and nothing is there (a proxy answering 502 to each create): stop.
            _retry_later(publication, attempt_id=attempt_id, at=timezone.now(), code="not_sent")
            return
        elif publication.attempt > 1:
            # Sending again is safe, but a write that keeps coming back ambiguous backs off like any other retry.
            _requeue(
                publication_id,
                attempt_id,
                at=timezone.now() + backoff_delay(attempt=publication.attempt),
                code="not_sent",
            )
            return
        else:
            _requeue(publication_id, attempt_id, at=timezone.now(), code="not_sent")
        _enqueue_after_commit(publication_id)
    elif result.state == PublishState.PENDING:
        _requeue(
            publication_id,
            attempt_id,
            at=timezone.now() + PENDING_RECHECK,
            network_handle=result.external_id[:300] or publication.network_handle,
            network_handle_kind=HandleKind.CONTAINER,
        )
    else:
        _unknown(publication_id, attempt_id, detail="not_found")


def _draft_as_sent(publication: SharePublication, provider: NetworkProvider) -> PostDraft:
    """The post an earlier attempt sent: its stored text, the content's image and the media ids it uploaded.

    Never the text alone: a resumed attempt that finds nothing posts exactly what the first would have.
    """
    share = publication.share
    prepared = post_prepare(share=share)
    draft = prepared.draft
    if draft is None:  # the caption changed since; what went out is what counts
        image, _problem = _content_image(
            content=share_content(share=share), capabilities=provider.current_capabilities()
        )
        draft = PostDraft(text=publication.posted_text, media=(image,) if image else ())
    return replace(draft, text=publication.posted_text or draft.text, media_ids=tuple(publication.media_ids))


def _looked_up(*, provider: NetworkProvider, tokens: TokenSet, draft: PostDraft) -> PublishResult | None:
    """The post if the network finds it without anything being sent; None when it does not or cannot say."""
    try:
        found = provider.lookup_publish(tokens=tokens, draft=draft)
    except NetworkError:
        return None
    return found if found.state == PublishState.PUBLISHED else None


# --- people acting on a publication -------------------------------------------------------


@transaction.atomic
def publication_retry(*, publication: SharePublication) -> SharePublication:
    """Influencer or brand: try a FAILED publication again, only where that cannot double-post."""
    locked = SharePublication.objects.select_for_update().get(pk=publication.pk)
    if locked.state != PublicationState.FAILED or not locked.retry_safe:
        raise RetryNotAllowed(_("This share cannot be tried again."))
    locked.state = PublicationState.QUEUED
    locked.next_attempt_at = None
    locked.attempt = 0
    locked.auth_refreshed = False
    locked.network_handle = ""
    locked.network_handle_kind = HandleKind.NONE
    locked.last_error = ""
    locked.error_code = ""
    locked.retry_safe = False
    locked.save()
    _enqueue_publish(locked.pk)
    return locked


def publications_run_due(*, now: datetime | None = None) -> dict[str, int]:
    """The every-minute sweep: queue READY shares, resolve expired leases, publish what is due, and send
    proof checks again whose message was lost."""
    now = now or timezone.now()
    queued = publications_queue_due(now=now)
    resolved = 0
    for publication_id in publication_ids_lease_expired(now=now):
        publication_resolve(publication_id=publication_id, now=now)
        resolved += 1
    due = publication_ids_due(now=now)
    in_flight = cache.get_many([_dispatch_key(publication_id) for publication_id in due])
    sent = [publication_id for publication_id in due if _dispatch_key(publication_id) not in in_flight]
    for publication_id in sent:
        _dispatch(publication_id)
    proofs = proofs_redispatch_stalled(now=now)
    by_clicks = proofs_verify_by_clicks_due(now=now)
    return {
        "queued": queued,
        "resolved": resolved,
        "enqueued": len(sent),
        "proofs_resent": proofs,
        "proofs_verified_by_clicks": by_clicks,
    }
