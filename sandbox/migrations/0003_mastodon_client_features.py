from typing import Any

import django.db.models.deletion
import django.utils.timezone
from django.db import migrations, models


def keys_from_statuses(apps: Any, schema_editor: Any) -> None:
    """Idempotency keys lived on the status row; they move to a table of their own that outlives the post."""
    SandboxStatus = apps.get_model("sandbox", "SandboxStatus")
    SandboxIdempotencyKey = apps.get_model("sandbox", "SandboxIdempotencyKey")
    rows = [
        SandboxIdempotencyKey(
            persona_id=status.persona_id, key=status.idempotency_key, status_id=status.pk, created_at=status.created_at
        )
        for status in SandboxStatus.objects.exclude(idempotency_key="").iterator()
    ]
    SandboxIdempotencyKey.objects.bulk_create(rows, batch_size=500)


class Migration(migrations.Migration):
    dependencies = [("sandbox", "0002_sandboxmedia_content_type")]

    operations = [
        migrations.CreateModel(
            name="SandboxIdempotencyKey",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("key", models.CharField(max_length=255)),
                ("status_id", models.PositiveBigIntegerField(blank=True, null=True)),
                ("scheduled_status_id", models.PositiveBigIntegerField(blank=True, null=True)),
                ("created_at", models.DateTimeField(default=django.utils.timezone.now)),
                (
                    "persona",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE, related_name="+", to="sandbox.sandboxpersona"
                    ),
                ),
            ],
            options={
                "verbose_name": "sandbox idempotency key",
                "verbose_name_plural": "sandbox idempotency keys",
                "indexes": [models.Index(fields=["persona", "key", "created_at"], name="sandbox_idem_lookup")],
            },
        ),
        migrations.CreateModel(
            name="SandboxScheduledStatus",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("scheduled_at", models.DateTimeField(db_index=True, verbose_name="scheduled for")),
                ("params", models.JSONField(default=dict, verbose_name="parameters")),
                ("application_name", models.CharField(blank=True, max_length=100, verbose_name="posted with")),
                ("created_at", models.DateTimeField(default=django.utils.timezone.now, verbose_name="created")),
                (
                    "persona",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="scheduled_statuses",
                        to="sandbox.sandboxpersona",
                    ),
                ),
            ],
            options={
                "verbose_name": "sandbox scheduled status",
                "verbose_name_plural": "sandbox scheduled statuses",
                "ordering": ("scheduled_at", "id"),
            },
        ),
        migrations.RunPython(keys_from_statuses, migrations.RunPython.noop),
        migrations.RemoveField(model_name="sandboxstatus", name="idempotency_key"),
        migrations.AddField(
            model_name="sandboxstatus",
            name="spoiler_text",
            field=models.TextField(blank=True, verbose_name="content warning"),
        ),
        migrations.AddField(
            model_name="sandboxstatus",
            name="sensitive",
            field=models.BooleanField(default=False, verbose_name="sensitive"),
        ),
        migrations.AddField(
            model_name="sandboxstatus",
            name="in_reply_to",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="replies",
                to="sandbox.sandboxstatus",
                verbose_name="in reply to",
            ),
        ),
        migrations.AddField(
            model_name="sandboxstatus",
            name="reblog_of",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="reblogs",
                to="sandbox.sandboxstatus",
                verbose_name="reblog of",
            ),
        ),
        migrations.AddConstraint(
            model_name="sandboxstatus",
            constraint=models.UniqueConstraint(
                condition=models.Q(("reblog_of__isnull", False)),
                fields=("persona", "reblog_of"),
                name="sandbox_status_reblog_once",
            ),
        ),
        migrations.AddField(
            model_name="sandboxmedia",
            name="scheduled_status",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="media_attachments",
                to="sandbox.sandboxscheduledstatus",
            ),
        ),
    ]
