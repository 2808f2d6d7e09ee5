# The audit actions come from the apps' registrations (linkilike.audit_actions, ADR 18) through a callable,
# so an app adding an action needs no migration of the platform app. No change to the column.

import linkilike.audit_actions
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('platform', '0004_auditevent_partitions'),
    ]

    operations = [
        migrations.AlterField(
            model_name='auditevent',
            name='action',
            field=models.CharField(choices=linkilike.audit_actions.action_choices, max_length=64, verbose_name='action'),
        ),
    ]
