"""Demo money: the demo brand is funded with EUR 5,000 by bank transfer; two charities are listed."""

from __future__ import annotations

from accounts.demo import DemoLogin
from brands.models import Brand
from payouts.models import Charity
from payouts.services.ledger import brand_fund

DEMO_BRAND_SLUG = "alpenglow-coffee"
DEMO_TOP_UP_MINOR = 500_000
DEMO_TOP_UP_REFERENCE = "DEMO-ALPENGLOW-WELCOME-TOPUP"
DEMO_CHARITIES = [
    ("Ärzte ohne Grenzen Österreich", "Medical aid where it is needed most.", "AT333200000000316000", "RLNWATWW"),
    ("Tierschutz Linz", "Shelter and care for animals in Upper Austria.", "AT233400000001234567", "RZOOAT2L"),
]


def seed_demo() -> list[DemoLogin]:
    brand = Brand.objects.filter(slug=DEMO_BRAND_SLUG).first()
    if brand is not None:
        brand_fund(
            brand=brand,
            amount_minor=DEMO_TOP_UP_MINOR,
            currency="EUR",
            source="bank_transfer",
            reference=DEMO_TOP_UP_REFERENCE,
        )
    for name, description, iban, bic in DEMO_CHARITIES:
        Charity.objects.get_or_create(name=name, defaults={"description": description, "iban": iban, "bic": bic})
    return []
