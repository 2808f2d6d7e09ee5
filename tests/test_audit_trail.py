"""The audit trail: every moderation, money and permission change made through its service writes
exactly one ``AuditEvent`` with who, before and after, in the same transaction; rolled-back changes
leave none; the table is append-only at the database and read-only in the admin."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
from allauth.mfa import signals as mfa_signals
from allauth.mfa.models import Authenticator
from django.db import DatabaseError, connection, transaction
from django.http import HttpRequest, HttpResponse
from django.test import Client, RequestFactory
from django.urls import reverse
from django.utils import timezone

from accounts.audit import AccountAuditAction
from accounts.models import User
from brands.audit import BrandAuditAction
from brands.errors import LastOwnerError
from brands.models import BrandRole, Membership
from brands.services import invitation_accept, membership_remove, membership_role_change
from campaigns.audit import BudgetAuditAction, CampaignAuditAction
from campaigns.earnings.budget import campaign_budget_release
from campaigns.earnings.services import earnings_accrue, earnings_release_due
from campaigns.errors import CampaignFundsError
from campaigns.matching.services import (
    match_approve,
    match_reject,
    offer_accept,
    offer_decline,
    offer_withdraw,
    share_caption_approve,
    share_caption_request_changes,
)
from campaigns.models import CampaignStatus, CaptionStatus, HoldReason, ShareHold, ShareStatus
from campaigns.services import campaign_approve, campaign_reject
from campaigns.tracking.services import share_hold_release
from linkilike.audit import AuditContextMiddleware, audit_record
from linkilike.audit_actions import AuditCategory
from linkilike.models import AuditEvent
from payouts.audit import PayoutAuditAction
from payouts.models import FundingSource, PayoutStatus
from payouts.services.destinations import payout_destination_add
from payouts.services.ledger import brand_fund, brand_refund, ledger_transaction_reverse
from payouts.services.payouts import (
    payout_approve,
    payout_mark_failed,
    payout_mark_sent,
    payout_reject,
    payout_request,
)
from payouts.tests.helpers import delta, funded_campaign, influencer
from tests.factories.accounts import UserFactory
from tests.factories.brands import BrandFactory, InvitationFactory, MembershipFactory
from tests.factories.campaigns import MatchFactory, OfferFactory, ready_campaign
from tests.factories.influencers import InfluencerProfileFactory
from tests.factories.networks import ConnectedAccountFactory
from tests.factories.tracking import ShareFactory

pytestmark = pytest.mark.django_db

IBAN = "AT611904300234573201"


def only_event(action: str) -> AuditEvent:
    """The one event of this action; fails if there are none or several."""
    events = list(AuditEvent.objects.filter(action=action))
    assert len(events) == 1, f"{action}: {len(events)} events"
    return events[0]


def staff_user() -> User:
    user: User = UserFactory.create(is_staff=True, is_superuser=True)
    return user


def as_request_of(user: User, call: Any) -> Any:
    """Runs ``call`` as if inside a web request by ``user`` (through the audit middleware)."""
    result: dict[str, Any] = {}

    def view(request: HttpRequest) -> HttpResponse:
        result["value"] = call()
        return HttpResponse()

    request = RequestFactory().post("/", REMOTE_ADDR="203.0.113.7", HTTP_X_REQUEST_ID="req-42")
    request.user = user
    AuditContextMiddleware(view)(request)
    return result["value"]


# --- moderation ---------------------------------------------------------------------------


def test_campaign_approval_records_the_decision_and_the_reservation() -> None:
    campaign = ready_campaign(status=CampaignStatus.IN_REVIEW, budget_minor=5_000)
    brand_fund(brand=campaign.brand, amount_minor=8_000, currency="EUR", source="card", reference="a1")
    reviewer = staff_user()

    campaign_approve(campaign=campaign, reviewed_by=reviewer)

    approved = only_event(CampaignAuditAction.CAMPAIGN_APPROVED)
    assert (approved.category, approved.actor, approved.actor_label) == (
        AuditCategory.MODERATION,
        reviewer,
        reviewer.email,
    )
    assert (approved.target_type, approved.target_id, approved.brand_id) == (
        "campaigns.campaign",
        str(campaign.pk),
        campaign.brand_id,
    )
    assert approved.before == {"status": "in_review"}
    assert approved.after == {"status": "approved", "budget_minor": 5_000, "currency": "EUR"}
    reserved = only_event(BudgetAuditAction.BUDGET_RESERVED)
    assert reserved.before == {"brand_available_minor": 8_000, "reserved_minor": 0}
    assert reserved.after == {"brand_available_minor": 3_000, "reserved_minor": 5_000, "currency": "EUR"}


def test_a_refused_approval_leaves_no_event() -> None:
    campaign = ready_campaign(status=CampaignStatus.IN_REVIEW, budget_minor=5_000)  # brand has no money

    with pytest.raises(CampaignFundsError):
        campaign_approve(campaign=campaign, reviewed_by=staff_user())

    assert not AuditEvent.objects.exists()


def test_campaign_rejection_keeps_the_reason() -> None:
    campaign = ready_campaign(status=CampaignStatus.IN_REVIEW)

    campaign_reject(campaign=campaign, reviewed_by=staff_user(), reason="Claims need a source")

    event = only_event(CampaignAuditAction.CAMPAIGN_REJECTED)
    assert (event.before, event.after, event.reason) == (
        {"status": "in_review"},
        {"status": "rejected"},
        "Claims need a source",
    )


def test_match_decisions_are_recorded() -> None:
    approved_match, rejected_match = MatchFactory(), MatchFactory()
    staff = staff_user()

    offer = match_approve(match=approved_match, decided_by=staff, reason="good fit")
    match_reject(match=rejected_match, decided_by=staff, reason="off topic")

    approved = only_event(CampaignAuditAction.MATCH_APPROVED)
    assert (approved.actor, approved.target_id, approved.reason) == (staff, str(approved_match.pk), "good fit")
    assert approved.before == {"status": "proposed"}
    assert approved.after == {"status": "approved", "offer_id": offer.pk, "conflict_flags": []}
    assert approved.brand_id == approved_match.campaign.brand_id
    rejected = only_event(CampaignAuditAction.MATCH_REJECTED)
    assert (rejected.before, rejected.after, rejected.reason) == (
        {"status": "proposed"},
        {"status": "rejected"},
        "off topic",
    )


def test_offer_withdrawal_and_decline_are_recorded() -> None:
    withdrawn, declined = OfferFactory(), OfferFactory()
    staff = staff_user()

    offer_withdraw(offer=withdrawn, decided_by=staff, reason="conflict with a competitor")
    offer_decline(offer=declined, influencer=declined.influencer, reason="not my style")

    event = only_event(CampaignAuditAction.OFFER_WITHDRAWN)
    assert (event.actor, event.before, event.after) == (staff, {"status": "new"}, {"status": "withdrawn"})
    event = only_event(CampaignAuditAction.OFFER_DECLINED)
    assert (event.actor, event.before, event.after, event.reason) == (
        declined.influencer.user,
        {"status": "new"},
        {"status": "declined"},
        "not my style",
    )


def test_accepting_an_offer_is_recorded_with_its_shares() -> None:
    campaign = ready_campaign(status=CampaignStatus.APPROVED, networks=["mastodon"])
    person = InfluencerProfileFactory(languages=["en"])
    account = ConnectedAccountFactory(influencer=person, network="mastodon", followers_count=2000)
    offer = match_approve(match=MatchFactory(campaign=campaign, influencer=person), decided_by=None)

    shares = offer_accept(
        offer=offer, influencer=person, account_ids=[account.pk], caption_text=None, scheduled_at=None
    )

    event = only_event(CampaignAuditAction.OFFER_ACCEPTED)
    assert (event.actor, event.target_id, event.brand_id) == (person.user, str(offer.pk), campaign.brand_id)
    assert event.before == {"status": "new"}
    assert event.after == {
        "status": "accepted",
        "share_ids": [share.pk for share in shares],
        "caption_status": "not_required",
    }


def test_caption_decisions_are_recorded() -> None:
    pending = {"caption_status": CaptionStatus.PENDING_APPROVAL, "status": ShareStatus.AWAITING_CAPTION_APPROVAL}
    to_approve, to_change = ShareFactory(**pending), ShareFactory(**pending)
    brand_user = UserFactory()

    share_caption_approve(share=to_approve, approved_by=brand_user)
    share_caption_request_changes(share=to_change, approved_by=brand_user, feedback="Mention the plum")

    event = only_event(CampaignAuditAction.CAPTION_APPROVED)
    assert event.actor == brand_user
    assert event.before == {"caption_status": "pending_approval", "status": "awaiting_caption_approval"}
    assert event.after == {"caption_status": "approved", "status": "ready"}
    event = only_event(CampaignAuditAction.CAPTION_CHANGES_REQUESTED)
    assert (event.before, event.after, event.reason) == (
        {"caption_status": "pending_approval"},
        {"caption_status": "changes_requested"},
        "Mention the plum",
    )


def test_share_hold_release_is_recorded_once() -> None:
    share = ShareFactory()
    hold = ShareHold.objects.create(share=share, reason=HoldReason.REACH_ANOMALY)
    staff = staff_user()

    share_hold_release(hold=hold, released_by=staff)
    share_hold_release(hold=hold, released_by=staff)  # already released: nothing changes, nothing recorded

    event = only_event(CampaignAuditAction.SHARE_HOLD_RELEASED)
    assert event.before["released_at"] is None
    assert event.after["released_at"] is not None
    assert event.brand_id == share.campaign.brand_id


# --- money --------------------------------------------------------------------------------


def test_funding_is_recorded_once_per_top_up() -> None:
    brand = BrandFactory()
    staff = staff_user()

    for _replay in range(2):
        brand_fund(
            brand=brand,
            amount_minor=12_345,
            currency="EUR",
            source=FundingSource.BANK_TRANSFER,
            reference="T-1",
            recorded_by=staff,
        )

    event = only_event(PayoutAuditAction.FUNDING_CONFIRMED)
    assert (event.category, event.actor, event.brand_id) == (AuditCategory.MONEY, staff, brand.pk)
    assert event.before == {"status": None}
    assert event.after["amount_minor"] == 12_345
    assert event.after["status"] == "completed"


def test_refund_and_reversal_are_recorded() -> None:
    brand = BrandFactory()
    staff = staff_user()
    brand_fund(brand=brand, amount_minor=10_000, currency="EUR", source="bank_transfer", reference="T-2")

    refunded = brand_refund(brand=brand, amount_minor=1_000, currency="EUR", reference="R-1", recorded_by=staff)
    reversal = ledger_transaction_reverse(ledger_transaction=refunded, reason="typo", recorded_by=staff)

    refund = only_event(PayoutAuditAction.REFUND_BOOKED)
    assert refund.after == {"amount_minor": 1_000, "currency": "EUR", "reference": "R-1"}
    reversed_event = only_event(PayoutAuditAction.LEDGER_REVERSED)
    assert (reversed_event.target_id, reversed_event.reason) == (str(refunded.pk), "typo")
    assert reversed_event.before["reversed_by"] is None
    assert reversed_event.after["reversed_by"] == reversal.pk


def test_budget_release_is_recorded() -> None:
    campaign = funded_campaign(budget=10_000)

    campaign_budget_release(campaign=campaign)
    campaign_budget_release(campaign=campaign)  # released already: nothing moves, nothing recorded

    event = only_event(BudgetAuditAction.BUDGET_RELEASED)
    assert event.before == {"reserved_minor": 10_000}
    assert event.after == {"reserved_minor": 0, "released_minor": 10_000, "currency": "EUR"}


def _available_money(person: Any) -> None:
    campaign = funded_campaign(budget=100_000)
    now = timezone.now()
    earnings_accrue(delta=delta(campaign, person, "w1", share=f"s-{person.pk}", engagements=500), now=now)
    earnings_release_due(now=now + timedelta(days=15))  # EUR 50.00 available


def test_payout_life_is_recorded_and_the_iban_is_masked() -> None:
    person = influencer()
    _available_money(person)
    staff = staff_user()

    destination = as_request_of(
        person.user,
        lambda: payout_destination_add(influencer=person, kind="sepa", holder_name="Lena Berger", iban=IBAN),
    )
    payout = as_request_of(
        person.user,
        lambda: payout_request(influencer=person, amount_minor=3_000, currency="EUR", destination=destination),
    )
    payout_approve(payout=payout, reviewed_by=staff)
    payout_mark_sent(payout=payout, provider_reference="SEPA-1")
    payout_mark_failed(payout=payout, reason="account closed")

    added = only_event(PayoutAuditAction.PAYOUT_DESTINATION_ADDED)
    assert added.actor == person.user
    assert added.after["iban"] == "••••3201"
    assert (added.request_id, added.ip_address) == ("req-42", "203.0.113.7")
    everything = json.dumps([[e.before, e.after, e.target_label] for e in AuditEvent.objects.all()])
    assert IBAN not in everything
    requested = only_event(PayoutAuditAction.PAYOUT_REQUESTED)
    assert requested.actor == person.user
    assert requested.before == {"available_minor": 5_000}
    assert requested.after["available_minor"] == 2_000
    assert requested.after["status"] == PayoutStatus.REQUESTED
    approved = only_event(PayoutAuditAction.PAYOUT_APPROVED)
    assert (approved.actor, approved.before, approved.after["status"]) == (staff, {"status": "requested"}, "approved")
    sent = only_event(PayoutAuditAction.PAYOUT_SENT)
    assert (sent.actor, sent.after["provider_reference"]) == (None, "SEPA-1")  # the worker: no person
    failed = only_event(PayoutAuditAction.PAYOUT_FAILED)
    assert (failed.before, failed.after["status"], failed.reason) == ({"status": "sent"}, "failed", "account closed")


def test_a_top_up_rolled_back_with_its_request_leaves_no_event() -> None:
    brand = BrandFactory()

    def fund_then_fail() -> None:
        with transaction.atomic():
            brand_fund(brand=brand, amount_minor=1_000, currency="EUR", source="card", reference="rb-1")
            assert AuditEvent.objects.filter(action=PayoutAuditAction.FUNDING_CONFIRMED).count() == 1
            raise RuntimeError("the response could not be sent")

    with pytest.raises(RuntimeError):
        fund_then_fail()

    assert not AuditEvent.objects.exists()


def test_payout_rejection_is_recorded() -> None:
    person = influencer()
    _available_money(person)
    destination = payout_destination_add(influencer=person, kind="sepa", holder_name="Lena Berger", iban=IBAN)
    payout = payout_request(influencer=person, amount_minor=3_000, currency="EUR", destination=destination)
    staff = staff_user()

    payout_reject(payout=payout, reviewed_by=staff, reason="unverified holder")

    event = only_event(PayoutAuditAction.PAYOUT_REJECTED)
    assert (event.actor, event.before, event.after["status"], event.reason) == (
        staff,
        {"status": "requested"},
        "rejected",
        "unverified holder",
    )


# --- permissions --------------------------------------------------------------------------


def test_role_change_records_the_signed_in_user_as_actor() -> None:
    owner = MembershipFactory(role=BrandRole.OWNER)
    member = MembershipFactory(brand=owner.brand, role=BrandRole.ANALYST)

    as_request_of(owner.user, lambda: membership_role_change(membership=member, role=BrandRole.MANAGER))
    membership_role_change(membership=member, role=BrandRole.MANAGER)  # no change, nothing recorded

    event = only_event(BrandAuditAction.MEMBERSHIP_ROLE_CHANGED)
    assert (event.category, event.actor, event.brand_id) == (AuditCategory.PERMISSION, owner.user, owner.brand_id)
    assert event.before == {"user_id": member.user_id, "role": "analyst"}
    assert event.after == {"user_id": member.user_id, "role": "manager"}


def test_a_refused_role_change_leaves_no_event() -> None:
    last_owner = MembershipFactory(role=BrandRole.OWNER)

    with pytest.raises(LastOwnerError):
        membership_role_change(membership=last_owner, role=BrandRole.ANALYST)

    assert not AuditEvent.objects.exists()


def test_a_change_rolled_back_by_the_caller_leaves_no_event() -> None:
    owner = MembershipFactory(role=BrandRole.OWNER)
    member = MembershipFactory(brand=owner.brand, role=BrandRole.ANALYST)

    def change_then_fail() -> None:
        with transaction.atomic():
            membership_role_change(membership=member, role=BrandRole.OWNER)
            raise RuntimeError("something later in the same request failed")

    with pytest.raises(RuntimeError):
        change_then_fail()

    member.refresh_from_db()
    assert member.role == BrandRole.ANALYST
    assert not AuditEvent.objects.exists()


def test_leaving_a_brand_is_recorded() -> None:
    owner = MembershipFactory(role=BrandRole.OWNER)
    member = MembershipFactory(brand=owner.brand, role=BrandRole.MANAGER)
    member_pk = member.pk

    as_request_of(member.user, lambda: membership_remove(membership=member))

    event = only_event(BrandAuditAction.MEMBERSHIP_REMOVED)
    assert (event.target_id, event.actor) == (str(member_pk), member.user)
    assert event.before == {"user_id": member.user_id, "role": "manager"}
    assert event.after == {}
    assert not Membership.objects.filter(pk=member_pk).exists()


def test_accepting_an_invitation_is_recorded() -> None:
    invitation = InvitationFactory(role=BrandRole.ANALYST)
    invitee = UserFactory(email=invitation.email)

    membership = invitation_accept(invitation=invitation, user=invitee)

    event = only_event(BrandAuditAction.INVITATION_ACCEPTED)
    assert event.actor == invitee
    assert event.before == {"status": "pending", "member": False}
    assert event.after["membership_id"] == membership.pk
    assert event.after["role"] == "analyst"
    assert "nonce" not in json.dumps(event.after)


def test_mfa_changes_are_recorded() -> None:
    user: User = UserFactory.create(is_staff=True)
    request = RequestFactory().post("/")
    request.user = user
    authenticator = Authenticator(user=user, type=Authenticator.Type.TOTP, data={})

    mfa_signals.authenticator_added.send(sender=Authenticator, request=request, user=user, authenticator=authenticator)
    mfa_signals.authenticator_removed.send(
        sender=Authenticator, request=request, user=user, authenticator=authenticator
    )

    for action in (AccountAuditAction.MFA_ADDED, AccountAuditAction.MFA_REMOVED):
        event = only_event(action)
        assert (event.actor, event.target_id, event.after) == (user, str(user.pk), {"authenticator": "totp"})


# --- the record itself ------------------------------------------------------------------


def test_secrets_are_never_stored() -> None:
    target = BrandFactory()
    with transaction.atomic():
        event = audit_record(
            action=AccountAuditAction.USER_PERMISSIONS_CHANGED,
            target=target,
            before={"access_token": "abc123", "nested": {"client_secret": "s3cr3t"}},
            after={"iban": IBAN, "role": "owner"},
        )

    event.refresh_from_db()
    assert event.before == {"access_token": "[redacted]", "nested": {"client_secret": "[redacted]"}}
    assert event.after == {"iban": "••••3201", "role": "owner"}


@pytest.mark.django_db(transaction=True)
def test_recording_outside_a_transaction_is_refused() -> None:
    with pytest.raises(RuntimeError):
        audit_record(action=AccountAuditAction.MFA_ADDED, target=BrandFactory())


def test_the_database_refuses_to_change_or_delete_events() -> None:
    with transaction.atomic():
        audit_record(action=AccountAuditAction.MFA_ADDED, target=BrandFactory(), reason="original")
    event = AuditEvent.objects.get()

    for statement in (
        "UPDATE platform_auditevent SET reason = 'forged' WHERE id = %s",
        "DELETE FROM platform_auditevent WHERE id = %s",
    ):
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(statement, [event.pk])
    event.refresh_from_db()
    assert event.reason == "original"


# --- admin --------------------------------------------------------------------------------


@pytest.fixture
def staff_client(settings: Any) -> tuple[Client, User]:
    settings.STAFF_MFA_REQUIRED = False  # staff MFA is covered in accounts/tests; here we test the admin pages
    user = staff_user()
    client = Client()
    client.force_login(user)
    return client, user


def test_admin_lists_filters_and_searches_events(staff_client: tuple[Client, User]) -> None:
    client, _user = staff_client
    campaign = ready_campaign(status=CampaignStatus.IN_REVIEW, name="Autumn roast")
    reviewer = staff_user()
    campaign_reject(campaign=campaign, reviewed_by=reviewer, reason="Claims need a source")
    brand_fund(brand=BrandFactory(), amount_minor=500, currency="EUR", source="card", reference="x1")
    url = reverse("admin:platform_auditevent_changelist")

    def listed(**query: str) -> set[str]:
        response = client.get(url, query)
        assert response.status_code == 200
        return {event.action for event in response.context["cl"].result_list}

    everything = client.get(url).content.decode()

    assert "Autumn roast" in everything
    assert "Claims need a source" in everything
    assert listed() == {CampaignAuditAction.CAMPAIGN_REJECTED, PayoutAuditAction.FUNDING_CONFIRMED}
    assert listed(category__exact="moderation") == {CampaignAuditAction.CAMPAIGN_REJECTED}
    assert listed(action__exact="funding.confirmed") == {PayoutAuditAction.FUNDING_CONFIRMED}
    assert listed(q="Claims need") == {CampaignAuditAction.CAMPAIGN_REJECTED}
    assert listed(actor__id__exact=str(reviewer.pk)) == {CampaignAuditAction.CAMPAIGN_REJECTED}


def test_admin_refuses_to_add_change_or_delete_events(staff_client: tuple[Client, User]) -> None:
    client, _user = staff_client
    with transaction.atomic():
        event = audit_record(action=AccountAuditAction.MFA_ADDED, target=BrandFactory(), reason="original")
    change_url = reverse("admin:platform_auditevent_change", args=[event.pk])

    page = client.get(change_url)
    posted = client.post(change_url, {"reason": "forged"})
    deleted = client.post(reverse("admin:platform_auditevent_delete", args=[event.pk]), {"post": "yes"})
    added = client.get(reverse("admin:platform_auditevent_add"))
    bulk = client.post(
        reverse("admin:platform_auditevent_changelist"),
        {"action": "delete_selected", "_selected_action": [event.pk], "post": "yes"},
    )

    assert page.status_code == 200
    assert 'name="_save"' not in page.content.decode()  # view-only
    assert posted.status_code == 403
    assert deleted.status_code == 403
    assert added.status_code == 403
    assert bulk.status_code in (200, 302)  # "no action selected": the delete action does not exist
    event.refresh_from_db()
    assert event.reason == "original"
    assert AuditEvent.objects.count() == 1


def test_staff_flag_changes_in_the_admin_are_recorded(staff_client: tuple[Client, User]) -> None:
    client, admin_user = staff_client
    user = UserFactory(is_staff=False)
    url = reverse("admin:accounts_user_change", args=[user.pk])
    form = {
        "email": user.email,
        "full_name": user.full_name,
        "preferred_language": "",
        "is_active": "on",
        "is_staff": "on",
        "last_login_0": "",
        "last_login_1": "",
        "date_joined_0": user.date_joined.strftime("%Y-%m-%d"),
        "date_joined_1": user.date_joined.strftime("%H:%M:%S"),
    }

    response = client.post(url, form)

    assert response.status_code == 302, response.content.decode()[:2000]
    event = only_event(AccountAuditAction.USER_PERMISSIONS_CHANGED)
    assert (event.actor, event.target_id) == (admin_user, str(user.pk))
    assert (event.before, event.after) == ({"is_staff": False}, {"is_staff": True})
