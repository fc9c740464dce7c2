"""The Celery app: tasks are autodiscovered in each app's tasks.py; beat runs the watchdogs."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "support.settings")

app = Celery("support")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
