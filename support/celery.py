"""The Celery app: tasks are autodiscovered in each app's tasks.py; beat runs the watchdogs."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "support.settings")

app = Celery("support")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


# The SLA watchdog: nobody may wait unnoticed (see support.services.escalation_sla_check).
# Added once the configuration is read: touching app.conf here would read the settings while
# they are still being imported.
@app.on_after_configure.connect
def _support_beat_schedule(sender, **kwargs):
    sender.conf.beat_schedule = {
        **(sender.conf.beat_schedule or {}),
        "support-sla-watchdog": {"task": "support.tasks.sla_watchdog", "schedule": 30.0, "options": {"expires": 25}},
    }
