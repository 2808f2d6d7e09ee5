"""Room on their pages for the updates of the share totals and the account balances (ADR 23).

Every earnings batch updates each of its shares' totals (``payouts_shareearning``) and its accounts'
cached balances (``payouts_ledgeraccount``) once; with full pages each update also wrote an entry into
every index of the table (five and eight of them). At ``linkilike.table_tuning.ROLLUP_FILLFACTOR`` the
new version stays on its page and no index is touched. Also dropped, PostgreSQL only: the text-pattern
indexes Django made for ``LIKE`` on the share key and on the account's key and kind, which are only
ever compared whole (their plain and unique indexes stay).
"""

from django.db import migrations

from linkilike.table_tuning import ROLLUP_FILLFACTOR, fillfactor, pattern_indexes_dropped

PATTERN_INDEXES = (
    ("payouts_shareearning_share_key_b1609ffc_like", "payouts_shareearning", "share_key"),
    ("payouts_ledgeraccount_key_3dd35c20_like", "payouts_ledgeraccount", "key"),
    ("payouts_ledgeraccount_kind_cd2c7d72_like", "payouts_ledgeraccount", "kind"),
)


class Migration(migrations.Migration):
    dependencies = [("payouts", "0008_ledger_fewer_indexes")]

    operations = [
        migrations.RunPython(*fillfactor(("payouts_shareearning", "payouts_ledgeraccount"), ROLLUP_FILLFACTOR)),
        migrations.RunPython(*pattern_indexes_dropped(PATTERN_INDEXES)),
    ]
