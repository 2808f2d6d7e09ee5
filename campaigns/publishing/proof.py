"""Proof of post, for networks where Linkilike may not post for the influencer (``api_posting_allowed`` False).

The influencer posts through the network's own share link (``share_intent_url``), pastes the
permalink (``proof_submit``), and a worker checks it (``proof_verify``) with ``safe_fetch``
(SSRF-guarded): the page exists, is on the connected account's site and names its handle, and
carries the disclosure and the campaign link. Only then does the share count as published.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from functools import partial
from urllib.parse import urlsplit

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from campaigns.matching.selectors import share_disclosure
from campaigns.models import PublicationState, SharePublication
from campaigns.publishing.errors import ProofRefused
from influencers.models import InfluencerProfile
from linkilike.safe_fetch import AddressPolicy, UnsafeFetch, safe_fetch
from networks.models import ConnectedAccount
from networks.providers import registry
from networks.providers.base import first_url


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


@transaction.atomic
def proof_submit(*, publication: SharePublication, influencer: InfluencerProfile, url: str) -> SharePublication:
    """The influencer pasted the address of their post: check it in the background."""
    locked = (
        SharePublication.objects.select_for_update()
        .select_related("share__connected_account")
        .get(pk=publication.pk, share__influencer=influencer)
    )
    if locked.state not in (PublicationState.NEEDS_PROOF, PublicationState.PROOF_SUBMITTED):
        raise ProofRefused(_("This share does not need a link to your post."))
    url = url.strip()
    if urlsplit(url).scheme not in ("http", "https"):
        raise ProofRefused(_("Paste the full address of your post, starting with https://."), field="url")
    if not _on_account_site(url, locked.share.connected_account):
        raise ProofRefused(
            _("That address is not on %(site)s, where your connected account is.")
            % {"site": ", ".join(sorted(_account_hosts(locked.share.connected_account))) or "-"},
            field="url",
        )
    locked.proof_url = url[:1000]
    locked.state = PublicationState.PROOF_SUBMITTED
    locked.last_error = ""
    locked.error_code = ""
    locked.save()
    transaction.on_commit(partial(_verify_send, locked.pk))
    return locked


def _verify_note(publication_id: int) -> str:
    return f"publishing:proof-sent:{publication_id}"


def _verify_send(publication_id: int) -> None:
    from campaigns.publishing import tasks

    cache.set(_verify_note(publication_id), True, settings.PUBLISHING_REDISPATCH_SECONDS)
    tasks.proof_verify.delay(publication_id)


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


def _page_problem(*, publication: SharePublication, policy: AddressPolicy | None) -> tuple[str, str]:
    """(problem for the person, verdict) for the pasted post."""
    share = publication.share
    account = share.connected_account
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
    from campaigns.metrics.services import publication_remove

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
    problem, _verdict = _page_problem(publication=publication, policy=policy)
    return _proof_decide(publication_id=publication.pk, problem=problem, now=now or timezone.now())


@transaction.atomic
def _proof_decide(*, publication_id: int, problem: str, now: datetime) -> SharePublication | None:
    locked = (
        SharePublication.objects.select_for_update()
        .filter(pk=publication_id, state=PublicationState.PROOF_SUBMITTED)
        .first()
    )
    if locked is None:
        return None
    locked.proof_checked_at = now
    if problem:
        locked.state = PublicationState.NEEDS_PROOF
        locked.last_error = problem
        locked.error_code = "proof_refused"
    else:
        locked.state = PublicationState.PUBLISHED
        locked.external_url = locked.proof_url
        locked.published_at = now
        locked.last_error = ""
        locked.error_code = ""
    locked.save()
    return locked
