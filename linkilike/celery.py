"""The Celery application: configured from Django settings (``CELERY_*``)."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "linkilike.settings")

app = Celery("linkilike")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
# Celery looks for ``<app>.tasks``; campaigns keeps its tasks per concern in sub-packages.
app.autodiscover_tasks(["campaigns.matching", "campaigns.publishing", "campaigns.metrics", "campaigns.tracking"])
