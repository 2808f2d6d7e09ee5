"""The ledger core: funding, reservation, release, reversal, refusals."""

from __future__ import annotations

import pytest
from django.db import connection, transaction
from django.db.utils import DatabaseError

from campaigns.earnings.budget import campaign_budget_release, campaign_budget_reserve
from campaigns.earnings.selectors import campaign_reserved_minor
from payouts import selectors
from payouts.errors import DuplicateReference, InsufficientFunds, UnbalancedTransaction
from payouts.models import AccountKind, LedgerEntry, LedgerTransaction
from payouts.services.ledger import (
    Posting,
    brand_available_account,
    brand_fund,
    ledger_post,
    ledger_transaction_reverse,
    platform_account,
)
from tests.factories.brands import BrandFactory
from tests.factories.payouts import CampaignFactory

pytestmark = pytest.mark.django_db


def _fund(brand, amount=50_000, reference="BANK-1"):
    return brand_fund(brand=brand, amount_minor=amount, currency="EUR", source="bank_transfer", reference=reference)


def test_funding_credits_the_brand_and_books_balanced_entries():
    brand = BrandFactory()
    txn = _fund(brand)
    assert selectors.brand_balance_minor(brand=brand, currency="EUR") == 50_000
    assert sorted(txn.entries.values_list("amount_minor", flat=True)) == [-50_000, 50_000]


def test_same_funding_reference_books_once_and_refuses_other_amounts():
    brand = BrandFactory()
    first = _fund(brand)
    assert _fund(brand) == first
    assert selectors.brand_balance_minor(brand=brand, currency="EUR") == 50_000
    with pytest.raises(DuplicateReference):
        _fund(brand, amount=1)


def test_reserve_moves_the_budget_and_refuses_a_shortfall_with_the_missing_amount():
    brand = BrandFactory()
    _fund(brand, amount=15_000)
    campaign = CampaignFactory(brand=brand, budget_minor=10_000)
    campaign_budget_reserve(campaign=campaign)
    campaign_budget_reserve(campaign=campaign)  # twice: books once
    assert selectors.brand_balance_minor(brand=brand, currency="EUR") == 5_000
    assert campaign_reserved_minor(campaign=campaign) == 10_000

    second = CampaignFactory(brand=brand, budget_minor=8_000)
    with pytest.raises(InsufficientFunds) as error:
        campaign_budget_reserve(campaign=second)
    assert "€30.00" in str(error.value)
    assert error.value.shortfall_minor == 3_000
    assert selectors.brand_balance_minor(brand=brand, currency="EUR") == 5_000


def test_release_returns_what_is_left_once():
    brand = BrandFactory()
    _fund(brand, amount=10_000)
    campaign = CampaignFactory(brand=brand, budget_minor=10_000)
    assert campaign_budget_release(campaign=campaign) is None  # nothing reserved yet
    campaign_budget_reserve(campaign=campaign)
    assert campaign_budget_release(campaign=campaign) is not None
    assert campaign_budget_release(campaign=campaign) is None
    assert selectors.brand_balance_minor(brand=brand, currency="EUR") == 10_000
    assert campaign_reserved_minor(campaign=campaign) == 0


def test_reversal_of_a_top_up_and_refusal_when_the_money_is_reserved():
    brand = BrandFactory()
    txn = _fund(brand, amount=10_000)
    campaign = CampaignFactory(brand=brand, budget_minor=6_000)
    campaign_budget_reserve(campaign=campaign)
    with pytest.raises(InsufficientFunds):
        ledger_transaction_reverse(ledger_transaction=txn, reason="wrong brand")
    campaign_budget_release(campaign=campaign)
    ledger_transaction_reverse(ledger_transaction=txn, reason="wrong brand")
    assert selectors.brand_balance_minor(brand=brand, currency="EUR") == 0


def test_post_refuses_unbalanced_bookings():
    brand = BrandFactory()
    account = brand_available_account(brand=brand, currency="EUR")
    funding = platform_account(kind=AccountKind.EXTERNAL_FUNDING, currency="EUR")
    with pytest.raises(UnbalancedTransaction), transaction.atomic():
        ledger_post(
            kind="funding",
            postings=[Posting(funding, -100), Posting(account, 99)],
        )
    assert not LedgerTransaction.objects.exists()


def test_entries_cannot_be_updated_or_deleted_in_the_database():
    brand = BrandFactory()
    txn = _fund(brand)
    entry = LedgerEntry.objects.filter(transaction=txn).first()
    for statement in (
        f"UPDATE payouts_ledgerentry SET amount_minor = 1 WHERE id = {entry.pk}",  # noqa: S608
        f"DELETE FROM payouts_ledgerentry WHERE id = {entry.pk}",  # noqa: S608
        f"UPDATE payouts_ledgertransaction SET description = 'x' WHERE id = {txn.pk}",  # noqa: S608
        f"DELETE FROM payouts_ledgertransaction WHERE id = {txn.pk}",  # noqa: S608
    ):
        with pytest.raises(DatabaseError, match="immutable"), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(statement)
    entry.refresh_from_db()
    assert abs(entry.amount_minor) == 50_000


def test_database_refuses_to_commit_an_unbalanced_transaction():
    brand = BrandFactory()
    account = brand_available_account(brand=brand, currency="EUR")

    def write_half_a_transaction() -> None:
        with transaction.atomic():
            txn = LedgerTransaction.objects.create(kind="funding")
            LedgerEntry.objects.create(transaction=txn, account=account, amount_minor=100, currency="EUR")
            with connection.cursor() as cursor:
                cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")

    with pytest.raises(DatabaseError, match="does not balance"):
        write_half_a_transaction()


def test_sqlite_variant_of_the_immutability_triggers_refuses_changes():
    """`make run` uses SQLite: the same migration installs RAISE(ABORT) triggers there."""
    import importlib
    import sqlite3

    migration = importlib.import_module("payouts.migrations.0002_ledger_immutable_and_balanced")
    db = sqlite3.connect(":memory:")
    db.execute("CREATE TABLE payouts_ledgertransaction (id INTEGER PRIMARY KEY, description TEXT)")
    db.execute("CREATE TABLE payouts_ledgerentry (id INTEGER PRIMARY KEY, amount_minor INTEGER)")
    for statement in migration.SQLITE_FORWARD:
        db.execute(statement)
    db.execute("INSERT INTO payouts_ledgerentry (amount_minor) VALUES (100)")
    db.execute("INSERT INTO payouts_ledgertransaction (description) VALUES ('x')")
    for statement in (
        "UPDATE payouts_ledgerentry SET amount_minor = 1",
        "DELETE FROM payouts_ledgerentry",
        "UPDATE payouts_ledgertransaction SET description = 'y'",
        "DELETE FROM payouts_ledgertransaction",
    ):
        with pytest.raises(sqlite3.DatabaseError, match="immutable"):
            db.execute(statement)
    assert db.execute("SELECT amount_minor FROM payouts_ledgerentry").fetchone() == (100,)
