"""Issue "What people see" 22: the admin as staff meet it.

One "Accounts" section, an index that says what waits for staff (with counts and links to filtered
lists) and where the email previews are, a match queue whose campaign and status columns stay on
screen, currencies chosen from a list, a funding message in words, and brand memberships changed only
through the services that keep a brand's last owner.
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from brands.models import Brand, BrandRole, Membership
from campaigns.earnings.services import earnings_accrue, earnings_release_due
from campaigns.matching.admin import MatchAdmin
from campaigns.models import CampaignStatus, HoldReason, Share, ShareHold
from linkilike.models import AuditEvent
from payouts.models import Funding
from payouts.services.destinations import payout_destination_add
from payouts.services.payouts import payout_request
from payouts.tests.helpers import delta, funded_campaign, influencer
from tests.factories.accounts import UserFactory
from tests.factories.brands import BrandFactory, MembershipFactory
from tests.factories.campaigns import MatchFactory, OfferFactory, ready_campaign
from tests.factories.networks import ConnectedAccountFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff(settings: Any) -> Client:
    settings.STAFF_MFA_REQUIRED = False
    client = Client()
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    return client


def _text(response: Any) -> str:
    return re.sub(r"\s+", " ", response.content.decode())


def test_the_index_has_one_accounts_section(staff: Client) -> None:
    html = staff.get(reverse("admin:index")).content.decode()
    captions = re.findall(r"<caption>\s*<a[^>]*>([^<]+)</a>", html)

    assert len(captions) == len(set(captions)), captions
    assert "Accounts" in captions  # django-allauth's e-mail addresses keep the name


def _payout_waiting() -> None:
    person = influencer()
    campaign = funded_campaign(budget=100_000)
    now = timezone.now()
    earnings_accrue(delta=delta(campaign, person, "w1", share="s-1", engagements=500), now=now)
    earnings_release_due(now=now + timedelta(days=15))
    destination = payout_destination_add(
        influencer=person, kind="sepa", holder_name="Lena Berger", iban="AT61 1904 3002 3457 3201"
    )
    payout_request(influencer=person, amount_minor=3_000, currency="EUR", destination=destination)


def _share_on_hold() -> None:
    offer = OfferFactory(status="accepted")
    share = Share.objects.create(
        offer=offer,
        campaign=offer.campaign,
        influencer=offer.influencer,
        connected_account=ConnectedAccountFactory(influencer=offer.influencer),
        caption_text="#ad text https://linkilike.app/t/AbCdEf12",
    )
    ShareHold.objects.create(share=share, reason=HoldReason.choices[0][0])


def test_the_index_says_what_waits_for_staff_with_links_to_filtered_lists(staff: Client) -> None:
    ready_campaign(status=CampaignStatus.IN_REVIEW)
    ready_campaign(status=CampaignStatus.IN_REVIEW)
    MatchFactory(status="proposed")
    _share_on_hold()
    _payout_waiting()

    text = _text(staff.get(reverse("admin:index")))

    expected = {
        "campaigns to review": (2, reverse("admin:campaigns_campaign_changelist") + "?status__exact=in_review"),
        "match to moderate": (1, reverse("admin:campaigns_match_changelist") + "?status__exact=proposed"),
        "share on hold": (1, reverse("admin:campaigns_sharehold_changelist") + "?released_at__isempty=1"),
        "payout to approve": (1, reverse("admin:payouts_payoutrequest_changelist") + "?status__exact=requested"),
    }
    for label, (count, url) in expected.items():
        found = re.search(rf'<a href="{re.escape(url)}"[^>]*>\s*<strong[^>]*>(\d+)</strong>\s*{label}', text)
        assert found, (label, url)
        assert int(found.group(1)) == count, label
        # The filtered list opens (an unknown filter would bounce to ?e=1).
        listing = staff.get(url)
        assert listing.status_code == 200, url  # an unknown filter would redirect to ?e=1
    assert f'href="{reverse("email-previews")}"' in text


def test_the_match_queue_leads_with_influencer_campaign_and_status() -> None:
    columns = list(MatchAdmin.list_display)

    assert columns[:3] == ["influencer", "campaign_brand", "status"]
    assert len(columns) <= 5


def test_currency_is_chosen_from_a_list_in_admin_forms(staff: Client) -> None:
    brand = BrandFactory()
    pages = {
        "brand": staff.get(reverse("admin:brands_brand_change", args=[brand.pk])),
        "funding": staff.get(reverse("admin:payouts_funding_add")),
        "campaign": staff.get(
            reverse("admin:campaigns_campaign_change", args=[ready_campaign(status=CampaignStatus.IN_REVIEW).pk])
        ),
    }
    for name, page in pages.items():
        assert re.search(r'<select name="currency"', page.content.decode()), name


def test_recording_a_bank_transfer_says_what_happened_with_the_money_formatted(staff: Client) -> None:
    brand = BrandFactory(name="Nordlicht Tea")

    response = staff.post(
        reverse("admin:payouts_funding_add"),
        {"brand": brand.pk, "reference": "LK-NORDLICHT", "currency": "EUR", "amount": "1000"},
        follow=True,
    )

    text = _text(response)
    assert Funding.objects.filter(brand=brand, amount_minor=100_000).exists()
    assert "Recorded a bank transfer of €1,000.00 from Nordlicht Tea (reference LK-NORDLICHT)" in text
    assert "100000 EUR" not in text
    assert "()" not in text


# --- the last owner -------------------------------------------------------------------------------


def _brand_with_one_owner() -> tuple[Brand, Membership, Membership]:
    brand: Brand = BrandFactory.create(name="Nordlicht Tea")
    owner: Membership = MembershipFactory.create(brand=brand, role=BrandRole.OWNER)
    manager: Membership = MembershipFactory.create(brand=brand, role=BrandRole.MANAGER)
    return brand, owner, manager


def _brand_form(brand: Brand, rows: list[dict[str, Any]]) -> dict[str, Any]:
    data: dict[str, Any] = {
        "name": brand.name,
        "slug": brand.slug,
        "country": brand.country,
        "currency": brand.currency,
        "category": brand.category,
        "website": brand.website,
        "memberships-TOTAL_FORMS": str(len(rows)),
        "memberships-INITIAL_FORMS": str(len(rows)),
        "memberships-MIN_NUM_FORMS": "0",
        "memberships-MAX_NUM_FORMS": "1000",
    }
    for index, row in enumerate(rows):
        for key, value in row.items():
            data[f"memberships-{index}-{key}"] = value
    return data


def _row(membership: Membership, **changes: Any) -> dict[str, Any]:
    return {
        "id": membership.pk,
        "brand": membership.brand_id,
        "user": membership.user_id,
        "role": membership.role,
        **changes,
    }


def test_brand_inline_cannot_demote_or_remove_the_last_owner(staff: Client) -> None:
    brand, owner, manager = _brand_with_one_owner()
    url = reverse("admin:brands_brand_change", args=[brand.pk])

    demoted = staff.post(url, _brand_form(brand, [_row(owner, role=BrandRole.MANAGER), _row(manager)]), follow=True)
    removed = staff.post(url, _brand_form(brand, [_row(owner, DELETE="on"), _row(manager)]), follow=True)

    owner.refresh_from_db()
    assert owner.role == BrandRole.OWNER
    assert "A brand needs at least one owner" in _text(demoted)
    assert "The last owner cannot leave or be removed" in _text(removed)


def test_brand_inline_changes_go_through_the_services(staff: Client) -> None:
    brand, owner, manager = _brand_with_one_owner()
    url = reverse("admin:brands_brand_change", args=[brand.pk])

    # Promote the manager and demote the old owner in one save: allowed, the brand keeps an owner.
    staff.post(url, _brand_form(brand, [_row(owner, role=BrandRole.MANAGER), _row(manager, role=BrandRole.OWNER)]))

    assert {m.pk: m.role for m in Membership.objects.filter(brand=brand)} == {
        owner.pk: BrandRole.MANAGER,
        manager.pk: BrandRole.OWNER,
    }
    assert AuditEvent.objects.filter(action="membership.role_changed").count() == 2


def test_membership_admin_refuses_to_delete_or_demote_the_last_owner(staff: Client) -> None:
    brand, owner, _manager = _brand_with_one_owner()

    deleted = staff.post(reverse("admin:brands_membership_delete", args=[owner.pk]), {"post": "yes"}, follow=True)
    bulk = staff.post(
        reverse("admin:brands_membership_changelist"),
        {"action": "delete_selected", ACTION_CHECKBOX_NAME: [owner.pk], "post": "yes"},
        follow=True,
    )
    demoted = staff.post(
        reverse("admin:brands_membership_change", args=[owner.pk]),
        {"user": owner.user_id, "brand": brand.pk, "role": BrandRole.ANALYST},
        follow=True,
    )

    owner.refresh_from_db()
    assert owner.role == BrandRole.OWNER
    for response in (deleted, bulk):
        assert "The last owner cannot leave or be removed" in _text(response)
        assert "deleted successfully" not in _text(response).lower()
    assert "A brand needs at least one owner" in _text(demoted)


def test_membership_admin_removes_a_manager_through_the_service(staff: Client) -> None:
    _brand, _owner, manager = _brand_with_one_owner()

    staff.post(reverse("admin:brands_membership_delete", args=[manager.pk]), {"post": "yes"})

    assert not Membership.objects.filter(pk=manager.pk).exists()
    assert AuditEvent.objects.filter(action="membership.removed").count() == 1
