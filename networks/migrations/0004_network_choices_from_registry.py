# The networks' choices come from settings.NETWORK_PROVIDERS through the provider classes (a callable), so
# adding a network needs no migration.

import networks.providers.registry
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('networks', '0003_network_app_credentials'),
    ]

    operations = [
        migrations.AlterField(
            model_name='connectedaccount',
            name='network',
            field=models.CharField(choices=networks.providers.registry.network_choices, max_length=20, verbose_name='network'),
        ),
        migrations.AlterField(
            model_name='networkappcredential',
            name='network',
            field=models.CharField(choices=networks.providers.registry.network_choices, max_length=20, unique=True, verbose_name='network'),
        ),
        migrations.AlterField(
            model_name='oauthapp',
            name='network',
            field=models.CharField(choices=networks.providers.registry.network_choices, max_length=20, verbose_name='network'),
        ),
    ]
