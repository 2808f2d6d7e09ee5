"""The payout-account form: a method first, then only that method's fields, messages in words, Stripe Connect.

Without JavaScript the method choice is a server round trip (``?method=``); with it, the static module
``js/payout-account.js`` shows the chosen method's fields at once. Either way the server renders the
same markup: every method's fields in a fieldset, all but the chosen one ``hidden``.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse

from influencers.models import InfluencerProfile
from payouts.providers import payout_provider_names
from tests.factories.influencers import InfluencerProfileFactory

pytestmark = pytest.mark.django_db

FIELDSET = re.compile(r'<fieldset[^>]*data-method="(?P<method>\w+)"[^>]*>')


def _person(client: Client) -> InfluencerProfile:
    person: InfluencerProfile = InfluencerProfileFactory.create()
    client.force_login(person.user)
    return person


def _shown_methods(html: str) -> set[str]:
    return {found["method"] for found in FIELDSET.finditer(html) if " hidden" not in found.group(0)}


def _text(response: Any) -> str:
    return str(response.content.decode())


def test_the_form_asks_for_the_method_first_and_offers_stripe_connect(client: Client) -> None:
    _person(client)
    html = _text(client.get(reverse("payouts:earnings")))
    for value, label in (("sepa", "Bank account (IBAN)"), ("paypal", "PayPal"), ("stripe", "Stripe Connect")):
        assert re.search(rf'<input type="radio"\s+name="method"\s+value="{value}"', html), value
        assert label in html
    assert _shown_methods(html) == set()  # no method chosen: no account fields yet
    assert {found["method"] for found in FIELDSET.finditer(html)} == {"sepa", "paypal", "stripe"}
    assert '<script type="module" src="/static/js/payout-account.js"' in html
    assert "<script>" not in html


@pytest.mark.parametrize("method", ["sepa", "paypal", "stripe"])
def test_choosing_a_method_without_javascript_shows_only_its_fields(client: Client, method: str) -> None:
    _person(client)
    html = _text(client.get(reverse("payouts:earnings") + f"?method={method}"))
    assert _shown_methods(html) == {method}
    assert f'<input type="hidden" name="kind" value="{method}"' in html
    assert re.search(rf'<input type="radio"\s+name="method"\s+value="{method}"[^>]*\schecked', html)


def test_an_unknown_method_in_the_address_chooses_nothing(client: Client) -> None:
    _person(client)
    assert _shown_methods(_text(client.get(reverse("payouts:earnings") + "?method=bitcoin"))) == set()


@pytest.mark.parametrize(
    ("data", "messages", "shown"),
    [
        ({}, ["Choose how you want to be paid."], set()),
        ({"kind": "sepa"}, ["Enter the name of the account holder.", "Enter your IBAN."], {"sepa"}),
        ({"kind": "paypal"}, ["Enter the email address of your PayPal account."], {"paypal"}),
        (
            {"kind": "paypal", "paypal_email": "not-an-address"},
            ["Enter the email address of your PayPal account."],
            {"paypal"},
        ),
        ({"kind": "stripe"}, ["Enter your Stripe account ID."], {"stripe"}),
        (
            {"kind": "stripe", "stripe_account": "1234"},
            ["A Stripe Connect account id looks like acct_1A2b3C."],
            {"stripe"},
        ),
        (
            {"kind": "sepa", "holder_name": "Lena", "iban": "AT61 1904 3002 3457 3209"},
            ["This IBAN is not valid. Check it for typos."],
            {"sepa"},
        ),
    ],
)
def test_missing_or_wrong_fields_are_named_in_words(
    client: Client, data: dict[str, str], messages: list[str], shown: set[str]
) -> None:
    person = _person(client)
    response = client.post(reverse("payouts:destination-add"), data)
    html = _text(response)
    assert response.status_code == 400
    for message in messages:
        assert message in html
    assert "This field is required" not in html
    if data.get("kind") != "sepa" or "iban" not in data:
        assert "This IBAN is not valid" not in html
    assert _shown_methods(html) == shown
    assert not person.payout_destinations.exists()


def test_errors_sit_next_to_their_field(client: Client) -> None:
    _person(client)
    html = _text(client.post(reverse("payouts:destination-add"), {"kind": "sepa", "holder_name": "Lena", "iban": "x"}))
    assert re.search(r'id="id_iban_error"[^>]*>\s*This IBAN is not valid', html)
    assert 'aria-invalid="true"' in html


@pytest.mark.parametrize(
    ("data", "kind", "masked"),
    [
        ({"kind": "sepa", "holder_name": "Lena Berger", "iban": "AT61 1904 3002 3457 3201"}, "sepa", "AT61"),
        ({"kind": "paypal", "paypal_email": "Lena@Example.test"}, "paypal", "PayPal le"),
        ({"kind": "stripe", "stripe_account": "acct_1A2b3C4d"}, "stripe", "Stripe acct_1A2"),
    ],
)
def test_each_method_saves_its_account(client: Client, data: dict[str, str], kind: str, masked: str) -> None:
    person = _person(client)
    response = client.post(reverse("payouts:destination-add"), {**data, "iban": data.get("iban", ""), "bic": ""})
    assert response.status_code == 302
    destination = person.payout_destinations.get()
    assert destination.kind == kind
    assert destination.masked.startswith(masked)
    assert destination.kind in payout_provider_names()


def test_fields_of_other_methods_are_ignored(client: Client) -> None:
    """With JavaScript off, the hidden fieldsets still post (empty or stale): only the chosen method counts."""
    person = _person(client)
    response = client.post(
        reverse("payouts:destination-add"),
        {
            "kind": "paypal",
            "paypal_email": "lena@example.test",
            "iban": "garbage",
            "holder_name": "",
            "stripe_account": "x",
        },
    )
    assert response.status_code == 302
    destination = person.payout_destinations.get()
    assert (destination.kind, destination.iban, destination.stripe_account) == ("paypal", "", "")


def test_the_enhancement_is_a_static_module() -> None:
    script = Path(settings.BASE_DIR, "static", "js", "payout-account.js").read_text()
    assert "data-payout-method" in script
    assert "hidden" in script
