"""Proof of post, for networks where Linkilike may not post for the influencer (``api_posting_allowed`` False).

The influencer posts through the network's own share link (``share_intent_url``), pastes the
permalink (``proof_submit``), and a worker checks it (``proof_verify``) with ``safe_fetch``
(SSRF-guarded): the page exists, is on the connected account's site and names its handle, and
carries the disclosure and the campaign link. Only then does the share count as published.

"You post, we verify" networks (``networks.providers.proof_of_post``: a personal Facebook profile, a
personal Instagram account, TikTok, a personal LinkedIn profile) say themselves which post addresses they
give out (``permalink_problem``) and where a post can be read without a token (``verification_url``: TikTok's
public oEmbed endpoint, LinkedIn's public post page, at hosts that are settings). Their verdicts:

- the post carries the disclosure and the link: PUBLISHED (``proof_verified_by`` embed / page);
- the post is the influencer's but lacks the disclosure or the link: back to NEEDS_PROOF with the reason;
- nothing public could see it (private, unreachable, a login wall, or a network with no public read at all:
  Facebook, Instagram): PROOF_REVIEW, the staff spot-check queue (``proof_review_decide``, audited). Meanwhile
  ``PROOF_CLICKS_TO_VERIFY`` real clicks on the share's tracking link (billable: no bots, previews, repeats or
  address floods; not from the influencer's own addresses) verify it (``proofs_verify_by_clicks_due``): it is
  PUBLISHED "verified by clicks", and staff may still spot-check it (a refusal removes it and takes back what
  it earned on hold).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from functools import partial
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.core.cache import cache
from django.db import transaction
from django.db.models import Count, F, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from campaigns.audit import CampaignAuditAction
from campaigns.earnings.pricing import RETENTION_AFTER
from campaigns.matching.selectors import share_disclosure
from campaigns.metrics.removal import publication_remove
from campaigns.models import Click, ProofVerifiedBy, PublicationState, SharePublication
from campaigns.publishing.errors import ProofRefused
from campaigns.publishing.task_names import PROOF_VERIFY
from influencers.models import InfluencerProfile
from linkilike.audit import audit_record
from linkilike.dispatch import task_enqueue
from linkilike.safe_fetch import AddressPolicy, UnsafeFetch, safe_fetch
from networks.models import ConnectedAccount
from networks.providers import registry
from networks.providers.base import first_url
from networks.providers.http import instance_address_policy
from networks.providers.proof_of_post import ProofOfPostProvider, Verification

#: The influencer's own addresses remembered per publication (her phone, her laptop, a few networks).
OWN_VISITORS_MAX = 10


def share_intent_url(*, account: ConnectedAccount, text: str) -> str:
    """The network's own "share" page, prefilled with the post (empty when the network has none).

    Each provider class builds its own (``NetworkProvider.share_intent_url``).
    """
    return registry.share_intent_url(account.network, text=text, instance_url=account.instance_url) or ""


def _account_hosts(account: ConnectedAccount) -> set[str]:
    hosts = set()
    for url in (account.profile_url, account.instance_url):
        host = (urlsplit(url).hostname or "").lower()
        if host:
            hosts.add(host)
            hosts.add(host.removeprefix("www."))
    return hosts


def _on_account_site(url: str, account: ConnectedAccount) -> bool:
    host = (urlsplit(url).hostname or "").lower()
    return bool(host) and (host in _account_hosts(account) or host.removeprefix("www.") in _account_hosts(account))


def _handle_provider(account: ConnectedAccount) -> ProofOfPostProvider | None:
    """The "you post, we verify" provider of the account's network, at its configured host (else None)."""
    cls = registry.handle_provider_class(account.network)
    if cls is None:
        return None
    return cls(base_url=registry.provider_base_url(account.network))


def _visitors_add(known: list[str], visitor: str) -> list[str]:
    if not visitor or visitor in known:
        return known
    return [*known, visitor][-OWN_VISITORS_MAX:]


def proof_own_visitor_note(*, publication: SharePublication, visitor: str) -> None:
    """Remember an address the influencer opened her share from (``capture.visitor_hash``): her own clicks on
    the link never verify her post."""
    known = list(publication.proof_own_visitors or [])
    updated = _visitors_add(known, visitor)
    if updated != known:
        SharePublication.objects.filter(pk=publication.pk).update(proof_own_visitors=updated)
        publication.proof_own_visitors = updated


@transaction.atomic
def proof_submit(
    *, publication: SharePublication, influencer: InfluencerProfile, url: str, visitor: str = ""
) -> SharePublication:
    """The influencer pasted the address of their post: check it in the background.

    ``visitor``: the hashed address she pasted it from (never counted among the clicks that verify a post).
    """
    locked = (
        SharePublication.objects.select_for_update()
        .select_related("share__connected_account")
        .get(pk=publication.pk, share__influencer=influencer)
    )
    if locked.state not in (
        PublicationState.NEEDS_PROOF,
        PublicationState.PROOF_SUBMITTED,
        PublicationState.PROOF_REVIEW,
    ):
        raise ProofRefused(_("This share does not need a link to your post."))
    url = url.strip()
    if urlsplit(url).scheme not in ("http", "https"):
        raise ProofRefused(_("Paste the full address of your post, starting with https://."), field="url")
    account = locked.share.connected_account
    handle_cls = registry.handle_provider_class(account.network)
    if handle_cls is not None:
        problem = handle_cls.permalink_problem(url, handle=account.handle)
        if problem:
            raise ProofRefused(problem, field="url")
    elif not _on_account_site(url, account):
        raise ProofRefused(
            _("That address is not on %(site)s, where your connected account is.")
            % {"site": ", ".join(sorted(_account_hosts(account))) or "-"},
            field="url",
        )
    locked.proof_url = url[:1000]
    locked.proof_submitted_at = timezone.now()
    locked.proof_own_visitors = _visitors_add(list(locked.proof_own_visitors or []), visitor)
    locked.state = PublicationState.PROOF_SUBMITTED
    locked.last_error = ""
    locked.error_code = ""
    locked.save()
    transaction.on_commit(partial(_verify_send, locked.pk))
    return locked


def _verify_note(publication_id: int) -> str:
    return f"publishing:proof-sent:{publication_id}"


def _verify_send(publication_id: int) -> None:
    cache.set(_verify_note(publication_id), True, settings.PUBLISHING_REDISPATCH_SECONDS)
    task_enqueue(PROOF_VERIFY, publication_id)


def proofs_redispatch_stalled(*, now: datetime | None = None) -> int:
    """Send the check again for proofs still waiting after the redispatch time (its message was lost with a
    restarted broker or a killed worker). At most once per redispatch time each, so a slow queue is not
    flooded. Returns how many were sent."""
    now = now or timezone.now()
    cutoff = now - timedelta(seconds=settings.PUBLISHING_REDISPATCH_SECONDS)
    stalled = list(
        SharePublication.objects.filter(state=PublicationState.PROOF_SUBMITTED, updated_at__lt=cutoff).values_list(
            "pk", flat=True
        )[:500]
    )
    noted = cache.get_many([_verify_note(publication_id) for publication_id in stalled])
    sent = [publication_id for publication_id in stalled if _verify_note(publication_id) not in noted]
    for publication_id in sent:
        _verify_send(publication_id)
    return len(sent)


def _handle_names(account: ConnectedAccount) -> list[str]:
    handle = account.handle.lstrip("@")
    local = handle.split("@")[0]
    return [name for name in {handle, local} if name]


class PageVerdict:
    OK = "ok"
    GONE = "gone"  # the network says the post does not exist (404/410)
    CONTENT = "content"  # the page is there but is not the influencer's, or lacks disclosure or link
    UNREACHABLE = "unreachable"  # refused by safe_fetch, too slow, or a server error: try again later
    #: "You post, we verify": no public read could see the post (private, unreachable, behind a login, or a
    #: network without a public read): staff look at it, and real clicks on its link verify it meanwhile.
    REVIEW = "review"


def _content_problem(*, publication: SharePublication, text: str) -> str:
    """What the post lacks of the disclosure and the campaign link ("" when it carries both)."""
    body = text.lower()
    disclosure = share_disclosure(share=publication.share)
    if disclosure.lower() not in body:
        problem = _("Your post does not show the disclosure %(tag)s. Add it, then paste the link again.")
        return problem % {"tag": disclosure}
    link = first_url(publication.posted_text)
    if link and link.lower() not in body:
        return _("Your post does not contain the campaign link. Add it, then paste the link again.")
    return ""


def _handle_network_problem(
    *, publication: SharePublication, provider: ProofOfPostProvider, policy: AddressPolicy | None
) -> tuple[str, str]:
    """(reason, verdict) for a post on a "you post, we verify" network (see the module doc)."""
    account = publication.share.connected_account
    target = provider.verification_url(publication.proof_url)
    if provider.verification == Verification.CLICKS or target is None:
        return _(
            "%(network)s lets no app read posts: our team checks yours, and the first real clicks on your "
            "link verify it."
        ) % {"network": registry.network_label(account.network)}, PageVerdict.REVIEW
    private = _(
        "We could not see your post from outside %(network)s (is it public?). Our team checks it, and "
        "the first real clicks on your link verify it."
    ) % {"network": registry.network_label(account.network)}
    try:
        # The host is the network's (a setting), never the person's: private addresses only where the
        # settings allow them (development, tests), as for the networks' own servers.
        page = safe_fetch(
            target, policy=policy or instance_address_policy(), max_bytes=2 * 1024 * 1024, deadline_seconds=10
        )
    except UnsafeFetch:
        return private, PageVerdict.REVIEW
    if page.status in (404, 410) and provider.verification == Verification.PAGE:
        return _("We could not open your post (the network answered %(status)s).") % {
            "status": page.status
        }, PageVerdict.GONE
    if page.status != 200:
        return private, PageVerdict.REVIEW
    evidence = provider.evidence(body=page.content, content_type=page.content_type)
    handle = account.handle.lstrip("@").lower()
    if not evidence.text.strip():
        return private, PageVerdict.REVIEW
    if evidence.author:
        if evidence.author.lstrip("@").lower() != handle:
            problem = _("That post is not from %(handle)s, the account you connected.")
            return problem % {"handle": account.handle}, PageVerdict.CONTENT
    elif handle not in evidence.text.lower():
        return private, PageVerdict.REVIEW  # a login wall, or not her post: a person looks
    problem = _content_problem(publication=publication, text=evidence.text)
    return (problem, PageVerdict.CONTENT) if problem else ("", PageVerdict.OK)


def _page_problem(*, publication: SharePublication, policy: AddressPolicy | None) -> tuple[str, str]:
    """(problem for the person, verdict) for the pasted post."""
    share = publication.share
    account = share.connected_account
    provider = _handle_provider(account)
    if provider is not None:
        return _handle_network_problem(publication=publication, provider=provider, policy=policy)
    try:
        page = safe_fetch(publication.proof_url, policy=policy, max_bytes=2 * 1024 * 1024, deadline_seconds=10)
    except UnsafeFetch as error:
        return str(error), PageVerdict.UNREACHABLE
    body = page.content.decode("utf-8", errors="replace").lower()
    disclosure = share_disclosure(share=share)
    link = first_url(publication.posted_text)
    unopened = _("We could not open your post (the network answered %(status)s).") % {"status": page.status}
    if page.status in (404, 410):
        return unopened, PageVerdict.GONE
    if page.status != 200:
        return unopened, PageVerdict.UNREACHABLE
    if not _on_account_site(page.url, account):
        return _("Your post's address leads away from the network of your connected account."), PageVerdict.CONTENT
    if not any(name.lower() in body for name in _handle_names(account)):
        problem = _("We could not see %(handle)s on that page; paste the link to your own post.")
        return problem % {"handle": account.handle}, PageVerdict.CONTENT
    if disclosure.lower() not in body:
        problem = _("Your post does not show the disclosure %(tag)s. Add it, then paste the link again.")
        return problem % {"tag": disclosure}, PageVerdict.CONTENT
    if link and link.lower() not in body:
        problem = _("Your post does not contain the campaign link. Add it, then paste the link again.")
        return problem, PageVerdict.CONTENT
    return "", PageVerdict.OK


def proof_retention_check(
    *, publication_id: int, policy: AddressPolicy | None = None, now: datetime | None = None
) -> SharePublication | None:
    """Re-check a proven post: gone, or disclosure/link removed -> REMOVED (stops earning, unheld earnings reversed).

    An unreachable page changes nothing (checked again on the next sweep).
    """
    now = now or timezone.now()
    publication = (
        SharePublication.objects.select_related("share__connected_account", "share__offer__campaign")
        .filter(pk=publication_id, state=PublicationState.PUBLISHED)
        .exclude(proof_url="")
        .first()
    )
    if publication is None:
        return None
    problem, verdict = _page_problem(publication=publication, policy=policy)
    if verdict in (PageVerdict.GONE, PageVerdict.CONTENT):
        publication_remove(publication=publication, now=now)
        SharePublication.objects.filter(pk=publication.pk).update(last_error=problem, error_code="retention_failed")
    elif verdict == PageVerdict.REVIEW and provider_verification(publication) == Verification.CLICKS:
        # Nothing public can see it: staff see it still up at or after the retention period
        # (``proof_review_decide``), which keeps the fee; until then it stays on hold. Off the sweep.
        SharePublication.objects.filter(pk=publication.pk).update(retention_checked_at=now)
    elif verdict == PageVerdict.OK:
        # Still up with its disclosure after the retention period: a participation fee is kept from now on.
        SharePublication.objects.filter(pk=publication.pk).update(retention_checked_at=now, retained_at=now)
    publication.refresh_from_db()
    return publication


def proof_verify(
    *, publication_id: int, policy: AddressPolicy | None = None, now: datetime | None = None
) -> SharePublication | None:
    """Fetch the pasted post and count it only if it is the influencer's and carries disclosure and link."""
    publication = (
        SharePublication.objects.select_related(
            "share__connected_account", "share__offer__campaign", "share__offer__influencer"
        )
        .filter(pk=publication_id, state=PublicationState.PROOF_SUBMITTED)
        .first()
    )
    if publication is None:
        return None
    problem, verdict = _page_problem(publication=publication, policy=policy)
    verified_by = (
        ProofVerifiedBy.EMBED if provider_verification(publication) == Verification.EMBED else ProofVerifiedBy.PAGE
    )
    return _proof_decide(
        publication_id=publication.pk,
        problem=problem,
        review=verdict == PageVerdict.REVIEW,
        verified_by=verified_by,
        now=now or timezone.now(),
    )


def provider_verification(publication: SharePublication) -> Verification | None:
    """How the publication's network verifies posts (None: not a "you post, we verify" network)."""
    cls = registry.handle_provider_class(publication.share.connected_account.network)
    return cls.verification if cls is not None else None


@transaction.atomic
def _proof_decide(
    *, publication_id: int, problem: str, now: datetime, review: bool = False, verified_by: str = ""
) -> SharePublication | None:
    locked = (
        SharePublication.objects.select_for_update()
        .filter(pk=publication_id, state=PublicationState.PROOF_SUBMITTED)
        .first()
    )
    if locked is None:
        return None
    locked.proof_checked_at = now
    if review:
        locked.state = PublicationState.PROOF_REVIEW
        locked.last_error = problem
        locked.error_code = "proof_review"
    elif problem:
        locked.state = PublicationState.NEEDS_PROOF
        locked.last_error = problem
        locked.error_code = "proof_refused"
    else:
        _published(locked, now=now, verified_by=verified_by or ProofVerifiedBy.PAGE)
    locked.save()
    return locked


def _published(publication: SharePublication, *, now: datetime, verified_by: str) -> None:
    publication.state = PublicationState.PUBLISHED
    publication.external_url = publication.proof_url
    publication.published_at = now
    publication.proof_verified_by = verified_by
    publication.last_error = ""
    publication.error_code = ""


# --- verification by clicks and the staff spot-check ----------------------------------------------------


def proof_click_visitors(*, publication: SharePublication) -> int:
    """Distinct visitors whose real (billable) clicks on the share's link since the post's address was pasted
    count towards verifying it: never the influencer's own addresses."""
    since = publication.proof_submitted_at or publication.created_at
    return (
        Click.objects.filter(link__share_id=publication.share_id, billable=True, occurred_at__gte=since)
        .exclude(ip_hash__in=list(publication.proof_own_visitors or []))
        .values("ip_hash")
        .distinct()
        .count()
    )


def proofs_verify_by_clicks_due(*, now: datetime | None = None) -> int:
    """PROOF_REVIEW posts whose link got ``PROOF_CLICKS_TO_VERIFY`` real clicks from others: PUBLISHED, verified by
    clicks (still on the staff spot-check list). One grouped query for the candidates. Returns how many."""
    now = now or timezone.now()
    needed = max(1, int(settings.PROOF_CLICKS_TO_VERIFY))
    candidates = list(
        SharePublication.objects.filter(state=PublicationState.PROOF_REVIEW)
        .annotate(
            clicks=Count(
                "share__tracking_link__clicks",
                filter=Q(share__tracking_link__clicks__billable=True)
                & Q(share__tracking_link__clicks__occurred_at__gte=F("proof_submitted_at")),
            )
        )
        .filter(clicks__gte=needed)
        .values_list("pk", flat=True)[:500]
    )
    verified = 0
    for publication_id in candidates:
        verified += _verify_by_clicks(publication_id=publication_id, needed=needed, now=now)
    return verified


@transaction.atomic
def _verify_by_clicks(*, publication_id: int, needed: int, now: datetime) -> int:
    locked = (
        SharePublication.objects.select_for_update()
        .filter(pk=publication_id, state=PublicationState.PROOF_REVIEW)
        .first()
    )
    if locked is None or proof_click_visitors(publication=locked) < needed:
        return 0
    _published(locked, now=now, verified_by=ProofVerifiedBy.CLICKS)
    locked.save()
    return 1


def proof_review_list() -> list[SharePublication]:
    """The staff spot-check queue: posts no public read could see (waiting), posts verified by clicks not
    spot-checked yet, and those whose retention period passed without anyone seeing them still up."""
    return list(
        SharePublication.objects.filter(
            Q(state=PublicationState.PROOF_REVIEW)
            | Q(
                state=PublicationState.PUBLISHED,
                proof_verified_by=ProofVerifiedBy.CLICKS,
                proof_reviewed_at__isnull=True,
            )
            | Q(
                state=PublicationState.PUBLISHED,
                proof_verified_by__in=(ProofVerifiedBy.CLICKS, ProofVerifiedBy.STAFF),
                retained_at__isnull=True,
                published_at__lte=timezone.now() - RETENTION_AFTER,
            )
        )
        .select_related("share__connected_account", "share__campaign", "share__influencer")
        .order_by("proof_submitted_at", "pk")[:200]
    )


@transaction.atomic
def proof_review_decide(
    *,
    publication_id: int,
    staff: AbstractBaseUser,
    verified: bool,
    reason: str = "",
    now: datetime | None = None,
) -> SharePublication:
    """Staff looked at the pasted post (audited with the reason).

    Verified: a waiting post is PUBLISHED (verified by staff); one already verified by clicks is marked
    spot-checked; seen at or after the retention period, the participation fee is kept (``retained_at``).
    Refused (a reason is required): a waiting post goes back to the influencer with the reason; a published one
    is removed (stops earning, what it earned on hold is taken back).
    """
    now = now or timezone.now()
    locked = SharePublication.objects.select_for_update().select_related("share").get(pk=publication_id)
    before = {"state": locked.state, "proof_verified_by": locked.proof_verified_by}
    if locked.state not in (PublicationState.PROOF_REVIEW, PublicationState.PUBLISHED) or not locked.proof_url:
        raise ProofRefused(_("This post is not waiting for a check."))
    if not verified and not reason.strip():
        raise ProofRefused(_("Say why the post is refused; the influencer sees the reason."), field="reason")
    locked.proof_reviewed_at = now
    locked.proof_reviewed_by_id = staff.pk
    if verified:
        if locked.state == PublicationState.PROOF_REVIEW:
            _published(locked, now=now, verified_by=ProofVerifiedBy.STAFF)
        elif locked.published_at is not None and locked.published_at <= now - RETENTION_AFTER:
            locked.retained_at = locked.retained_at or now
            locked.retention_checked_at = now
        locked.save()
    elif locked.state == PublicationState.PROOF_REVIEW:
        locked.state = PublicationState.NEEDS_PROOF
        locked.last_error = reason.strip()[:1000]
        locked.error_code = "proof_refused"
        locked.save()
    else:
        locked.save()
        publication_remove(publication=locked, now=now)
        locked.refresh_from_db()
        locked.last_error = reason.strip()[:1000]
        locked.error_code = "proof_refused"
        locked.save(update_fields=["last_error", "error_code", "updated_at"])
    audit_record(
        action=CampaignAuditAction.PROOF_VERIFIED if verified else CampaignAuditAction.PROOF_REFUSED,
        target=locked,
        actor=staff,  # type: ignore[arg-type]
        before=before,
        after={"state": locked.state, "proof_verified_by": locked.proof_verified_by, "url": locked.proof_url},
        reason=reason.strip(),
        brand_id=locked.share.campaign.brand_id,
    )
    return locked
