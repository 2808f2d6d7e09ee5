from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("influencers", "0002_seed_topics"),
    ]

    operations = [
        migrations.AddField(
            model_name="influencerprofile",
            name="time_zone",
            field=models.CharField(blank=True, default="", max_length=64, verbose_name="time zone"),
        ),
    ]
