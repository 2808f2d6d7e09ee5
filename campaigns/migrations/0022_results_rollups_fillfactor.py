"""Room on their pages for the updates of the results rollups (ADR 23).

The rollup triggers (migrations 0007, 0009, 0017) update a share's results, its campaign's groups and
hours for every snapshot, click and earning; a metrics sweep updates each share's results twice in one
transaction (its counts, then its earnings). With full pages each update also wrote an entry into every
index of the table. At ``linkilike.table_tuning.ROLLUP_FILLFACTOR`` the new version stays on its page.
"""

from django.db import migrations

from linkilike.table_tuning import ROLLUP_FILLFACTOR, fillfactor

TABLES = ("campaigns_shareresult", "campaigns_campaignresultgroup", "campaigns_campaignresulthour")


class Migration(migrations.Migration):
    dependencies = [("campaigns", "0021_proof_of_post_review")]

    operations = [migrations.RunPython(*fillfactor(TABLES, ROLLUP_FILLFACTOR))]
