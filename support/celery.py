"""The Celery app: tasks are autodiscovered in each app's tasks.py; beat runs the watchdogs."""

import logging
import os

from celery import Celery, Task

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "support.settings")

logger = logging.getLogger(__name__)


class ShopTask(Task):
    """Enqueue after commit without letting a dead broker break the request that committed.

    Django stops running on_commit callbacks at the first one that raises; a broker outage
    would then skip the pushes and e-mails queued behind it. Each enqueue is robust instead:
    a failure is logged, and the periodic sweeps (SLA watchdog) pick up what stays undone.
    """

    def delay_on_commit(self, *args, **kwargs):
        from django.db import transaction

        def enqueue():
            try:
                self.delay(*args, **kwargs)
            except Exception:  # noqa: BLE001
                logger.exception("could not enqueue %s%r; the broker is unavailable", self.name, args)

        transaction.on_commit(enqueue, robust=True)


app = Celery("support", task_cls=ShopTask)
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


# The SLA watchdog: nobody may wait unnoticed (see support.assignment.escalation_sla_check).
# Added once the configuration is read: touching app.conf here would read the settings while
# they are still being imported.
@app.on_after_configure.connect
def _support_beat_schedule(sender, **kwargs):
    from django.conf import settings

    schedule = {
        **(sender.conf.beat_schedule or {}),
        "support-sla-watchdog": {"task": "support.tasks.sla_watchdog", "schedule": 30.0, "options": {"expires": 25}},
    }
    retrain = retrain_crontab(getattr(settings, "RETRAIN_SCHEDULE", ""))
    if retrain is not None:
        # The shop's retraining schedule (bot.retraining.retrain_scheduled: skipped without new labels).
        schedule["bot-scheduled-retrain"] = {"task": "bot.tasks.scheduled_retrain", "schedule": retrain, "options": {"expires": 3600}}
    sender.conf.beat_schedule = schedule


def retrain_crontab(value: str):
    """settings.RETRAIN_SCHEDULE as a Celery crontab: "" -> None, "daily" (03:00), "weekly"
    (Mondays 03:00) or five crontab fields "minute hour day-of-month month day-of-week"."""
    from celery.schedules import crontab

    value = (value or "").strip()
    if not value:
        return None
    if value == "daily":
        return crontab(minute=0, hour=3)
    if value == "weekly":
        return crontab(minute=0, hour=3, day_of_week=1)
    minute, hour, day_of_month, month_of_year, day_of_week = value.split()
    return crontab(minute=minute, hour=hour, day_of_month=day_of_month, month_of_year=month_of_year, day_of_week=day_of_week)
