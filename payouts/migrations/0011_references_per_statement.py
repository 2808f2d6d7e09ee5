"""A share's earning row refers to its campaign and influencer through statement checks, not deferred keys.

The earnings batch opens the rows of a sweep's new shares in one statement; the deferred foreign keys
queued two checks per row for the commit. The references become triggers
(``linkilike.references``, ADR 25) with the generic parent-side function of migration 0006.
"""

import django.db.models.deletion
from django.db import migrations, models

from linkilike.references import references_per_statement

REFERENCES = {
    "payouts_shareearning": (
        ("campaign_id", "campaigns_campaign"),
        ("influencer_id", "influencers_influencerprofile"),
    ),
}


class Migration(migrations.Migration):
    dependencies = [
        ("campaigns", "0023_references_per_statement"),
        ("influencers", "0003_influencerprofile_time_zone"),
        ("payouts", "0010_accrual_transaction_of_batch"),
    ]

    operations = [
        migrations.AlterField(
            model_name="shareearning",
            name="campaign",
            field=models.ForeignKey(
                db_constraint=False,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="campaigns.campaign",
                verbose_name="campaign",
            ),
        ),
        migrations.AlterField(
            model_name="shareearning",
            name="influencer",
            field=models.ForeignKey(
                db_constraint=False,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="influencers.influencerprofile",
                verbose_name="influencer",
            ),
        ),
        migrations.RunPython(*references_per_statement(REFERENCES, tag="earnings")),
    ]
