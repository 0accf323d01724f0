"""The hub's Celery app. Settings come from Django settings (CELERY_*)."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mdm.settings")

app = Celery("mdm")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
