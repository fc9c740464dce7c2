"""Who gets which escalation: routing to the least-loaded online agent, the SLA watchdog,
re-routing what nobody claimed, raising priority, re-queueing what an agent abandoned."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext_lazy

from bot import events
from bot.models import Conversation

from . import selectors
from .desk import escalation_changed_push, queue_positions_push, system_message_store
from .jobs import job_after_commit, job_now
from .models import AgentProfile, Escalation

PRIORITY_BY_RANK = {rank: value for value, rank in Escalation.PRIORITY_RANK.items()}


def _setting(name: str, default):
    return getattr(settings, name, default)


def _claim_reminder_after() -> timedelta:
    return timedelta(seconds=_setting("SUPPORT_CLAIM_REMINDER_SECONDS", 180))


def _reroute_after() -> timedelta:
    return timedelta(seconds=_setting("SUPPORT_REROUTE_SECONDS", 300))


def _queue_sla() -> timedelta:
    return timedelta(seconds=_setting("SUPPORT_QUEUE_SLA_SECONDS", 300))


def _abandoned_after() -> timedelta:
    return timedelta(seconds=_setting("SUPPORT_ABANDONED_SECONDS", 300))


@transaction.atomic
def escalation_route(*, escalation_id: int, exclude_user_ids=()) -> Escalation | None:
    """Assign a queued escalation to the least-loaded online agent with free capacity.

    Idempotent: an escalation that is no longer queued is left alone. Returns it when assigned.
    """
    escalation = Escalation.objects.select_for_update(of=("self",)).filter(pk=escalation_id).first()
    if escalation is None or escalation.status != Escalation.Status.QUEUED:
        return None
    candidate_ids = list(selectors.agents_routable().values_list("pk", flat=True))
    if not candidate_ids:
        return None
    # Lock the candidates in a fixed order: two routings never hand out the same free slot.
    profiles = list(
        AgentProfile.objects.select_for_update(of=("self",)).filter(pk__in=candidate_ids).select_related("user").order_by("pk")
    )
    profile = selectors.agent_pick(profiles=profiles, exclude_user_ids=exclude_user_ids)
    if profile is None:
        return None
    now = timezone.now()
    escalation.status = Escalation.Status.ASSIGNED
    escalation.assigned_to = profile.user
    escalation.assigned_at = now
    escalation.reminded_at = None
    escalation.route_count = F("route_count") + 1
    escalation.save(update_fields=["status", "assigned_to", "assigned_at", "reminded_at", "route_count"])
    escalation.refresh_from_db(fields=["route_count"])
    profile.last_assigned_at = now
    profile.save(update_fields=["last_assigned_at"])

    job_after_commit("notify_escalation", escalation.pk)
    return escalation


def escalation_route_waiting() -> int:
    """Try to route every queued escalation (an agent came online, or the watchdog runs)."""
    assigned = 0
    for escalation_id in selectors.escalation_waiting_list().filter(status=Escalation.Status.QUEUED).values_list(
        "pk", flat=True
    ):
        if escalation_route(escalation_id=escalation_id) is not None:
            assigned += 1
    return assigned


@transaction.atomic
def escalation_notify(*, escalation_id: int) -> bool:
    """Push the assignment to the workspaces (the assigned agent's gets `for_you`)."""
    escalation = (
        Escalation.objects.select_for_update(of=("self",))
        .select_related("conversation", "assigned_to")
        .filter(pk=escalation_id)
        .first()
    )
    if escalation is None or not escalation.is_open:
        return False
    escalation_changed_push(escalation)
    if escalation.status == Escalation.Status.ASSIGNED and escalation.notified_at is None:
        escalation.notified_at = timezone.now()
        escalation.save(update_fields=["notified_at"])
    return True


def _priority_raise(escalation: Escalation, now) -> bool:
    if escalation.priority_rank >= Escalation.PRIORITY_RANK[Escalation.Priority.URGENT]:
        return False
    escalation.priority = PRIORITY_BY_RANK[escalation.priority_rank + 1]
    escalation.priority_raised_at = now
    escalation.save(update_fields=["priority", "priority_raised_at"])
    return True


def escalation_sla_check(*, now=None) -> dict:
    """The watchdog (Celery beat): nobody may be left waiting unnoticed.

    - queued ones are routed again; still queued past the SLA: priority goes up (once per SLA);
    - assigned but unclaimed past the reminder time: the agent gets an e-mail;
    - still unclaimed past the re-route time: handed to another agent, priority up;
    - active with an agent whose workspace has been gone a while: back to the queue.
    """
    now = now or timezone.now()
    report = {"routed": 0, "raised": 0, "reminded": 0, "rerouted": 0, "requeued": 0}
    report["routed"] = escalation_route_waiting()

    sla = _queue_sla()
    for escalation_id in Escalation.objects.filter(
        status=Escalation.Status.QUEUED, created_at__lte=now - sla
    ).values_list("pk", flat=True):
        with transaction.atomic():
            escalation = Escalation.objects.select_for_update(of=("self",)).select_related("conversation").get(pk=escalation_id)
            last = escalation.priority_raised_at or escalation.created_at
            if escalation.status == Escalation.Status.QUEUED and last <= now - sla and _priority_raise(escalation, now):
                report["raised"] += 1
                escalation_changed_push(escalation)
                if selectors.agent_online_exists():
                    queue_positions_push()

    reminder = _claim_reminder_after()
    for escalation_id in Escalation.objects.filter(
        status=Escalation.Status.ASSIGNED, assigned_at__lte=now - reminder, reminded_at__isnull=True
    ).values_list("pk", flat=True):
        job_now("send_claim_reminder", escalation_id)
        report["reminded"] += 1

    reroute = _reroute_after()
    for escalation_id in Escalation.objects.filter(
        status=Escalation.Status.ASSIGNED, assigned_at__lte=now - reroute
    ).values_list("pk", flat=True):
        if escalation_reroute(escalation_id=escalation_id, now=now):
            report["rerouted"] += 1

    abandoned = _abandoned_after()
    for escalation_id in Escalation.objects.filter(
        status=Escalation.Status.ACTIVE,
        # Heartbeats keep last_seen fresh while any workspace tab is open; a server that died
        # never ran disconnect, so the socket count alone cannot be trusted.
        assigned_to__agent_profile__last_seen_at__lte=now - abandoned,
    ).values_list("pk", flat=True):
        if escalation_requeue(escalation_id=escalation_id):
            report["requeued"] += 1
    return report


@transaction.atomic
def escalation_reroute(*, escalation_id: int, now=None) -> bool:
    """Nobody claimed it in time: raise its priority and hand it to another agent if one is free."""
    now = now or timezone.now()
    escalation = Escalation.objects.select_for_update(of=("self",)).select_related("conversation").get(pk=escalation_id)
    if escalation.status != Escalation.Status.ASSIGNED or escalation.assigned_at > now - _reroute_after():
        return False
    previous = escalation.assigned_to_id
    _priority_raise(escalation, now)
    escalation.status = Escalation.Status.QUEUED
    escalation.assigned_to = None
    escalation.save(update_fields=["status", "assigned_to"])
    routed = escalation_route(escalation_id=escalation.pk, exclude_user_ids=[previous] if previous else [])
    if routed is None:
        if previous is not None:
            # Nobody else is free: it stays with the same agent (now more urgent), and the
            # reminder goes out again after the next reminder period.
            escalation.status = Escalation.Status.ASSIGNED
            escalation.assigned_to_id = previous
            escalation.assigned_at = now
            escalation.reminded_at = None
            escalation.save(update_fields=["status", "assigned_to", "assigned_at", "reminded_at"])
        job_after_commit("notify_escalation", escalation.pk)
        return False
    return True


@transaction.atomic
def escalation_requeue(*, escalation_id: int) -> bool:
    """The agent's workspace is gone: put the conversation back in the queue so it is not stuck."""
    escalation = Escalation.objects.select_for_update(of=("self",)).select_related("conversation").get(pk=escalation_id)
    if escalation.status != Escalation.Status.ACTIVE:
        return False
    conversation = escalation.conversation
    escalation.status = Escalation.Status.QUEUED
    escalation.assigned_to = None
    escalation.claimed_at = None
    escalation.save(update_fields=["status", "assigned_to", "claimed_at"])
    Conversation.objects.filter(pk=conversation.pk).update(status=Conversation.Status.WAITING, updated_at=timezone.now())
    events.agent_left(conversation)
    system_message_store(conversation, gettext_lazy("Our agent got disconnected — you're back in the queue and the next person will take over."))
    online = selectors.agent_online_exists()
    events.conversation_escalated(
        conversation,
        reason=escalation.reason,
        position=selectors.queue_position(escalation=escalation) if online else None,
        agents_online=online,
    )
    escalation_changed_push(escalation)

    job_after_commit("route_escalation", escalation.pk)
    return True
