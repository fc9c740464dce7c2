"""Celery tasks of the support desk. Each takes ids, re-reads, and calls a service.

All of them are idempotent (a task run twice leaves the same state: routing only touches a
queued escalation, e-mails are stamped when sent), so they ack late: a worker killed mid-task
leaves the message to be delivered again. Database and mail errors are retried with backoff.
"""

from __future__ import annotations

import logging
import smtplib

from celery import shared_task
from django.db import DatabaseError

from . import assignment, emails

logger = logging.getLogger(__name__)

# Retried: the database or the mail server was briefly unreachable.
TRANSIENT = (DatabaseError, smtplib.SMTPException, ConnectionError, TimeoutError, OSError)
COMMON = {
    "acks_late": True,
    "reject_on_worker_lost": True,
    "autoretry_for": TRANSIENT,
    "retry_backoff": 2,
    "retry_backoff_max": 120,
    "retry_jitter": True,
    "max_retries": 6,
}


@shared_task(soft_time_limit=15, time_limit=30, **COMMON)
def route_escalation(escalation_id: int) -> bool:
    """Assign a new escalation to the least-loaded online agent (no-op if none is free)."""
    return assignment.escalation_route(escalation_id=escalation_id) is not None


@shared_task(soft_time_limit=30, time_limit=60, **COMMON)
def route_waiting() -> int:
    """An agent came online: try every queued escalation."""
    return assignment.escalation_route_waiting()


@shared_task(soft_time_limit=10, time_limit=20, **COMMON)
def notify_escalation(escalation_id: int) -> bool:
    """Push an assignment to the workspaces through the channel layer."""
    return assignment.escalation_notify(escalation_id=escalation_id)


@shared_task(soft_time_limit=30, time_limit=60, **COMMON)
def send_claim_reminder(escalation_id: int) -> bool:
    """E-mail an agent who has not claimed what was assigned to them."""
    return emails.escalation_remind_send(escalation_id=escalation_id)


@shared_task(soft_time_limit=50, time_limit=60, **COMMON)
def sla_watchdog() -> dict:
    """Celery beat, every 30 s: route, remind, re-route, raise priority, re-queue abandoned ones."""
    report = assignment.escalation_sla_check()
    if any(report.values()):
        logger.info("SLA watchdog: %s", report)
    return report


@shared_task(soft_time_limit=30, time_limit=60, **COMMON)
def send_followup_confirmation(ticket_id: int) -> bool:
    """After hours: confirm to the shopper that their question reached us."""
    return emails.followup_confirmation_send(ticket_id=ticket_id)


@shared_task(soft_time_limit=30, time_limit=60, **COMMON)
def send_transcript(escalation_id: int) -> bool:
    """After resolution: the transcript to the shopper's e-mail."""
    return emails.transcript_send(escalation_id=escalation_id)
