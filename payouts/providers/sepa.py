"""SEPA credit transfer file (ISO 20022 pain.001.001.03) that staff download and upload to the bank.

"Executing" the batch produces the file; each payout counts as sent. A payout the bank
returns later is recorded in admin and reversed (``payout_mark_failed``).
"""

from __future__ import annotations

from datetime import date
from xml.etree import ElementTree as ET

from django.conf import settings
from django.utils import timezone

from payouts.errors import ProviderError
from payouts.money import money_decimal_string
from payouts.providers.base import PayoutBatchRequest, PayoutBatchResult, PayoutItemResult, PayoutProvider

NAMESPACE = "urn:iso:std:iso:20022:tech:xsd:pain.001.001.03"
# SEPA allows the Latin character set; names and texts are trimmed to the schema's lengths.
MAX_NAME = 70
MAX_TEXT = 140


def _sub(parent: ET.Element, tag: str, text: str | None = None, **attributes: str) -> ET.Element:
    element = ET.SubElement(parent, tag, attributes)
    if text is not None:
        element.text = text
    return element


def pain001_document(batch: PayoutBatchRequest, *, execution_date: date | None = None) -> str:
    debtor_name = str(getattr(settings, "PAYOUTS_PLATFORM_ACCOUNT_NAME", "Linkilike GmbH"))
    debtor_iban = str(getattr(settings, "PAYOUTS_PLATFORM_IBAN", "AT611904300234573201"))
    debtor_bic = str(getattr(settings, "PAYOUTS_PLATFORM_BIC", "BKAUATWW"))
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
    _sub(_sub(_sub(info, "DbtrAgt"), "FinInstnId"), "BIC", debtor_bic)
    _sub(info, "ChrgBr", "SLEV")
    for item in batch.items:
        transfer = _sub(info, "CdtTrfTxInf")
        _sub(_sub(transfer, "PmtId"), "EndToEndId", f"LINKILIKE-PAYOUT-{item.payout_id}")
        _sub(_sub(transfer, "Amt"), "InstdAmt", money_decimal_string(item.amount_minor), Ccy=item.currency)
        if item.bic:
            _sub(_sub(_sub(transfer, "CdtrAgt"), "FinInstnId"), "BIC", item.bic)
        _sub(_sub(transfer, "Cdtr"), "Nm", item.name[:MAX_NAME])
        _sub(_sub(_sub(transfer, "CdtrAcct"), "Id"), "IBAN", item.iban)
        _sub(_sub(transfer, "RmtInf"), "Ustrd", item.reference[:MAX_TEXT])
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode")


class SepaFileProvider(PayoutProvider):
    name = "sepa"
    #: SEPA credit transfers are euro payments by definition (EPC scheme rulebook).
    currencies = frozenset({"EUR"})

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
