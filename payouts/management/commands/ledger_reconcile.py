"""M6: recompute every balance from the entries and compare with the cached balances."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from payouts.selectors import ledger_reconcile_report


class Command(BaseCommand):
    help = "Recomputes ledger balances from entries; exits non-zero on any drift or unbalanced transaction."

    def handle(self, *args: Any, **options: Any) -> None:
        report = ledger_reconcile_report()
        self.stdout.write(
            f"accounts={report.accounts} transactions={report.transactions} drift={len(report.drifts)} "
            f"unbalanced={len(report.unbalanced_transactions)} negative={len(report.negative_internal_accounts)}"
        )
        for drift in report.drifts:
            self.stdout.write(f"DRIFT {drift.account_key}: cached={drift.cached_minor} computed={drift.computed_minor}")
        for txn_id in report.unbalanced_transactions:
            self.stdout.write(f"UNBALANCED transaction #{txn_id}")
        for key in report.negative_internal_accounts:
            self.stdout.write(f"NEGATIVE internal account {key}")
        if not report.ok:
            raise CommandError("ledger does not reconcile")
        self.stdout.write(self.style.SUCCESS("ledger reconciles: 0 drift"))
