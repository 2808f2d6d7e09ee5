from typing import Any

from django.db import migrations, models

# Frozen here (not imported from linkilike.user_files) so the migration keeps meaning what it meant.
SNIFFED_TYPES = {"JPEG": "image/jpeg", "PNG": "image/png", "GIF": "image/gif", "WEBP": "image/webp"}


def sniff_existing(apps: Any, schema_editor: Any) -> None:
    """Media uploaded before the type was stored: sniff the file; one that cannot be read or is not
    an accepted image keeps an empty type and is never served."""
    from PIL import Image

    SandboxMedia = apps.get_model("sandbox", "SandboxMedia")
    for media in SandboxMedia.objects.filter(content_type="").iterator():
        try:
            with media.file.open("rb") as handle, Image.open(handle, formats=list(SNIFFED_TYPES)) as image:
                image_format = image.format or ""
                image.verify()
        except Exception:  # noqa: BLE001, S112 - a missing or unreadable file stays unserved
            continue
        if image_format in SNIFFED_TYPES:
            media.content_type = SNIFFED_TYPES[image_format]
            media.save(update_fields=["content_type"])


class Migration(migrations.Migration):
    dependencies = [("sandbox", "0001_initial")]

    operations = [
        migrations.AddField(
            model_name="sandboxmedia",
            name="content_type",
            field=models.CharField(blank=True, max_length=40, verbose_name="content type"),
        ),
        migrations.RunPython(sniff_existing, migrations.RunPython.noop),
    ]
