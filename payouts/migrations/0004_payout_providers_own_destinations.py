"""Payout providers own their destinations (payouts/providers/README.md).

The provider names are no longer fixed choices on the model (they are the keys of
``settings.PAYOUTS_PAYOUT_PROVIDERS``), and a provider added later keeps its destination fields in
``PayoutDestination.details``: adding a provider needs no migration. State-only for the choices;
one new column with a default.
"""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("payouts", "0003_ledger_balanced_per_statement")]

    operations = [
        migrations.AlterField(
            model_name="payoutdestination",
            name="kind",
            field=models.CharField(max_length=12, verbose_name="kind"),
        ),
        migrations.AlterField(
            model_name="payoutbatch",
            name="provider",
            field=models.CharField(max_length=12, verbose_name="provider"),
        ),
        migrations.AlterField(
            model_name="payoutrequest",
            name="provider",
            field=models.CharField(max_length=12, verbose_name="provider"),
        ),
        migrations.AddField(
            model_name="payoutdestination",
            name="details",
            field=models.JSONField(blank=True, default=dict, verbose_name="details"),
        ),
    ]
