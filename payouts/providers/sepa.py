"""SEPA credit transfer file (ISO 20022 pain.001.001.03) that staff download and upload to the bank.

"Executing" the batch produces the file; each payout counts as sent. A payout the bank
returns later is recorded in admin and reversed (``payout_mark_failed``).

The destination is a bank account: holder, IBAN and an optional BIC, checked with schwifty (the
country's IBAN length and format, the check digits, an account in the SEPA area). The file is tested
against the official XSD in ``schemas/``. The platform's own account (the debtor) comes from
``PAYOUTS_PLATFORM_IBAN`` / ``PAYOUTS_PLATFORM_BIC``; without it no file is produced.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date
from xml.etree import ElementTree as ET

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django_countries import countries
from schwifty import BIC, IBAN, registry
from schwifty.exceptions import InvalidCountryCode, InvalidLength, SchwiftyException

from payouts.errors import InvalidDestination, ProviderError
from payouts.money import money_decimal_string
from payouts.providers.base import (
    DestinationField,
    PayoutBatchRequest,
    PayoutBatchResult,
    PayoutItemResult,
    PayoutProvider,
)

NAMESPACE = "urn:iso:std:iso:20022:tech:xsd:pain.001.001.03"
# SEPA allows the Latin character set; names and texts are trimmed to the schema's lengths.
MAX_NAME = 70
MAX_TEXT = 140
#: The schema's BICIdentifier: stricter than ISO 9362:2022 (whose bank code may hold digits), so a BIC
#: schwifty accepts can still make the bank refuse the file; checked on entry.
BIC_PATTERN = re.compile(r"[A-Z]{6}[A-Z2-9][A-NP-Z0-9]([A-Z0-9]{3})?")


def iban_clean(value: str, *, field: str = "iban") -> str:
    """The IBAN in its compact form (``AT611904300234573201``), or ``InvalidDestination`` saying what is wrong."""
    try:
        iban = IBAN(value)
    except InvalidLength as error:
        compact = re.sub(r"\s", "", value).upper()
        try:
            expected = registry.get_iban_spec(compact[:2]).iban_length
        except SchwiftyException:
            expected = 0
        if expected:
            raise InvalidDestination(
                _("This IBAN has %(length)d characters; an IBAN from %(country)s has %(expected)d.")
                % {"length": len(compact), "country": countries.name(compact[:2]), "expected": expected},
                field=field,
            ) from error
        raise InvalidDestination(_("This IBAN is not valid. Check it for typos."), field=field) from error
    except InvalidCountryCode as error:
        raise InvalidDestination(
            _("An IBAN starts with a country code, like DE or AT. Check the first two letters."), field=field
        ) from error
    except SchwiftyException as error:
        raise InvalidDestination(_("This IBAN is not valid. Check it for typos."), field=field) from error
    if not iban.in_sepa_zone:
        raise InvalidDestination(
            _("Bank transfers (SEPA) reach accounts in the SEPA area only; this IBAN is from %(country)s.")
            % {"country": countries.name(iban.country_code) or iban.country_code},
            field=field,
        )
    return str(iban.compact)


def bic_clean(value: str, *, field: str = "bic") -> str:
    """The BIC in capitals (8 or 11 characters), "" for none, or ``InvalidDestination``."""
    compact = re.sub(r"\s", "", value).upper()
    if not compact:
        return ""
    try:
        bic = str(BIC(compact).compact)
    except SchwiftyException as error:
        raise InvalidDestination(
            _("This BIC is not valid. A BIC has 8 or 11 letters and digits, like BKAUATWW."), field=field
        ) from error
    if not BIC_PATTERN.fullmatch(bic):
        raise InvalidDestination(
            _("This BIC is not valid. A BIC has 8 or 11 letters and digits, like BKAUATWW."), field=field
        )
    return bic


def _sub(parent: ET.Element, tag: str, text: str | None = None, **attributes: str) -> ET.Element:
    element = ET.SubElement(parent, tag, attributes)
    if text is not None:
        element.text = text
    return element


def pain001_document(batch: PayoutBatchRequest, *, execution_date: date | None = None) -> str:
    """The pain.001 file; ``ProviderError`` when the platform's own account is not configured (fail closed)."""
    debtor_name = str(getattr(settings, "PAYOUTS_PLATFORM_ACCOUNT_NAME", "") or "")
    debtor_iban = str(getattr(settings, "PAYOUTS_PLATFORM_IBAN", "") or "")
    debtor_bic = str(getattr(settings, "PAYOUTS_PLATFORM_BIC", "") or "")
    if not debtor_name or not debtor_iban:
        raise ProviderError("PAYOUTS_PLATFORM_ACCOUNT_NAME and PAYOUTS_PLATFORM_IBAN must be set to write a SEPA file")
    total = sum(item.amount_minor for item in batch.items)
    now = timezone.now().replace(microsecond=0)
    root = ET.Element("Document", {"xmlns": NAMESPACE})
    initiation = _sub(root, "CstmrCdtTrfInitn")
    header = _sub(initiation, "GrpHdr")
    _sub(header, "MsgId", batch.message_id)
    _sub(header, "CreDtTm", now.strftime("%Y-%m-%dT%H:%M:%S"))
    _sub(header, "NbOfTxs", str(len(batch.items)))
    _sub(header, "CtrlSum", money_decimal_string(total))
    _sub(_sub(header, "InitgPty"), "Nm", debtor_name[:MAX_NAME])
    info = _sub(initiation, "PmtInf")
    _sub(info, "PmtInfId", f"{batch.message_id}-1")
    _sub(info, "PmtMtd", "TRF")
    _sub(info, "BtchBookg", "true")
    _sub(info, "NbOfTxs", str(len(batch.items)))
    _sub(info, "CtrlSum", money_decimal_string(total))
    _sub(_sub(_sub(info, "PmtTpInf"), "SvcLvl"), "Cd", "SEPA")
    _sub(info, "ReqdExctnDt", (execution_date or timezone.localdate()).isoformat())
    _sub(_sub(info, "Dbtr"), "Nm", debtor_name[:MAX_NAME])
    _sub(_sub(_sub(info, "DbtrAcct"), "Id"), "IBAN", debtor_iban)
    debtor_agent = _sub(_sub(info, "DbtrAgt"), "FinInstnId")
    if debtor_bic:
        _sub(debtor_agent, "BIC", debtor_bic)
    else:
        # SEPA's IBAN-only rule: the agent is "not provided" when the BIC is left out.
        _sub(_sub(debtor_agent, "Othr"), "Id", "NOTPROVIDED")
    _sub(info, "ChrgBr", "SLEV")
    for item in batch.items:
        transfer = _sub(info, "CdtTrfTxInf")
        _sub(_sub(transfer, "PmtId"), "EndToEndId", f"LINKILIKE-PAYOUT-{item.payout_id}")
        _sub(_sub(transfer, "Amt"), "InstdAmt", money_decimal_string(item.amount_minor), Ccy=item.currency)
        if item.destination.get("bic"):
            _sub(_sub(_sub(transfer, "CdtrAgt"), "FinInstnId"), "BIC", item.destination["bic"])
        _sub(_sub(transfer, "Cdtr"), "Nm", item.name[:MAX_NAME])
        _sub(_sub(_sub(transfer, "CdtrAcct"), "Id"), "IBAN", item.destination["iban"])
        _sub(_sub(transfer, "RmtInf"), "Ustrd", item.reference[:MAX_TEXT])
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode")


class SepaFileProvider(PayoutProvider):
    name = "sepa"
    label = gettext_lazy("SEPA credit transfer file")
    destination_label = gettext_lazy("Bank account (IBAN)")
    destination_fields = (
        DestinationField(
            "holder_name",
            gettext_lazy("Account holder"),
            required_message=gettext_lazy("Enter the name of the account holder."),
            help_text=gettext_lazy("The name on the bank account."),
            autocomplete="name",
            private=False,
        ),
        DestinationField(
            "iban",
            gettext_lazy("IBAN"),
            required_message=gettext_lazy("Enter your IBAN."),
            max_length=42,
            clean=iban_clean,
        ),
        DestinationField(
            "bic", gettext_lazy("BIC (optional)"), required=False, max_length=11, private=False, clean=bic_clean
        ),
    )
    #: SEPA credit transfers are euro payments by definition (EPC scheme rulebook).
    currencies = frozenset({"EUR"})
    required_settings = ("PAYOUTS_PLATFORM_ACCOUNT_NAME", "PAYOUTS_PLATFORM_IBAN")

    def destination_fingerprint(self, fields: Mapping[str, str]) -> str:
        # The IBAN identifies the account whatever the provider, as it did before providers owned it.
        return f"iban:{fields['iban']}"

    def destination_masked(self, fields: Mapping[str, str]) -> str:
        iban = fields.get("iban", "")
        return f"{iban[:4]} •••• {iban[-4:]}"

    def destination_described(self, fields: Mapping[str, str]) -> str:
        return f"{_('Bank account (SEPA)')} {self.destination_masked(fields)}"

    def currency_refused_message(self, currency: str) -> str:
        return _(
            "Bank transfers (SEPA) are paid in EUR only. To withdraw your %(currency)s balance, "
            "choose or add a PayPal account."
        ) % {"currency": currency}

    def execute(self, batch: PayoutBatchRequest) -> PayoutBatchResult:
        # payout_request refuses other currencies already; a file with CHF amounts would be rejected by
        # the bank after staff uploaded it, so refuse here too rather than produce one.
        if batch.currency not in self.currencies or any(item.currency not in self.currencies for item in batch.items):
            raise ProviderError(f"SEPA transfers are in EUR only, not {batch.currency}")
        document = pain001_document(batch)
        return PayoutBatchResult(
            provider_reference=batch.message_id,
            document=document,
            items=tuple(
                PayoutItemResult(
                    payout_id=item.payout_id, ok=True, provider_reference=f"LINKILIKE-PAYOUT-{item.payout_id}"
                )
                for item in batch.items
            ),
        )
