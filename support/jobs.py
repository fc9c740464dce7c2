"""Start the desk's Celery tasks from its services, by the task's name.

A task takes ids, re-reads and calls a service, so support.tasks imports the services; were the
services to import support.tasks back, the two would import each other (the `acyclic_siblings`
contract in .importlinter refuses such a cycle, function-level imports included). So a service
names its task and Celery's registry finds it: every task of support.tasks is registered once the
module is imported, which SupportConfig.ready() makes sure of in every process.
"""

from __future__ import annotations

from .celery import app


def _task(name: str):
    return app.tasks[f"support.tasks.{name}"]


def job_after_commit(name: str, *args) -> None:
    """Enqueue once the surrounding transaction commits (a broker outage is logged, see ShopTask)."""
    _task(name).delay_on_commit(*args)


def job_now(name: str, *args) -> None:
    """Enqueue at once (callers outside a transaction: the watchdog)."""
    _task(name).delay(*args)
