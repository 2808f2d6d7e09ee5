"""Staff previews of every notification email, rendered from the newest real example in the database.

Each entry uses the same context function as the task that sends the email, so a preview shows
exactly what a recipient gets, in English and German, as HTML and as plain text.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from linkilike.emails import RenderedEmail, email_render


def _invitation(language: str) -> dict[str, Any] | None:
    from brands.models import Invitation
    from brands.tasks import invitation_email_context

    invitation = Invitation.objects.select_related("brand", "invited_by").order_by("-pk").first()
    return invitation_email_context(invitation=invitation) if invitation else None


def _campaign_status(status: str) -> Callable[[str], dict[str, Any] | None]:
    def build(language: str) -> dict[str, Any] | None:
        from campaigns.models import Campaign
        from campaigns.tasks import campaign_status_email_context

        campaign = Campaign.objects.select_related("brand").filter(status=status).order_by("-pk").first()
        campaign = campaign or Campaign.objects.select_related("brand").order_by("-pk").first()
        if campaign is None:
            return None
        member = campaign.brand.memberships.select_related("user").first()
        return campaign_status_email_context(campaign=campaign, user=member.user if member else None)

    return build


def _funds_needed(language: str) -> dict[str, Any] | None:
    from campaigns.models import Campaign, NotificationKind
    from campaigns.tasks import campaign_status_email_context

    # A campaign whose review waited for funds, else any in review (its shortfall then reads as shown today).
    campaign = (
        Campaign.objects.select_related("brand")
        .filter(notifications__kind=NotificationKind.FUNDS_NEEDED)
        .order_by("-pk")
        .first()
    ) or Campaign.objects.select_related("brand").filter(status="in_review").order_by("-pk").first()
    if campaign is None:
        return None
    member = campaign.brand.memberships.select_related("user").first()
    return campaign_status_email_context(campaign=campaign, user=member.user if member else None)


def _caption_waiting(language: str) -> dict[str, Any] | None:
    from campaigns.models import Share
    from campaigns.tasks import caption_waiting_email_context

    share = Share.objects.select_related("campaign__brand", "influencer").order_by("-pk").first()
    return caption_waiting_email_context(share=share) if share else None


def _offer_new(language: str) -> dict[str, Any] | None:
    from campaigns.matching.tasks import offer_new_email_context
    from campaigns.models import Offer

    offer = Offer.objects.select_related("campaign__brand", "influencer__user").order_by("-pk").first()
    return offer_new_email_context(offer=offer, language=language) if offer else None


def _caption_decision(language: str) -> dict[str, Any] | None:
    from campaigns.models import Share
    from influencers.tasks import caption_decision_email_context

    share = Share.objects.select_related("campaign__brand", "influencer__user").order_by("-pk").first()
    return caption_decision_email_context(share=share) if share else None


def _reconsent(language: str) -> dict[str, Any] | None:
    from networks.models import ConnectedAccount
    from networks.tasks import reconsent_email_context

    account = ConnectedAccount.objects.select_related("influencer__user").order_by("-pk").first()
    return reconsent_email_context(account=account) if account else None


def _payout_status(language: str) -> dict[str, Any] | None:
    from payouts.models import PayoutRequest, PayoutStatus
    from payouts.tasks import payout_status_email_context

    payout = (
        PayoutRequest.objects.select_related("influencer__user", "destination", "charity")
        .exclude(status=PayoutStatus.REQUESTED)  # a request itself sends no email
        .order_by("-pk")
        .first()
    )
    return payout_status_email_context(payout=payout) if payout else None


@dataclass(frozen=True)
class EmailPreview:
    key: str
    label: Promise
    template: str
    #: builds the context as the sending task does, for the recipient's language
    context: Callable[[str], dict[str, Any] | None]

    def render(self, *, language: str) -> RenderedEmail | None:
        context = self.context(language)
        if context is None:
            return None
        return email_render(template=self.template, context=context, language=language)


EMAIL_PREVIEWS: dict[str, EmailPreview] = {
    preview.key: preview
    for preview in (
        EmailPreview("invitation", _("Invitation to a brand"), "brands/email/invitation", _invitation),
        EmailPreview(
            "campaign-approved",
            _("Campaign approved"),
            "campaigns/email/campaign_approved",
            _campaign_status("approved"),
        ),
        EmailPreview(
            "campaign-rejected",
            _("Campaign not approved"),
            "campaigns/email/campaign_rejected",
            _campaign_status("rejected"),
        ),
        EmailPreview(
            "funds-needed",
            _("Review waits for funds"),
            "campaigns/email/funds_needed",
            _funds_needed,
        ),
        EmailPreview(
            "caption-waiting",
            _("A caption waits for the brand to approve it"),
            "campaigns/email/caption_waiting",
            _caption_waiting,
        ),
        EmailPreview("offer-new", _("New offer for an influencer"), "campaigns/email/offer_new", _offer_new),
        EmailPreview(
            "caption-decision",
            _("Caption approved or changes requested"),
            "influencers/email/caption_decision",
            _caption_decision,
        ),
        EmailPreview(
            "reconsent-warning",
            _("Reconnect an account soon"),
            "networks/email/reconsent_warning",
            _reconsent,
        ),
        EmailPreview(
            "payout-status",
            _("Payout approved, sent, failed or rejected"),
            "payouts/email/payout_status",
            _payout_status,
        ),
    )
}
