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
    sender.conf.beat_schedule = {
        **(sender.conf.beat_schedule or {}),
        "support-sla-watchdog": {"task": "support.tasks.sla_watchdog", "schedule": 30.0, "options": {"expires": 25}},
    }
