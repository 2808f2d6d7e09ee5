"""The Funds and Earnings pages, and the staff admin for money, as people use them."""

from __future__ import annotations

import csv
import io
from datetime import timedelta
from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone

from campaigns.earnings.services import earnings_accrue, earnings_release_due
from payouts.models import Funding, PayoutBatch, PayoutRequest, PayoutStatus
from payouts.services.destinations import payout_destination_add
from payouts.services.payouts import payout_request
from payouts.tests.helpers import delta, funded_campaign
from tests.factories.accounts import UserFactory
from tests.factories.brands import MembershipFactory
from tests.factories.payouts import CampaignFactory, CharityFactory

pytestmark = pytest.mark.django_db


def _text(response: Any) -> str:
    return response.content.decode()


def test_funds_page_shows_balance_reservation_and_spend_from_the_ledger(client):
    campaign = funded_campaign(budget=10_000, fund=25_000, name="Spring roast")
    membership = MembershipFactory(brand=campaign.brand)
    from tests.factories.influencers import InfluencerProfileFactory

    earnings_accrue(delta=delta(campaign, InfluencerProfileFactory(), "w1", engagements=100))
    client.force_login(membership.user)
    page = _text(client.get(reverse("payouts:funds", args=[campaign.brand.slug])))
    assert "€150.00" in page  # available: 250 - 100
    assert "€88.50" in page  # still reserved: 100 - 10 - 1.50 fee
    assert "€11.50" in page  # spent: 10 earned + 1.50 fee
    assert "Spring roast" in page
    assert "€1.50" in page  # platform fee column
    assert "Continue to card payment" in page
    assert f"LK-{campaign.brand.slug.upper()}" in page


def test_analysts_see_funds_but_cannot_top_up(client):
    membership = MembershipFactory(role="analyst")
    client.force_login(membership.user)
    page = _text(client.get(reverse("payouts:funds", args=[membership.brand.slug])))
    assert "Only owners of this brand can top up" in page
    assert "Continue to card payment" not in page


def test_funds_nav_item_is_listed(client):
    membership = MembershipFactory()
    client.force_login(membership.user)
    page = _text(client.get(reverse("brands:dashboard", args=[membership.brand.slug])))
    assert reverse("payouts:funds", args=[membership.brand.slug]) in page


def _earning_influencer():
    from tests.factories.influencers import InfluencerProfileFactory

    person = InfluencerProfileFactory()
    campaign = funded_campaign(budget=100_000, name="Alpenglow launch")
    now = timezone.now()
    earnings_accrue(
        delta=delta(
            campaign, person, "2026-05-01/+24h", share=f"share-42-{person.pk}", impressions=10_000, engagements=250
        ),
        now=now - timedelta(days=20),
    )
    earnings_release_due()
    earnings_accrue(delta=delta(campaign, person, "2026-05-02/+72h", share=f"share-42-{person.pk}", unique_clicks=10))
    return person


def test_earnings_page_explains_every_line_and_the_balances(client):
    person = _earning_influencer()
    client.force_login(person.user)
    page = _text(client.get(reverse("payouts:earnings")))
    assert "€85.00" in page  # available: 10,000 x 6.00 / 1000 + 250 x 0.10
    assert "€1.50" in page  # on hold: 10 clicks x 0.15
    assert "10,000 impressions \N{MULTIPLICATION SIGN} €6.00 per 1,000" in page
    assert "250 engagements \N{MULTIPLICATION SIGN} €0.10" in page
    assert "10 unique clicks \N{MULTIPLICATION SIGN} €0.15" in page
    assert f"share-42-{person.pk}" in page
    assert "Alpenglow launch" in page


def test_earnings_csv_export_has_one_row_per_line(client):
    person = _earning_influencer()
    client.force_login(person.user)
    response = client.get(reverse("payouts:earnings-export"))
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert rows[0][0] == "booked"
    assert {(row[5], row[9]) for row in rows[1:]} == {
        ("Impressions / reach", "60.00"),
        ("Engagements", "25.00"),
        ("Unique clicks", "1.50"),
    }


def test_influencer_adds_an_iban_and_requests_a_payout(client):
    person = _earning_influencer()
    client.force_login(person.user)
    bad = client.post(
        reverse("payouts:destination-add"), {"kind": "sepa", "holder_name": "Lena", "iban": "AT61 1904 3002 3457 3209"}
    )
    assert bad.status_code == 400
    assert "not valid" in _text(bad)
    ok = client.post(
        reverse("payouts:destination-add"), {"kind": "sepa", "holder_name": "Lena", "iban": "AT61 1904 3002 3457 3201"}
    )
    assert ok.status_code == 302
    destination = person.payout_destinations.get()
    too_much = client.post(reverse("payouts:earnings"), {"amount": "90", "target": f"d{destination.pk}"})
    assert too_much.status_code == 400
    assert "€85.00 available" in _text(too_much)
    response = client.post(reverse("payouts:earnings"), {"amount": "80", "target": f"d{destination.pk}"})
    assert response.status_code == 302
    payout = PayoutRequest.objects.get()
    assert (payout.amount_minor, payout.status) == (8_000, PayoutStatus.REQUESTED)
    page = _text(client.get(reverse("payouts:earnings")))
    assert "€80.00" in page  # being paid out
    assert "€5.00" in page  # still available


def test_influencer_cannot_target_another_influencers_account(client):
    person = _earning_influencer()
    other = payout_destination_add(
        influencer=_earning_influencer(), kind="sepa", holder_name="X", iban="DE89370400440532013000"
    )
    client.force_login(person.user)
    response = client.post(reverse("payouts:earnings"), {"amount": "50", "target": f"d{other.pk}"})
    assert response.status_code == 400
    assert not PayoutRequest.objects.exists()


def test_donation_to_a_listed_charity(client):
    person = _earning_influencer()
    charity = CharityFactory(name="Tierschutz Linz")
    client.force_login(person.user)
    assert "Donate to Tierschutz Linz" in _text(client.get(reverse("payouts:earnings")))
    client.post(reverse("payouts:earnings"), {"amount": "20", "target": f"c{charity.pk}"})
    assert PayoutRequest.objects.get().charity == charity


@pytest.fixture
def staff_client(client, settings):
    settings.STAFF_MFA_REQUIRED = False
    staff = UserFactory(is_staff=True, is_superuser=True)
    client.force_login(staff)
    return client


def test_staff_record_a_bank_transfer_in_admin(staff_client):
    campaign = CampaignFactory()
    response = staff_client.post(
        reverse("admin:payouts_funding_add"),
        {"brand": campaign.brand.pk, "reference": "BANK-2026-001", "currency": "EUR", "amount": "5000"},
    )
    assert response.status_code == 302
    funding = Funding.objects.get()
    assert (funding.amount_minor, funding.status, funding.source) == (500_000, "completed", "bank_transfer")
    again = staff_client.post(
        reverse("admin:payouts_funding_add"),
        {"brand": campaign.brand.pk, "reference": "BANK-2026-001", "currency": "EUR", "amount": "5000"},
    )
    assert again.status_code == 200  # form error: the reference was already recorded
    assert Funding.objects.count() == 1
    view = staff_client.get(reverse("admin:payouts_funding_change", args=[funding.pk]))
    assert view.status_code == 200
    assert "€5,000.00" in _text(view)


def test_staff_bulk_approve_send_and_download_the_sepa_file(staff_client):
    person = _earning_influencer()
    destination = payout_destination_add(
        influencer=person, kind="sepa", holder_name="Lena Berger", iban="AT611904300234573201"
    )
    payout = payout_request(influencer=person, amount_minor=8_000, currency="EUR", destination=destination)
    changelist = reverse("admin:payouts_payoutrequest_changelist")
    staff_client.post(changelist, {"action": "approve_selected", "_selected_action": [payout.pk]})
    payout.refresh_from_db()
    assert payout.status == PayoutStatus.APPROVED
    staff_client.post(changelist, {"action": "send_approved", "_selected_action": [payout.pk]})
    payout.refresh_from_db()
    assert payout.status == PayoutStatus.SENT
    batch = PayoutBatch.objects.get()
    xml = staff_client.get(reverse("admin:payouts_payoutbatch_document", args=[batch.pk]))
    assert xml["Content-Disposition"].endswith(f'{batch.message_id}.xml"')
    assert b'<InstdAmt Ccy="EUR">80.00</InstdAmt>' in xml.content
    assert b"AT611904300234573201" in xml.content


def test_admin_ledger_pages_and_reconcile_report(staff_client):
    funded_campaign()
    for name in ("ledgeraccount", "ledgertransaction", "ledgerentry", "payoutdestination", "payoutbatch"):
        assert staff_client.get(reverse(f"admin:payouts_{name}_changelist")).status_code == 200
    report = staff_client.get(reverse("admin:payouts_ledgeraccount_reconcile"))
    assert "0 drift" in _text(report)


def test_shared_payout_accounts_are_flagged_in_admin(staff_client):
    first, second = _earning_influencer(), _earning_influencer()
    for person in (first, second):
        payout_destination_add(influencer=person, kind="paypal", paypal_email="same@example.test")
    page = _text(staff_client.get(reverse("admin:payouts_payoutdestination_changelist") + "?shared=yes"))
    assert page.count("shared by 2") == 2


def test_staff_see_a_large_earnings_batch_transaction_as_links_to_its_entries_and_accruals(staff_client):
    """An earnings batch posts one entry per influencer of the campaign (ADR 24): past a hundred entries the
    transaction's page links to them instead of listing them inline, and both lists open filtered."""
    from campaigns.earnings.batch import earnings_accrue_batch
    from payouts.admin import INLINE_ENTRIES_MAX
    from payouts.models import LedgerTransaction, TransactionKind
    from payouts.tests.helpers import delta, funded_campaign, influencer

    campaign = funded_campaign(budget=10_000_000)
    people = [influencer() for _ in range(INLINE_ENTRIES_MAX)]
    earnings_accrue_batch(
        deltas=[delta(campaign, person, "+1h", share=f"s-{person.pk}", engagements=5) for person in people]
    )
    batch = LedgerTransaction.objects.get(kind=TransactionKind.EARNING, campaign=campaign)
    assert batch.entries.count() == INLINE_ENTRIES_MAX + 2  # the reservation, 100 influencers, the fees
    page = staff_client.get(reverse("admin:payouts_ledgertransaction_change", args=[batch.pk]))
    assert page.status_code == 200
    text = _text(page)
    assert "102 entries" in text
    assert "100 accruals" in text
    assert "entries-TOTAL_FORMS" not in page.content.decode()
    entries = staff_client.get(reverse("admin:payouts_ledgerentry_changelist") + f"?transaction__id__exact={batch.pk}")
    assert entries.status_code == 200
    assert entries.context["cl"].result_count == INLINE_ENTRIES_MAX + 2
    accruals = staff_client.get(
        reverse("admin:payouts_earningaccrual_changelist") + f"?ledger_transaction__id__exact={batch.pk}"
    )
    assert accruals.status_code == 200
    assert accruals.context["cl"].result_count == INLINE_ENTRIES_MAX
    # A small transaction (the reservation) still lists its entries on its own page.
    reservation = LedgerTransaction.objects.get(kind=TransactionKind.RESERVATION, campaign=campaign)
    small = staff_client.get(reverse("admin:payouts_ledgertransaction_change", args=[reservation.pk]))
    assert "entries-TOTAL_FORMS" in small.content.decode()
