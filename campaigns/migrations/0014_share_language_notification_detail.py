from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("campaigns", "0013_own_engagement_metric_retries"),
    ]

    operations = [
        migrations.AddField(
            model_name="share",
            name="language",
            field=models.CharField(blank=True, default="", max_length=8, verbose_name="caption language"),
        ),
        migrations.AddField(
            model_name="notification",
            name="detail",
            field=models.TextField(blank=True, default="", verbose_name="detail"),
        ),
    ]
