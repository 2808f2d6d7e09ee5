"""A share's snapshots and results refer to it through statement checks instead of deferred foreign keys.

A metrics sweep inserts thousands of snapshots per statement, and the results rows and campaign groups
of shares seen for the first time; the deferred foreign keys queued one check per reference and row for
the commit (bench P3: about a quarter of a second of a 10,000-post sweep). The references become triggers
(``linkilike.references``, ADR 25) with the generic parent-side function of migration payouts 0006.
"""

import django.db.models.deletion
from django.db import migrations, models

from linkilike.references import references_per_statement

REFERENCES = {
    "campaigns_metricsnapshot": (("share_id", "campaigns_share"),),
    "campaigns_shareresult": (("share_id", "campaigns_share"),),
    "campaigns_campaignresultgroup": (
        ("campaign_id", "campaigns_campaign"),
        ("influencer_id", "influencers_influencerprofile"),
    ),
    "campaigns_campaignresulthour": (("campaign_id", "campaigns_campaign"),),
}


class Migration(migrations.Migration):
    dependencies = [
        ("campaigns", "0022_results_rollups_fillfactor"),
        ("influencers", "0003_influencerprofile_time_zone"),
        ("payouts", "0006_ledger_references_per_statement"),  # payouts_refs_kept
    ]

    operations = [
        migrations.AlterField(
            model_name="metricsnapshot",
            name="share",
            field=models.ForeignKey(
                db_constraint=False,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="metric_snapshots",
                to="campaigns.share",
                verbose_name="share",
            ),
        ),
        migrations.AlterField(
            model_name="shareresult",
            name="share",
            field=models.OneToOneField(
                db_constraint=False,
                on_delete=django.db.models.deletion.CASCADE,
                primary_key=True,
                related_name="result",
                serialize=False,
                to="campaigns.share",
                verbose_name="share",
            ),
        ),
        migrations.AlterField(
            model_name="campaignresultgroup",
            name="campaign",
            field=models.ForeignKey(
                db_constraint=False,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="+",
                to="campaigns.campaign",
                verbose_name="campaign",
            ),
        ),
        migrations.AlterField(
            model_name="campaignresultgroup",
            name="influencer",
            field=models.ForeignKey(
                blank=True,
                db_constraint=False,
                null=True,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="+",
                to="influencers.influencerprofile",
                verbose_name="influencer",
            ),
        ),
        migrations.AlterField(
            model_name="campaignresulthour",
            name="campaign",
            field=models.ForeignKey(
                db_constraint=False,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="+",
                to="campaigns.campaign",
                verbose_name="campaign",
            ),
        ),
        migrations.RunPython(*references_per_statement(REFERENCES, tag="results")),
    ]
