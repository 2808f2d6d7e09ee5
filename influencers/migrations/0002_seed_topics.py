from django.db import migrations

# A frozen copy of the topic keys at the time of this migration; labels live in influencers.topics.
TOPIC_SLUGS = [
    "fashion", "beauty", "fitness", "food", "travel", "outdoors", "tech", "gaming", "music", "film",
    "books", "art", "photography", "parenting", "pets", "home", "gardening", "sustainability", "finance",
    "career", "education", "health", "sports", "cycling", "running", "automotive", "diy", "local",
    "coffee", "wine",
]


def seed(apps, schema_editor):  # type: ignore[no-untyped-def]
    topic = apps.get_model("influencers", "Topic")
    for slug in TOPIC_SLUGS:
        topic.objects.get_or_create(slug=slug)


class Migration(migrations.Migration):
    dependencies = [("influencers", "0001_initial")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
