"""Payout providers own their destinations: fields, validation, display; one registry (the settings).

* IBAN and BIC are checked with schwifty: the country's length and format, the check digits, the SEPA
  area; an 18-character German IBAN (a German one has 22) is refused, as is a BIC the pain.001 schema
  would refuse.
* A provider added with one module and one settings line (``WiseProvider`` below) gets its choice and
  fields on the payout account form, its validation, its storage and its payouts, with nothing else changed.
* The registry is checked at start-up (``payouts.E003``); production needs the money settings (``E002``)
  and a real platform account (``E004``).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import Any, ClassVar

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from campaigns.earnings.services import earnings_accrue, earnings_release_due
from payouts import checks
from payouts.errors import InvalidDestination
from payouts.models import Charity
from payouts.providers.base import (
    CleanDestination,
    DestinationField,
    PayoutBatchRequest,
    PayoutBatchResult,
    PayoutItemResult,
    PayoutProvider,
)
from payouts.providers.sepa import bic_clean, iban_clean
from payouts.services.batches import payout_batches_run
from payouts.services.destinations import payout_destination_add
from payouts.services.payouts import payout_approve, payout_request
from payouts.tests.helpers import delta, funded_campaign, influencer
from tests.factories.influencers import InfluencerProfileFactory

pytestmark = pytest.mark.django_db

WISE = "payouts.tests.test_destination_providers.WiseProvider"


class WiseProvider(PayoutProvider):
    """A provider added later: one module (this class) and one settings line, nothing else."""

    name = "wise"
    label = "Wise transfer"
    destination_label = "Wise"
    destination_fields = (
        DestinationField("wise_email", "Wise email", required_message="Enter your Wise email.", input_type="email"),
    )
    currencies = frozenset({"EUR", "GBP"})
    sent: ClassVar[list[PayoutBatchRequest]] = []

    def destination_clean(self, data: Mapping[str, str]) -> CleanDestination:
        email = super().destination_clean(data).fields["wise_email"].lower()
        if "@" not in email:
            raise InvalidDestination("Enter your Wise email.", field="wise_email")
        return CleanDestination(fields={"wise_email": email}, fingerprint=f"wise:{email}")

    def execute(self, batch: PayoutBatchRequest) -> PayoutBatchResult:
        self.sent.append(batch)
        return PayoutBatchResult(
            provider_reference=batch.message_id,
            items=tuple(PayoutItemResult(payout_id=item.payout_id, ok=True) for item in batch.items),
        )


class NamelessProvider(WiseProvider):
    name = "other"
    destination_fields = (DestinationField("iban", "IBAN"),)


@pytest.fixture
def wise(settings: Any) -> None:
    settings.PAYOUTS_PAYOUT_PROVIDERS = {**settings.PAYOUTS_PAYOUT_PROVIDERS, "wise": WISE}
    WiseProvider.sent.clear()


# --- IBAN and BIC -----------------------------------------------------------------------


def test_a_german_iban_of_18_characters_is_refused_with_the_length_it_needs() -> None:
    with pytest.raises(InvalidDestination) as refused:
        payout_destination_add(influencer=influencer(), kind="sepa", holder_name="Lena", iban="DE8512345678901234")
    assert refused.value.field == "iban"
    assert str(refused.value) == "This IBAN has 18 characters; an IBAN from Germany has 22."


@pytest.mark.parametrize(
    ("iban", "message"),
    [
        ("AT61 1904 3002 3457 3202", "This IBAN is not valid. Check it for typos."),  # check digits
        ("XX61 1904 3002 3457 3201", "An IBAN starts with a country code, like DE or AT."),
        ("DE89 3704 0044 0532 0130 0!", "This IBAN is not valid. Check it for typos."),
        (
            "BR18 0036 0305 0000 1000 9795 493C 1",
            "Bank transfers (SEPA) reach accounts in the SEPA area only; this IBAN is from Brazil.",
        ),
    ],
)
def test_ibans_schwifty_refuses_are_named_in_words(iban: str, message: str) -> None:
    with pytest.raises(InvalidDestination) as refused:
        iban_clean(iban)
    assert message in str(refused.value)


def test_valid_ibans_are_stored_compact_and_in_capitals() -> None:
    assert iban_clean("de89 3704 0044 0532 0130 00") == "DE89370400440532013000"
    destination = payout_destination_add(
        influencer=influencer(), kind="sepa", holder_name=" Lena ", iban="at61 1904 3002 3457 3201", bic="bkauatww"
    )
    assert (destination.holder_name, destination.iban, destination.bic) == ("Lena", "AT611904300234573201", "BKAUATWW")
    assert destination.fingerprint == "iban:AT611904300234573201"
    assert destination.masked == "AT61 •••• 3201"


@pytest.mark.parametrize("bic", ["BKAUATW", "BKAUATWWX", "12AUATWW", "BKAU-ATWW"])
def test_a_bic_the_schema_would_refuse_is_refused(bic: str) -> None:
    with pytest.raises(InvalidDestination) as refused:
        payout_destination_add(
            influencer=influencer(), kind="sepa", holder_name="Lena", iban="AT611904300234573201", bic=bic
        )
    assert refused.value.field == "bic"
    assert "This BIC is not valid" in str(refused.value)


def test_the_bic_is_optional() -> None:
    assert bic_clean("") == ""
    assert bic_clean("cobadeffxxx") == "COBADEFFXXX"


def test_the_form_shows_the_iban_length_next_to_the_field(client: Client) -> None:
    person = InfluencerProfileFactory.create()
    client.force_login(person.user)
    response = client.post(
        reverse("payouts:destination-add"), {"kind": "sepa", "holder_name": "Lena", "iban": "DE85 1234 5678 9012 34"}
    )
    assert response.status_code == 400
    assert "an IBAN from Germany has 22" in response.content.decode()
    assert not person.payout_destinations.exists()


# --- one registry; a provider is one module and one settings line -------------------------


def test_an_unknown_kind_is_refused() -> None:
    with pytest.raises(InvalidDestination) as refused:
        payout_destination_add(influencer=influencer(), kind="bitcoin", iban="AT611904300234573201")
    assert refused.value.field == "kind"


def test_a_provider_added_in_settings_gets_its_choice_fields_storage_and_payouts(client: Client, wise: None) -> None:
    person = InfluencerProfileFactory.create()
    client.force_login(person.user)
    html = client.get(reverse("payouts:earnings") + "?method=wise").content.decode()
    assert 'value="wise"' in html
    assert 'name="wise_email"' in html
    assert 'type="email"' in html

    missing = client.post(reverse("payouts:destination-add"), {"kind": "wise"})
    assert missing.status_code == 400
    assert "Enter your Wise email." in missing.content.decode()

    saved = client.post(reverse("payouts:destination-add"), {"kind": "wise", "wise_email": "Lena@Example.test"})
    assert saved.status_code == 302
    destination = person.payout_destinations.get()
    assert (destination.kind, destination.details, destination.iban) == (
        "wise",
        {"wise_email": "lena@example.test"},
        "",
    )
    assert destination.fields == {"wise_email": "lena@example.test"}

    campaign = funded_campaign(budget=100_000)
    now = timezone.now()
    earnings_accrue(delta=delta(campaign, person, "w1", share="s-wise", engagements=500), now=now)
    earnings_release_due(now=now + timedelta(days=15))
    payout = payout_request(influencer=person, amount_minor=2_500, currency="EUR", destination=destination)
    assert payout.provider == "wise"
    payout_approve(payout=payout, reviewed_by=None)
    [batch] = payout_batches_run()
    [sent] = WiseProvider.sent
    assert [dict(item.destination) for item in sent.items] == [{"wise_email": "lena@example.test"}]
    payout.refresh_from_db()
    assert (payout.status, str(batch)) == ("sent", f"Wise transfer {batch.message_id}")


def test_a_payout_in_a_currency_the_provider_does_not_pay_is_refused_in_its_words(wise: None) -> None:
    destination = payout_destination_add(influencer=influencer(), kind="wise", wise_email="lena@example.test")
    with pytest.raises(InvalidDestination) as refused:
        payout_request(influencer=destination.influencer, amount_minor=2_500, currency="CHF", destination=destination)
    assert str(refused.value) == "Wise transfer pays out in EUR, GBP only, not in CHF."


def test_the_registry_as_configured_is_sound() -> None:
    assert checks.payout_provider_registry() == []


def test_the_registry_check_refuses_a_misnamed_provider_and_a_shared_field(settings: Any) -> None:
    settings.PAYOUTS_PAYOUT_PROVIDERS = {
        **settings.PAYOUTS_PAYOUT_PROVIDERS,
        "wise2": "payouts.tests.test_destination_providers.NamelessProvider",
    }
    messages = [error.msg for error in checks.payout_provider_registry()]
    assert {error.id for error in checks.payout_provider_registry()} == {"payouts.E003"}
    assert any("its name is 'other'" in message for message in messages)
    assert any("both declare the destination field 'iban'" in message for message in messages)


# --- production needs the money settings ----------------------------------------------------


def test_production_without_money_settings_fails_the_deploy_check(settings: Any) -> None:
    settings.DEBUG = False
    settings.PAYOUTS_PLATFORM_IBAN = ""
    settings.PAYPAL_CLIENT_SECRET = " "
    errors = checks.money_settings_present()
    assert {error.id for error in errors} == {"payouts.E002"}
    named = " ".join(error.msg for error in errors)
    assert "PAYOUTS_PLATFORM_IBAN is not set" in named
    assert "PAYPAL_CLIENT_SECRET is not set" in named
    assert "bank_transfer.BankTransferProvider" in named
    assert "sepa.SepaFileProvider" in named


def test_production_with_every_money_setting_passes(settings: Any) -> None:
    settings.DEBUG = False
    settings.STRIPE_SECRET_KEY = "sk_live_x"
    settings.STRIPE_WEBHOOK_SECRET = "whsec_x"
    settings.PAYPAL_CLIENT_ID = "id"
    settings.PAYPAL_CLIENT_SECRET = "secret"
    assert checks.money_settings_present() == []
    assert checks.platform_account_valid() == []


def test_an_invalid_platform_iban_fails_the_deploy_check(settings: Any) -> None:
    settings.PAYOUTS_PLATFORM_IBAN = "DE8512345678901234"
    settings.PAYOUTS_PLATFORM_BIC = "12AUATWW"
    errors = checks.platform_account_valid()
    assert [error.id for error in errors] == ["payouts.E004", "payouts.E004"]
    assert "PAYOUTS_PLATFORM_IBAN is not valid" in errors[0].msg


def test_a_charity_account_is_checked_like_an_influencers() -> None:
    charity = Charity(name="Tierschutz", iban="DE8512345678901234", bic="12AUATWW")
    with pytest.raises(ValidationError) as refused:
        charity.full_clean()
    assert set(refused.value.message_dict) == {"iban", "bic"}
    charity = Charity(name="Tierschutz", iban="de89 3704 0044 0532 0130 00", bic="cobadeffxxx")
    charity.full_clean()
    assert (charity.iban, charity.bic) == ("DE89370400440532013000", "COBADEFFXXX")
