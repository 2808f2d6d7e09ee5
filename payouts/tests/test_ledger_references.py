"""The database refuses ledger rows that point at nothing, and deleting what ledger rows point at (ADR 14).

The references of entries, transactions, accruals and explanation lines are checked by statement-level
triggers (migration 0006) instead of per-row deferred foreign keys. These tests go around Django (raw SQL),
as a bug or a hand-made fix would, and show the guarantee a foreign key gave still holds.
"""

from __future__ import annotations

import pytest
from django.db import connection

from campaigns.earnings.services import earnings_accrue
from payouts.models import EarningAccrual, EarningLine, LedgerAccount, LedgerEntry, LedgerTransaction
from payouts.tests.helpers import delta, funded_campaign, influencer, refused_as_foreign_key

pytestmark = pytest.mark.django_db

MISSING = 987_654_321


@pytest.fixture
def booked():
    campaign = funded_campaign(budget=100_000, cpe_minor=10)
    person = influencer()
    earnings_accrue(delta=delta(campaign, person, "w1", engagements=30))
    accrual = EarningAccrual.objects.get()
    return campaign, person, accrual


def test_rows_pointing_at_nothing_arerefused_as_foreign_key(booked):
    _campaign, _person, accrual = booked
    txn = accrual.ledger_transaction
    account = LedgerEntry.objects.filter(transaction=txn).first().account
    # A balanced pair of entries, so only the reference can be what is refused.
    refused_as_foreign_key(
        "INSERT INTO payouts_ledgerentry (transaction_id, account_id, amount_minor, currency) "
        "VALUES (%s, %s, 5, 'EUR'), (%s, %s, -5, 'EUR')",
        [MISSING, account.pk, MISSING, account.pk],
    )
    refused_as_foreign_key(
        "INSERT INTO payouts_ledgerentry (transaction_id, account_id, amount_minor, currency) "
        "VALUES (%s, %s, 5, 'EUR'), (%s, %s, -5, 'EUR')",
        [txn.pk, MISSING, txn.pk, account.pk],
    )
    refused_as_foreign_key(
        "INSERT INTO payouts_ledgertransaction (kind, description, campaign_id, created_at) "
        "VALUES ('earning', '', %s, now())",
        [MISSING],
    )
    refused_as_foreign_key(
        "INSERT INTO payouts_earningline (accrual_id, metric, units, price_minor, per_units, amount_minor) "
        "VALUES (%s, 'engagements', 1, 1, 1, 1)",
        [MISSING],
    )
    # A change of a reference is checked as well (a foreign key checks updates that change it).
    refused_as_foreign_key("UPDATE payouts_earningaccrual SET influencer_id = %s WHERE id = %s", [MISSING, accrual.pk])
    assert EarningLine.objects.filter(accrual=accrual).count() == 1


def test_one_bad_row_refuses_the_whole_statement(booked):
    _campaign, _person, accrual = booked
    refused_as_foreign_key(
        "INSERT INTO payouts_earningline (accrual_id, metric, units, price_minor, per_units, amount_minor) "
        "VALUES (%s, 'engagements', 1, 1, 1, 1), (%s, 'engagements', 1, 1, 1, 1)",
        [accrual.pk, MISSING],
    )
    assert EarningLine.objects.filter(accrual=accrual).count() == 1


def test_rows_the_ledger_points_at_cannot_be_deleted_or_truncated(booked):
    _campaign, person, accrual = booked
    account = LedgerEntry.objects.filter(transaction=accrual.ledger_transaction).first().account
    refused_as_foreign_key("DELETE FROM payouts_ledgeraccount WHERE id = %s", [account.pk])
    refused_as_foreign_key("DELETE FROM payouts_earningaccrual WHERE id = %s", [accrual.pk])
    refused_as_foreign_key("DELETE FROM influencers_influencerprofile WHERE id = %s", [person.pk])
    refused_as_foreign_key("UPDATE payouts_ledgeraccount SET id = %s WHERE id = %s", [MISSING, account.pk])
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # TRUNCATE waits for no queued foreign-key check
    refused_as_foreign_key("TRUNCATE payouts_ledgeraccount CASCADE")  # entries stay: they still point at the accounts
    assert LedgerAccount.objects.filter(pk=account.pk).exists()
    assert EarningAccrual.objects.filter(pk=accrual.pk).exists()


def test_unreferenced_rows_and_references_that_do_not_change_are_free(booked):
    _campaign, _person, accrual = booked
    spare = LedgerAccount.objects.create(key="test:spare", kind="external_write_off", currency="EUR", is_external=True)
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM payouts_ledgeraccount WHERE id = %s", [spare.pk])
        cursor.execute("UPDATE payouts_earningaccrual SET pending_minor = 0 WHERE id = %s", [accrual.pk])
    assert not LedgerAccount.objects.filter(pk=spare.pk).exists()
    assert LedgerTransaction.objects.filter(pk=accrual.ledger_transaction_id).exists()


def test_large_statements_are_checked_by_their_own_plan(booked):
    """Above 10,000 rows a statement's references are checked by a query planned for its size (migration
    0007): one row of many that points at nothing still refuses the whole statement; all present, it is kept."""
    _campaign, _person, accrual = booked
    line = (
        "INSERT INTO payouts_earningline (accrual_id, metric, units, price_minor, per_units, amount_minor) "
        "SELECT CASE WHEN g = %s THEN %s ELSE %s END, 'engagements', 1, 1, 1, 1 FROM generate_series(1, 12000) g"
    )
    refused_as_foreign_key(line, [7_000, MISSING, accrual.pk])
    assert EarningLine.objects.filter(accrual=accrual).count() == 1
    with connection.cursor() as cursor:
        cursor.execute(line, [0, MISSING, accrual.pk])
    assert EarningLine.objects.filter(accrual=accrual).count() == 12_001


def test_large_statements_whose_keys_fill_their_range_are_checked_by_the_range(booked):
    """Keys that fill their range (a batch referring to the rows it just wrote) are checked by counting the
    parent's ids of that range: a gap in it still refuses the statement."""
    campaign, person, accrual = booked
    earnings_accrue(delta=delta(campaign, person, "w2", engagements=10))
    second = EarningAccrual.objects.exclude(pk=accrual.pk).get()
    line = (
        "INSERT INTO payouts_earningline (accrual_id, metric, units, price_minor, per_units, amount_minor) "
        "SELECT CASE WHEN g %% 2 = 0 THEN %s ELSE %s END, 'engagements', 1, 1, 1, 1 FROM generate_series(1, 12000) g"
    )
    gap = max(accrual.pk, second.pk) + 1  # the next id: no accrual has it yet
    refused_as_foreign_key(line, [max(accrual.pk, second.pk), gap])
    low, high = sorted((accrual.pk, second.pk))
    assert high == low + 1  # consecutive ids: the range path
    with connection.cursor() as cursor:
        cursor.execute(line, [low, high])
    assert EarningLine.objects.filter(accrual__in=(accrual, second)).count() == 12_000 + 2
