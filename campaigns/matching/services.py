"""Writes for matching, moderation, offers and shares. Keyword-only, typed, atomic.

The state machines are documented on the models (``campaigns.models.Match``, ``Offer``,
``Share``); every decision writes a ``ModerationEvent``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from campaigns.audit import CampaignAuditAction
from campaigns.earnings.budget import campaign_reservation_active
from campaigns.earnings.pricing import campaign_participation_fee
from campaigns.earnings.selectors import campaign_reserved_minor
from campaigns.errors import (
    CaptionRefused,
    MatchingError,
    MatchTransitionError,
    OfferAccountInvalid,
    OfferNotOpen,
    ShareCaptionTransitionError,
)
from campaigns.jobs import caption_waiting_email_send
from campaigns.matching import engine
from campaigns.matching.jobs import offer_new_email_send
from campaigns.matching.selectors import (
    caption_problems,
    conflict_flags_for,
    influencer_sandbox_only_for,
    offer_accounts_usable,
    offer_content,
    offer_disclosure,
    offer_language,
    share_caption_default,
    share_content,
    share_disclosure,
)
from campaigns.models import (
    Campaign,
    CampaignStatus,
    CaptionStatus,
    CaptionVariant,
    ContentPiece,
    Match,
    MatchStatus,
    ModerationAction,
    ModerationEvent,
    Offer,
    OfferStatus,
    Share,
    ShareStatus,
)
from campaigns.publishing.services import share_publication_schedule
from influencers.models import InfluencerProfile
from linkilike.audit import audit_record
from linkilike.i18n import label_in_sentence

if TYPE_CHECKING:
    from accounts.models import User

CLOSED_CAMPAIGN_STATUSES = (CampaignStatus.COMPLETED, CampaignStatus.CANCELLED, CampaignStatus.REJECTED)


def _event(
    *,
    action: str,
    actor: User | None = None,
    actor_id: int | None = None,
    match: Match | None = None,
    offer: Offer | None = None,
    share: Share | None = None,
    before: str = "",
    after: str = "",
    reason: str = "",
) -> ModerationEvent:
    if actor is not None:
        actor_id = actor.pk
    return ModerationEvent.objects.create(
        action=action,
        actor_id=actor_id,
        match=match,
        offer=offer,
        share=share,
        before=before,
        after=after,
        reason=reason,
    )


# --- the engine run ---------------------------------------------------------------------


@dataclass(frozen=True)
class MatchingRun:
    campaign_id: int
    created: int
    withdrawn: int


def _campaign_open_for_matching(campaign: Campaign, now: datetime) -> bool:
    return campaign.status == CampaignStatus.APPROVED and (campaign.ends_at is None or campaign.ends_at > now)


@transaction.atomic
def matching_run(*, campaign: Campaign) -> MatchingRun:
    """Propose matches for every newly eligible influencer; withdraw proposals that no longer qualify.

    Idempotent: existing matches (whatever their status) are kept as they are; only
    influencers without a match get one. A fixed number of queries, whatever the number
    of influencers.
    """
    now = timezone.now()
    locked = Campaign.objects.select_for_update().select_related("brand").get(pk=campaign.pk)
    proposed = Match.objects.filter(campaign=locked, status=MatchStatus.PROPOSED)
    if not _campaign_open_for_matching(locked, now):
        stale_ids = list(proposed.values_list("pk", flat=True)) if locked.status in CLOSED_CAMPAIGN_STATUSES else []
        return MatchingRun(campaign_id=locked.pk, created=0, withdrawn=_withdraw(stale_ids, now))
    existing = Match.objects.filter(campaign=locked).values("influencer_id")
    scored = engine.campaign_score(locked, exclude_influencer_ids=existing)
    conflicts = (
        conflict_flags_for(
            campaign=locked,
            influencer_ids=engine.eligible_influencers(locked).exclude(pk__in=existing).values("pk"),
            now=now,
        )
        if scored
        else {}
    )
    Match.objects.bulk_create(
        [
            Match(
                campaign=locked,
                influencer_id=item.influencer_id,
                score=item.score,
                score_parts=item.parts,
                explanation=engine.explanation_for_audit(item.parts),
                conflict_flags=conflicts.get(item.influencer_id, []),
                status=MatchStatus.PROPOSED,
                created_at=now,
            )
            for item in scored
        ],
        ignore_conflicts=True,
    )
    stale_ids = list(
        proposed.exclude(influencer_id__in=engine.eligible_influencers(locked).values("pk")).values_list(
            "pk", flat=True
        )
    )
    return MatchingRun(campaign_id=locked.pk, created=len(scored), withdrawn=_withdraw(stale_ids, now))


def _withdraw(match_ids: list[int], now: datetime) -> int:
    if not match_ids:
        return 0
    reason = _("No longer eligible, or the campaign closed.")
    count = Match.objects.filter(pk__in=match_ids, status=MatchStatus.PROPOSED).update(
        status=MatchStatus.WITHDRAWN, decided_at=now, decision_reason=reason, updated_at=now
    )
    ModerationEvent.objects.bulk_create(
        [
            ModerationEvent(
                match_id=pk,
                action=ModerationAction.WITHDRAWN,
                before=MatchStatus.PROPOSED,
                after=MatchStatus.WITHDRAWN,
                reason=reason,
                created_at=now,
            )
            for pk in match_ids
        ]
    )
    return count


def matching_run_live() -> list[MatchingRun]:
    """Re-run matching for every approved campaign that has not ended (the periodic task)."""
    now = timezone.now()
    campaigns = Campaign.objects.filter(status=CampaignStatus.APPROVED).filter(
        Q(ends_at__isnull=True) | Q(ends_at__gt=now)
    )
    return [matching_run(campaign=campaign) for campaign in campaigns]


# --- moderation -------------------------------------------------------------------------


def _lock_match(match: Match) -> Match:
    return (
        Match.objects.select_for_update().select_related("campaign", "campaign__brand", "influencer").get(pk=match.pk)
    )


@transaction.atomic
def match_approve(*, match: Match, decided_by: User | None, reason: str = "") -> Offer:
    """Approve a proposed match: it becomes a NEW offer and the influencer is emailed (after commit)."""
    locked = _lock_match(match)
    if locked.status != MatchStatus.PROPOSED:
        raise MatchTransitionError(
            _("This match is already %(status)s.") % {"status": label_in_sentence(locked.get_status_display())}
        )
    campaign = locked.campaign
    now = timezone.now()
    if not _campaign_open_for_matching(campaign, now):
        raise MatchTransitionError(_("The campaign is not running, so no offer can be made."))
    # A proposal made before the sandbox gate (or while the brand was a demo brand) must not become an
    # offer; the next matching run withdraws it.
    if influencer_sandbox_only_for(campaign=campaign, influencer_id=locked.influencer_id):
        raise MatchTransitionError(
            _("This influencer only has a sandbox account, and the sandbox is for demo brands only.")
        )
    locked.conflict_flags = conflict_flags_for(campaign=campaign, influencer_ids=[locked.influencer_id], now=now).get(
        locked.influencer_id, []
    )
    locked.status = MatchStatus.APPROVED
    locked.decided_by = decided_by
    locked.decided_at = now
    locked.decision_reason = reason.strip()
    locked.save(update_fields=["status", "decided_by", "decided_at", "decision_reason", "conflict_flags", "updated_at"])
    offer = Offer.objects.create(
        match=locked,
        campaign=campaign,
        influencer=locked.influencer,
        status=OfferStatus.NEW,
        expires_at=campaign.ends_at,
        created_at=now,
    )
    _event(
        action=ModerationAction.APPROVED,
        actor=decided_by,
        match=locked,
        before=MatchStatus.PROPOSED,
        after=MatchStatus.APPROVED,
        reason=locked.decision_reason,
    )
    _event(action=ModerationAction.OFFER_CREATED, actor=decided_by, match=locked, offer=offer, after=OfferStatus.NEW)
    audit_record(
        action=CampaignAuditAction.MATCH_APPROVED,
        target=locked,
        actor=decided_by,
        before={"status": MatchStatus.PROPOSED},
        after={"status": MatchStatus.APPROVED, "offer_id": offer.pk, "conflict_flags": locked.conflict_flags},
        reason=locked.decision_reason,
        brand_id=campaign.brand_id,
    )
    offer_id = offer.pk
    transaction.on_commit(lambda: offer_new_email_send.delay(offer_id))
    return offer


@transaction.atomic
def match_reject(*, match: Match, decided_by: User | None, reason: str) -> Match:
    reason = reason.strip()
    if not reason:
        raise MatchingError(_("Say why the match is rejected."), field="reason")
    locked = _lock_match(match)
    if locked.status != MatchStatus.PROPOSED:
        raise MatchTransitionError(
            _("This match is already %(status)s.") % {"status": label_in_sentence(locked.get_status_display())}
        )
    locked.status = MatchStatus.REJECTED
    locked.decided_by = decided_by
    locked.decided_at = timezone.now()
    locked.decision_reason = reason
    locked.save(update_fields=["status", "decided_by", "decided_at", "decision_reason", "updated_at"])
    _event(
        action=ModerationAction.REJECTED,
        actor=decided_by,
        match=locked,
        before=MatchStatus.PROPOSED,
        after=MatchStatus.REJECTED,
        reason=reason,
    )
    audit_record(
        action=CampaignAuditAction.MATCH_REJECTED,
        target=locked,
        actor=decided_by,
        before={"status": MatchStatus.PROPOSED},
        after={"status": MatchStatus.REJECTED},
        reason=reason,
        brand_id=locked.campaign.brand_id,
    )
    return locked


@transaction.atomic
# --- expiry -------------------------------------------------------------------------------


def _budget_exhausted(campaign: Campaign) -> bool:
    return campaign_reservation_active(campaign=campaign) and campaign_reserved_minor(campaign=campaign) <= 0


def _offer_expiry_reason(offer: Offer, now: datetime) -> str | None:
    campaign = offer.campaign
    if offer.expires_at is not None and offer.expires_at <= now:
        return _("The campaign has ended.")
    if campaign.ends_at is not None and campaign.ends_at <= now:
        return _("The campaign has ended.")
    if campaign.status in CLOSED_CAMPAIGN_STATUSES:
        return _("The campaign is no longer running.")
    if _budget_exhausted(campaign):
        return _("The campaign's budget is used up.")
    return None


def _expire(offer: Offer, reason: str, now: datetime) -> None:
    offer.status = OfferStatus.EXPIRED
    offer.closed_at = now
    offer.save(update_fields=["status", "closed_at"])
    ModerationEvent.objects.create(
        action=ModerationAction.OFFER_EXPIRED,
        offer=offer,
        match_id=offer.match_id,
        before=OfferStatus.NEW,
        after=OfferStatus.EXPIRED,
        reason=reason,
        created_at=now,
    )


@transaction.atomic
def offer_expire_if_due(*, offer: Offer) -> Offer:
    """The check on access: expire a NEW offer whose campaign ended, stopped or ran out of budget."""
    locked = Offer.objects.select_for_update().select_related("campaign").filter(pk=offer.pk).first()
    if locked is None:
        return offer
    if locked.status == OfferStatus.NEW:
        now = timezone.now()
        reason = _offer_expiry_reason(locked, now)
        if reason is not None:
            _expire(locked, reason, now)
    return locked


def offer_expire_due() -> int:
    """Expire every NEW offer that is due (the periodic task). Returns how many expired."""
    now = timezone.now()
    ids = list(
        Offer.objects.filter(status=OfferStatus.NEW)
        .filter(
            Q(expires_at__lte=now)
            | Q(campaign__ends_at__lte=now)
            | Q(campaign__status__in=CLOSED_CAMPAIGN_STATUSES)
            | Q(campaign_id__in=_campaigns_with_new_offers_out_of_budget())
        )
        .values_list("pk", flat=True)
    )
    expired = 0
    for pk in ids:
        offer = offer_expire_if_due(offer=Offer(pk=pk))
        expired += offer.status == OfferStatus.EXPIRED
    return expired


def _campaigns_with_new_offers_out_of_budget() -> list[int]:
    campaign_ids = Offer.objects.filter(status=OfferStatus.NEW).values_list("campaign_id", flat=True).distinct()
    return [campaign.pk for campaign in Campaign.objects.filter(pk__in=campaign_ids) if _budget_exhausted(campaign)]


@transaction.atomic
def offer_withdraw(*, offer: Offer, decided_by: User | None, reason: str) -> Offer:
    """Staff take back a NEW offer (e.g. a conflict noticed late). Reason required, audited."""
    reason = (reason or "").strip()
    if not reason:
        raise MatchingError(_("Say why the offer is withdrawn."), field="reason")
    locked = Offer.objects.select_for_update().select_related("campaign").get(pk=offer.pk)
    if locked.status != OfferStatus.NEW:
        status = label_in_sentence(locked.get_status_display())
        raise OfferNotOpen(_("This offer is already %(status)s.") % {"status": status})
    locked.status = OfferStatus.WITHDRAWN
    locked.closed_at = timezone.now()
    locked.save(update_fields=["status", "closed_at"])
    _event(
        action=ModerationAction.WITHDRAWN,  # with ``offer`` set: the offer was withdrawn
        actor=decided_by,
        match=locked.match,
        offer=locked,
        before=OfferStatus.NEW,
        after=OfferStatus.WITHDRAWN,
        reason=reason,
    )
    audit_record(
        action=CampaignAuditAction.OFFER_WITHDRAWN,
        target=locked,
        actor=decided_by,
        before={"status": OfferStatus.NEW},
        after={"status": OfferStatus.WITHDRAWN},
        reason=reason,
        brand_id=locked.campaign.brand_id,
    )
    return locked


# --- influencer: accept / decline --------------------------------------------------------


def _lock_offer_for(offer: Offer, influencer: InfluencerProfile) -> Offer:
    locked = (
        Offer.objects.select_for_update()
        .select_related("campaign", "influencer")
        .filter(pk=offer.pk, influencer=influencer)
        .first()
    )
    if locked is None:
        raise OfferNotOpen(_("This offer does not exist."))
    return locked


def _require_new(offer: Offer) -> None:
    """Refuse unless NEW and not due to expire (callers ran ``offer_expire_if_due`` first, committed)."""
    if offer.status != OfferStatus.NEW:
        status = label_in_sentence(offer.get_status_display())
        raise OfferNotOpen(_("This offer is already %(status)s.") % {"status": status})
    reason = _offer_expiry_reason(offer, timezone.now())
    if reason is not None:
        raise OfferNotOpen(_("This offer has expired: %(reason)s") % {"reason": reason})
    if offer.campaign.status != CampaignStatus.APPROVED:
        raise OfferNotOpen(_("The brand paused this campaign. The offer stays open; try again later."))


def offer_accept(
    *,
    offer: Offer,
    influencer: InfluencerProfile,
    account_ids: Sequence[int],
    caption_text: str | None,
    scheduled_at: datetime | None,
    content: ContentPiece | None = None,
    variant: CaptionVariant | None = None,
) -> list[Share]:
    """Accept an offer: one Share per chosen account.

    ``caption_text`` None = the brand's caption (``share_caption_default``); an edited caption
    must keep the disclosure and the link placeholder and fit every chosen network, else
    ``CaptionRefused`` lists each problem. ``scheduled_at`` None = as soon as possible.
    ``variant`` is the brand's text the caption started from: its piece is the content shared and its
    language decides the disclosure (``#Werbung`` for a German text), stored on each share.
    Captions wait for the brand when the campaign approves captions AND the caption was edited.
    """
    offer_expire_if_due(offer=offer)  # commits the expiry even though accepting is then refused
    return _offer_accept(
        offer=offer,
        influencer=influencer,
        account_ids=account_ids,
        caption_text=caption_text,
        scheduled_at=scheduled_at,
        content=content,
        variant=variant,
    )


@transaction.atomic
def _offer_accept(
    *,
    offer: Offer,
    influencer: InfluencerProfile,
    account_ids: Sequence[int],
    caption_text: str | None,
    scheduled_at: datetime | None,
    content: ContentPiece | None,
    variant: CaptionVariant | None,
) -> list[Share]:
    locked = _lock_offer_for(offer, influencer)
    _require_new(locked)
    campaign = locked.campaign
    ids = sorted({int(pk) for pk in account_ids})
    if not ids:
        raise OfferAccountInvalid(_("Choose at least one account to share to."), field="account_ids")
    accounts = list(offer_accounts_usable(offer=locked).filter(pk__in=ids))
    if len(accounts) != len(ids):
        raise OfferAccountInvalid(
            _(
                "One of the chosen accounts cannot share this campaign: it is not yours, needs reconnecting, "
                "or is on a network the campaign does not use."
            ),
            field="account_ids",
        )
    now = timezone.now()
    if scheduled_at is not None:
        if scheduled_at < now - timedelta(minutes=5):
            raise MatchingError(_("Choose a time in the future, or share now."), field="scheduled_at")
        if campaign.ends_at is not None and scheduled_at >= campaign.ends_at:
            raise MatchingError(_("Choose a time before the campaign ends."), field="scheduled_at")
    # A text of another campaign is ignored (ids come from the form); the chosen text's piece is what is shared.
    if variant is not None:
        variant = (
            CaptionVariant.objects.select_related("content").filter(pk=variant.pk, content__campaign=campaign).first()
        )
    if variant is not None:
        content = variant.content
    content = content if content is not None and content.campaign_id == campaign.pk else offer_content(offer=locked)
    language = offer_language(offer=locked, content=content, variant=variant)
    default = share_caption_default(offer=locked, content=content, language=language, variant=variant)
    edited = caption_text is not None and caption_text.strip() != default.strip()
    final = caption_text.strip() if caption_text is not None else default
    disclosure = offer_disclosure(offer=locked, language=language)
    has_media = bool(content and content.media)
    problems: list[str] = []
    for account in accounts:
        for problem in caption_problems(
            campaign=campaign,
            caption_text=final,
            disclosure=disclosure,
            account_network=account.network,
            has_media=has_media,
        ):
            if problem not in problems:
                problems.append(problem)
    if problems:
        raise CaptionRefused(" ".join(problems), problems=problems)
    needs_approval = campaign.requires_caption_approval and edited
    caption_status = CaptionStatus.PENDING_APPROVAL if needs_approval else CaptionStatus.NOT_REQUIRED
    share_status = ShareStatus.AWAITING_CAPTION_APPROVAL if needs_approval else ShareStatus.READY
    try:
        shares = [
            Share.objects.create(
                offer=locked,
                campaign=campaign,
                influencer=influencer,
                connected_account=account,
                content=content,
                caption_text=final,
                language=language,
                caption_status=caption_status,
                scheduled_at=scheduled_at,
                status=share_status,
                created_at=now,
                # The fee promised now, by the account's audience now: later follower changes keep it.
                participation_fee_minor=campaign_participation_fee(campaign, followers=account.followers_count or 0),
            )
            for account in accounts
        ]
    except IntegrityError as error:  # pragma: no cover - guarded by the NEW check under lock
        raise OfferNotOpen(_("This offer was already accepted.")) from error
    locked.status = OfferStatus.ACCEPTED
    locked.accepted_at = now
    locked.save(update_fields=["status", "accepted_at"])
    _event(
        action=ModerationAction.OFFER_ACCEPTED,
        actor_id=locked.influencer.user_id,
        match=locked.match,
        offer=locked,
        before=OfferStatus.NEW,
        after=OfferStatus.ACCEPTED,
    )
    audit_record(
        action=CampaignAuditAction.OFFER_ACCEPTED,
        target=locked,
        actor=locked.influencer.user,
        before={"status": OfferStatus.NEW},
        after={
            "status": OfferStatus.ACCEPTED,
            "share_ids": [share.pk for share in shares],
            "caption_status": caption_status,
        },
        brand_id=campaign.brand_id,
    )
    _publication_schedule(shares)
    if needs_approval:
        _caption_waiting_notify(shares[0])  # one email per accepted offer, however many accounts
    return shares


def _caption_waiting_notify(share: Share) -> None:
    """The brand's approval queue is not a page anyone watches: email who can approve, after commit."""
    share_id = share.pk
    transaction.on_commit(lambda: caption_waiting_email_send.delay(share_id))


def _publication_schedule(shares: list[Share]) -> None:
    """Queue shares that are ready now; scheduled ones are picked up by the publishing sweep."""
    for share in shares:
        if share.status == ShareStatus.READY:
            share_publication_schedule(share=share)


def offer_decline(*, offer: Offer, influencer: InfluencerProfile, reason: str = "") -> Offer:
    offer_expire_if_due(offer=offer)
    return _offer_decline(offer=offer, influencer=influencer, reason=reason)


@transaction.atomic
def _offer_decline(*, offer: Offer, influencer: InfluencerProfile, reason: str) -> Offer:
    locked = _lock_offer_for(offer, influencer)
    _require_new(locked)
    locked.status = OfferStatus.DECLINED
    locked.decline_reason = (reason or "").strip()[:1000]
    locked.declined_at = timezone.now()
    locked.closed_at = locked.declined_at
    locked.save(update_fields=["status", "decline_reason", "declined_at", "closed_at"])
    _event(
        action=ModerationAction.OFFER_DECLINED,
        actor_id=locked.influencer.user_id,
        match=locked.match,
        offer=locked,
        before=OfferStatus.NEW,
        after=OfferStatus.DECLINED,
        reason=locked.decline_reason,
    )
    audit_record(
        action=CampaignAuditAction.OFFER_DECLINED,
        target=locked,
        actor=locked.influencer.user,
        before={"status": OfferStatus.NEW},
        after={"status": OfferStatus.DECLINED},
        reason=locked.decline_reason,
        brand_id=locked.campaign.brand_id,
    )
    return locked


# --- caption approval -------------------------------------------------------------------


def _lock_share(share: Share) -> Share:
    return (
        Share.objects.select_for_update()
        .select_related("campaign", "offer", "connected_account", "influencer")
        .get(pk=share.pk)
    )


@transaction.atomic
def share_caption_approve(*, share: Share, approved_by: User | None) -> Share:
    """The brand approves a pending caption: the share is ready to be published."""
    locked = _lock_share(share)
    if locked.caption_status != CaptionStatus.PENDING_APPROVAL:
        raise ShareCaptionTransitionError(_("This caption is not waiting for approval."))
    status_before = locked.status
    locked.caption_status = CaptionStatus.APPROVED
    locked.status = ShareStatus.READY
    locked.caption_decided_by = approved_by
    locked.caption_decided_at = timezone.now()
    locked.brand_feedback = ""
    locked.save(
        update_fields=[
            "caption_status",
            "status",
            "caption_decided_by",
            "caption_decided_at",
            "brand_feedback",
            "updated_at",
        ]
    )
    _event(
        action=ModerationAction.CAPTION_APPROVED,
        actor=approved_by,
        offer=locked.offer,
        share=locked,
        before=CaptionStatus.PENDING_APPROVAL,
        after=CaptionStatus.APPROVED,
    )
    audit_record(
        action=CampaignAuditAction.CAPTION_APPROVED,
        target=locked,
        actor=approved_by,
        before={"caption_status": CaptionStatus.PENDING_APPROVAL, "status": status_before},
        after={"caption_status": CaptionStatus.APPROVED, "status": locked.status},
        brand_id=locked.campaign.brand_id,
    )
    _publication_schedule([locked])
    return locked


@transaction.atomic
def share_caption_request_changes(*, share: Share, approved_by: User | None, feedback: str) -> Share:
    feedback = (feedback or "").strip()
    if not feedback:
        raise MatchingError(_("Tell the influencer what to change."), field="feedback")
    locked = _lock_share(share)
    if locked.caption_status != CaptionStatus.PENDING_APPROVAL:
        raise ShareCaptionTransitionError(_("This caption is not waiting for approval."))
    locked.caption_status = CaptionStatus.CHANGES_REQUESTED
    locked.brand_feedback = feedback[:2000]
    locked.caption_decided_by = approved_by
    locked.caption_decided_at = timezone.now()
    locked.save(
        update_fields=["caption_status", "brand_feedback", "caption_decided_by", "caption_decided_at", "updated_at"]
    )
    _event(
        action=ModerationAction.CAPTION_CHANGES_REQUESTED,
        actor=approved_by,
        offer=locked.offer,
        share=locked,
        before=CaptionStatus.PENDING_APPROVAL,
        after=CaptionStatus.CHANGES_REQUESTED,
        reason=locked.brand_feedback,
    )
    audit_record(
        action=CampaignAuditAction.CAPTION_CHANGES_REQUESTED,
        target=locked,
        actor=approved_by,
        before={"caption_status": CaptionStatus.PENDING_APPROVAL},
        after={"caption_status": CaptionStatus.CHANGES_REQUESTED},
        reason=locked.brand_feedback,
        brand_id=locked.campaign.brand_id,
    )
    return locked


@transaction.atomic
def share_caption_resubmit(*, share: Share, influencer: InfluencerProfile, caption_text: str) -> Share:
    """The influencer sends a changed caption after the brand asked for changes (same rules as accepting)."""
    locked = _lock_share(share)
    if locked.influencer_id != influencer.pk:
        raise ShareCaptionTransitionError(_("This share does not exist."))
    if locked.caption_status != CaptionStatus.CHANGES_REQUESTED:
        raise ShareCaptionTransitionError(_("The brand has not asked for changes to this caption."))
    content = share_content(share=locked)
    final = (caption_text or "").strip()
    problems = caption_problems(
        campaign=locked.campaign,
        caption_text=final,
        disclosure=share_disclosure(share=locked),
        account_network=locked.connected_account.network,
        has_media=bool(content and content.media),
    )
    if problems:
        raise CaptionRefused(" ".join(problems), problems=problems)
    locked.caption_text = final
    locked.caption_status = CaptionStatus.PENDING_APPROVAL
    locked.status = ShareStatus.AWAITING_CAPTION_APPROVAL
    locked.save(update_fields=["caption_text", "caption_status", "status", "updated_at"])
    _event(
        action=ModerationAction.CAPTION_RESUBMITTED,
        actor_id=influencer.user_id,
        offer=locked.offer,
        share=locked,
        before=CaptionStatus.CHANGES_REQUESTED,
        after=CaptionStatus.PENDING_APPROVAL,
    )
    _caption_waiting_notify(locked)
    return locked
