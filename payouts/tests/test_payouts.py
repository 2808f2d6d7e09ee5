"""Payout requests, review, batches through the SEPA / PayPal / Stripe providers, failures and returns."""

from __future__ import annotations

from datetime import timedelta
from xml.etree import ElementTree as ET

import pytest
from django.utils import timezone

from campaigns.earnings.services import earnings_accrue, earnings_release_due
from payouts import selectors
from payouts.errors import BelowMinimumPayout, InsufficientFunds, InvalidDestination
from payouts.models import AccountKind, PayoutStatus
from payouts.providers.sepa import iban_clean
from payouts.services.batches import payout_batch_execute, payout_batches_run
from payouts.services.destinations import payout_destination_add
from payouts.services.payouts import payout_approve, payout_mark_failed, payout_reject, payout_request
from payouts.tests.helpers import delta, funded_campaign, influencer
from tests.factories.payouts import CharityFactory

pytestmark = pytest.mark.django_db

NS = {"p": "urn:iso:std:iso:20022:tech:xsd:pain.001.001.03"}


def _earned_available(person, engagements=500):
    campaign = funded_campaign(budget=100_000)
    now = timezone.now()
    earnings_accrue(delta=delta(campaign, person, "w1", share=f"s-{person.pk}", engagements=engagements), now=now)
    earnings_release_due(now=now + timedelta(days=15))
    return campaign


def _balances(person):
    return tuple(
        selectors.influencer_balance_minor(influencer=person, kind=kind)
        for kind in (AccountKind.INFLUENCER_AVAILABLE, AccountKind.PAYOUTS_IN_FLIGHT)
    )


def _iban(person):
    return payout_destination_add(
        influencer=person, kind="sepa", holder_name="Lena Berger", iban="AT61 1904 3002 3457 3201"
    )


def test_iban_check_digits():
    """schwifty checks the check digits and each country's length and format (more in test_destination_providers)."""
    assert iban_clean("DE89 3704 0044 0532 0130 00") == "DE89370400440532013000"
    assert iban_clean("at611904300234573201") == "AT611904300234573201"
    for wrong in ("DE89 3704 0044 0532 0130 01", "DE89", "DE8512345678901234"):
        with pytest.raises(InvalidDestination):
            iban_clean(wrong)
    with pytest.raises(InvalidDestination):
        payout_destination_add(influencer=influencer(), kind="sepa", holder_name="X", iban="AT611904300234573202")


def test_request_sets_money_aside_and_refuses_below_minimum_or_balance():
    person = influencer()
    _earned_available(person, engagements=500)  # EUR 50.00 available
    destination = _iban(person)
    with pytest.raises(BelowMinimumPayout):
        payout_request(influencer=person, amount_minor=1_999, currency="EUR", destination=destination)
    with pytest.raises(InsufficientFunds) as error:
        payout_request(influencer=person, amount_minor=6_000, currency="EUR", destination=destination)
    assert "€10.00" in str(error.value)
    payout_request(influencer=person, amount_minor=3_000, currency="EUR", destination=destination)
    assert _balances(person) == (2_000, 3_000)


def test_someone_elses_destination_is_refused():
    person, other = influencer(), influencer()
    _earned_available(person)
    with pytest.raises(InvalidDestination):
        payout_request(influencer=person, amount_minor=2_000, currency="EUR", destination=_iban(other))


def test_sepa_batch_produces_a_pain001_file_and_marks_payouts_sent():
    person = influencer()
    _earned_available(person)
    payout = payout_request(influencer=person, amount_minor=2_550, currency="EUR", destination=_iban(person))
    charity = CharityFactory(name="Tierschutz Linz")
    donation = payout_request(influencer=person, amount_minor=2_000, currency="EUR", charity=charity)
    for item in (payout, donation):
        payout_approve(payout=item, reviewed_by=None)
    [batch] = payout_batches_run()
    root = ET.fromstring(batch.document.split("\n", 1)[1])  # noqa: S314 - our own generated file
    assert root.find("p:CstmrCdtTrfInitn/p:GrpHdr/p:NbOfTxs", NS).text == "2"
    assert root.find("p:CstmrCdtTrfInitn/p:GrpHdr/p:CtrlSum", NS).text == "45.50"
    amounts = [el.text or "" for el in root.iterfind(".//p:CdtTrfTxInf/p:Amt/p:InstdAmt", NS)]
    assert sorted(amounts) == ["20.00", "25.50"]
    creditors = {el.text for el in root.iterfind(".//p:CdtTrfTxInf/p:Cdtr/p:Nm", NS)}
    assert creditors == {"Lena Berger", "Tierschutz Linz"}
    payout.refresh_from_db()
    assert payout.status == PayoutStatus.SENT
    assert _balances(person) == (450, 0)
    assert selectors.earnings_statement_get_for_influencer(influencer=person).paid_minor == 4_550


def test_rejected_and_returned_payouts_go_back_to_the_balance():
    person = influencer()
    _earned_available(person)
    destination = _iban(person)
    rejected = payout_request(influencer=person, amount_minor=2_000, currency="EUR", destination=destination)
    payout_reject(payout=rejected, reviewed_by=None, reason="suspicious")
    assert _balances(person) == (5_000, 0)
    sent = payout_request(influencer=person, amount_minor=2_000, currency="EUR", destination=destination)
    payout_approve(payout=sent, reviewed_by=None)
    payout_batches_run()
    assert _balances(person) == (3_000, 0)
    payout_mark_failed(payout=sent, reason="account closed")
    payout_mark_failed(payout=sent, reason="account closed")  # twice: books once
    assert _balances(person) == (5_000, 0)


def test_paypal_payouts_go_over_http_and_failed_items_are_reversed(provider_double):
    ok, failing = influencer(), influencer()
    for person in (ok, failing):
        _earned_available(person)
    provider_double.failing_receivers.add("nobody@example.test")
    good = payout_request(
        influencer=ok,
        amount_minor=2_345,
        currency="EUR",
        destination=payout_destination_add(influencer=ok, kind="paypal", paypal_email="Lena@Example.test"),
    )
    bad = payout_request(
        influencer=failing,
        amount_minor=2_000,
        currency="EUR",
        destination=payout_destination_add(influencer=failing, kind="paypal", paypal_email="nobody@example.test"),
    )
    for payout in (good, bad):
        payout_approve(payout=payout, reviewed_by=None)
    [batch] = payout_batches_run()
    [create] = provider_double.calls("/v1/payments/payouts")[:1]
    body = create.json()
    assert body["sender_batch_header"]["sender_batch_id"] == batch.message_id
    assert {item["amount"]["value"] for item in body["items"]} == {"23.45", "20.00"}
    good.refresh_from_db()
    bad.refresh_from_db()
    assert (good.status, bad.status) == (PayoutStatus.SENT, PayoutStatus.FAILED)
    assert "unregistered" in bad.failure_reason
    assert _balances(failing) == (5_000, 0)
    assert _balances(ok) == (5_000 - 2_345, 0)


def test_stripe_connect_transfers_carry_idempotency_keys(provider_double):
    person = influencer()
    _earned_available(person)
    payout = payout_request(
        influencer=person,
        amount_minor=2_000,
        currency="EUR",
        destination=payout_destination_add(influencer=person, kind="stripe", stripe_account="acct_1Lena"),
    )
    payout_approve(payout=payout, reviewed_by=None)
    [batch] = payout_batches_run()
    payout_batch_execute(batch=batch)  # a re-run sends nothing new
    [transfer] = provider_double.calls("/v1/transfers")
    assert transfer.headers["Idempotency-Key"] == f"payout-{payout.pk}"
    assert transfer.form() == {
        "amount": "2000",
        "currency": "eur",
        "destination": "acct_1Lena",
        "transfer_group": batch.message_id,
        "description": f"Linkilike payout {payout.pk}",
    }
    payout.refresh_from_db()
    assert payout.status == PayoutStatus.SENT
    assert payout.provider_reference.startswith("tr_test_")


def test_several_influencers_sharing_one_iban_are_flagged():
    first, second, third = influencer(), influencer(), influencer()
    _iban(first)
    _iban(second)
    payout_destination_add(influencer=third, kind="sepa", holder_name="T", iban="DE89370400440532013000")
    assert selectors.destination_sharing_counts() == {"iban:AT611904300234573201": 2}


def test_a_batch_whose_provider_was_down_is_sent_on_the_next_run(provider_double, settings):
    from payouts.errors import ProviderError

    person = influencer()
    _earned_available(person)
    payout = payout_request(
        influencer=person,
        amount_minor=2_000,
        currency="EUR",
        destination=payout_destination_add(influencer=person, kind="paypal", paypal_email="l@x.test"),
    )
    payout_approve(payout=payout, reviewed_by=None)
    reachable = settings.PAYPAL_API_BASE
    settings.PAYPAL_API_BASE = "http://127.0.0.1:9"  # nothing listens there
    with pytest.raises(ProviderError) as error:
        payout_batches_run()
    assert error.value.retryable
    payout.refresh_from_db()
    assert (payout.status, _balances(person)) == (PayoutStatus.APPROVED, (3_000, 2_000))
    settings.PAYPAL_API_BASE = reachable
    [batch] = payout_batches_run()
    payout.refresh_from_db()
    assert (payout.status, payout.batch_id) == (PayoutStatus.SENT, batch.pk)
    assert len(provider_double.calls("/v1/payments/payouts")) == 2  # create + status, once
