"""The SEPA file is valid against the official ISO 20022 schema, and nothing uses a made-up platform account.

The schema (``payouts/providers/schemas/pain.001.001.03.xsd``) is the one the namespace the file declares
names; a bank rejects a file that does not validate, after staff uploaded it and the payouts counted as sent.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from lxml import etree

from payouts.errors import ProviderError
from payouts.providers import sepa
from payouts.providers.base import PayoutBatchRequest, PayoutItem
from payouts.providers.sepa import NAMESPACE, pain001_document
from tests.factories.brands import MembershipFactory

SCHEMA_PATH = Path(sepa.__file__).parent / "schemas" / "pain.001.001.03.xsd"


@pytest.fixture(scope="module")
def schema() -> etree.XMLSchema:
    return etree.XMLSchema(etree.parse(str(SCHEMA_PATH)))


def _batch(*items: PayoutItem) -> PayoutBatchRequest:
    return PayoutBatchRequest(message_id="LK20261201120000ABCD1234", currency="EUR", items=items)


def _item(payout_id: int, **destination: str) -> PayoutItem:
    return PayoutItem(
        payout_id=payout_id,
        amount_minor=2_550 * payout_id,
        currency="EUR",
        name="Zoë Müller-Łukasiewicz & Söhne " * 4,  # longer than the schema's 70 characters
        reference=f"Linkilike payout {payout_id} " * 10,  # longer than 140
        destination=destination,
    )


def _validate(schema: etree.XMLSchema, document: str) -> etree._Element:
    root = etree.fromstring(document.encode())
    assert schema.validate(root), schema.error_log
    return root


def test_the_schema_is_the_one_the_file_declares(schema: etree.XMLSchema) -> None:
    assert etree.parse(str(SCHEMA_PATH)).getroot().get("targetNamespace") == NAMESPACE


def test_a_file_with_and_without_creditor_bics_is_valid(settings: Any, schema: etree.XMLSchema) -> None:
    document = pain001_document(
        _batch(
            _item(1, holder_name="Lena", iban="AT611904300234573201", bic="BKAUATWW"),
            _item(2, holder_name="Mira", iban="DE89370400440532013000", bic=""),
            _item(3, holder_name="Tierschutz", iban="DE89370400440532013000", bic="COBADEFFXXX"),
        ),
        execution_date=date(2026, 12, 1),
    )
    root = _validate(schema, document)
    ns = {"p": NAMESPACE}
    assert root.findtext("p:CstmrCdtTrfInitn/p:GrpHdr/p:CtrlSum", namespaces=ns) == "153.00"
    assert root.findtext("p:CstmrCdtTrfInitn/p:PmtInf/p:DbtrAcct/p:Id/p:IBAN", namespaces=ns) == "AT611904300234573201"


def test_a_file_without_the_platform_bic_is_valid(settings: Any, schema: etree.XMLSchema) -> None:
    settings.PAYOUTS_PLATFORM_BIC = ""
    root = _validate(schema, pain001_document(_batch(_item(1, holder_name="Lena", iban="AT611904300234573201"))))
    assert root.findtext(
        f".//{{{NAMESPACE}}}DbtrAgt/{{{NAMESPACE}}}FinInstnId/{{{NAMESPACE}}}Othr/{{{NAMESPACE}}}Id"
    ) == ("NOTPROVIDED")


def test_the_schema_catches_what_a_bank_would_refuse(schema: etree.XMLSchema) -> None:
    """The test has teeth: a BIC that passes a loose check but not ISO 9362 as the schema has it fails."""
    document = pain001_document(_batch(_item(1, holder_name="Lena", iban="AT611904300234573201", bic="12AUATWW")))
    assert not schema.validate(etree.fromstring(document.encode()))


def test_no_file_without_the_platform_account(settings: Any) -> None:
    settings.PAYOUTS_PLATFORM_IBAN = ""
    with pytest.raises(ProviderError, match="PAYOUTS_PLATFORM_IBAN"):
        pain001_document(_batch(_item(1, holder_name="Lena", iban="AT611904300234573201")))


# --- the funds page shows the platform's account, or says transfers are not available ------------


@pytest.mark.django_db
def test_the_funds_page_shows_the_configured_account(client: Client) -> None:
    membership = MembershipFactory()
    client.force_login(membership.user)
    html = client.get(reverse("payouts:funds", args=[membership.brand.slug])).content.decode()
    assert "AT611904300234573201" in html
    assert "BKAUATWW" in html
    assert "not available" not in html


@pytest.mark.django_db
def test_without_a_platform_iban_the_funds_page_offers_no_transfer(client: Client, settings: Any) -> None:
    settings.PAYOUTS_PLATFORM_IBAN = ""
    settings.PAYOUTS_PLATFORM_BIC = ""
    membership = MembershipFactory()
    client.force_login(membership.user)
    html = client.get(reverse("payouts:funds", args=[membership.brand.slug])).content.decode()
    assert "Funding by bank transfer is not available at the moment. Please pay by card." in html
    assert "bank-details" not in html
    assert "IBAN" not in html
