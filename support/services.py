"""Writes of the support desk: hand-offs, routing, claims, replies, resolutions, follow-ups.

Every public function here is the outermost transaction of what it does; pushes go out through
bot.events after commit and slow work (routing, e-mail) through Celery tasks enqueued on commit.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.db.models import F
from django.template.loader import render_to_string
from django.utils import timezone

from bot import events, intents
from bot.conversations import conversation_state_write, message_store, transcript
from bot.models import Conversation, Message, TrainingExample
from bot.text import refusable_text

from . import selectors
from .models import AgentProfile, Escalation, FollowUpTicket

logger = logging.getLogger(__name__)

DEFAULT_PRIORITY = {
    Escalation.Reason.COMPLAINT: Escalation.Priority.HIGH,
    Escalation.Reason.VERIFICATION_LOCKED: Escalation.Priority.HIGH,
    Escalation.Reason.ACTION_FAILED: Escalation.Priority.HIGH,
}
PRIORITY_BY_RANK = {rank: value for value, rank in Escalation.PRIORITY_RANK.items()}
SMALL_TALK = intents.SMALL_TALK
MAX_REPLY_LENGTH = 4000
MAX_CONTEXT_CHARS = 20000


class DeskError(Exception):
    """A request the desk refuses; `code` goes to the client as the error frame's code."""

    def __init__(self, code: str, detail: str):
        super().__init__(detail)
        self.code = code
        self.detail = detail


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


def _system_message(conversation, text: str) -> Message:
    message, _ = message_store(conversation=conversation, sender=Message.Sender.SYSTEM, text=text)
    return message


def _escalation_changed(escalation: Escalation) -> None:
    """Push the escalation's new state to every workspace (callers hold its row lock)."""
    Escalation.objects.filter(pk=escalation.pk).update(version=F("version") + 1)
    escalation.version = Escalation.objects.values_list("version", flat=True).get(pk=escalation.pk)
    events.escalation_changed(selectors.escalation_frame(escalation))


def _queue_positions_changed() -> None:
    """Tell every waiting shopper their new place in the queue (callers: an agent acted, or the
    watchdog while someone is online; with nobody online a place promises what will not happen)."""
    for position, escalation in enumerate(selectors.escalation_waiting_list().select_related("conversation"), 1):
        events.queue_position(escalation.conversation, position=position)


def escalation_summary(*, reason: str, context: dict) -> str:
    parts = [Escalation.Reason(reason).label]
    # The latest request the bot recognised says most (small talk and "unsure" say little).
    guesses = [
        i for i in context.get("intents") or []
        if isinstance(i, dict) and i.get("intent") and i.get("intent") not in SMALL_TALK
    ]
    if guesses:
        last = guesses[-1]
        confidence = last.get("confidence")
        parts.append(f"bot understood {last['intent']}" + (f" ({confidence:.2f})" if isinstance(confidence, (int, float)) else ""))
    if context.get("verified_order"):
        parts.append(f"order {context['verified_order']} verified")
    last = (context.get("last_message") or "").strip()
    if last:
        parts.append(f"“{last[:140]}”")
    return " · ".join(parts)[:300]


def _intent_item(item) -> dict:
    """One understood intent as {"intent", "confidence"}; the dialogue state keeps [intent, conf]."""
    if isinstance(item, dict):
        return item
    if isinstance(item, (list, tuple)) and len(item) == 2 and isinstance(item[0], str):
        return {"intent": item[0], "confidence": item[1]}
    return {"intent": str(item), "confidence": None}


def _clean_context(context) -> dict:
    if not isinstance(context, dict):
        raise ValueError("context must be a dict (the hand-off packet)")
    packet = {
        "intents": [_intent_item(i) for i in list(context.get("intents") or [])[-10:]],
        "entities": dict(context.get("entities") or {}),
        "verified_order": context.get("verified_order"),
        "actions": list(context.get("actions") or [])[:20],
        "last_message": str(context.get("last_message") or "")[:2000],
    }
    for key, value in context.items():
        packet.setdefault(key, value)
    import json

    if len(json.dumps(packet, default=str)) > MAX_CONTEXT_CHARS:
        raise ValueError("the hand-off packet is too large")
    return json.loads(json.dumps(packet, default=str))


# --- Hand-off ------------------------------------------------------------------------------


@transaction.atomic
def conversation_escalate(*, conversation, reason: str, context: dict, priority: str | None = None) -> Escalation:
    """Hand a conversation to people. Idempotent: an open escalation is returned (priority raised)."""
    if reason not in Escalation.Reason.values:
        raise ValueError(f"unknown escalation reason {reason!r}")
    priority = priority or DEFAULT_PRIORITY.get(reason, Escalation.Priority.NORMAL)
    if priority not in Escalation.Priority.values:
        raise ValueError(f"unknown priority {priority!r}")
    packet = _clean_context(context)
    locked = Conversation.objects.select_for_update(of=("self",)).get(pk=conversation.pk)
    if not packet["last_message"]:
        # Not every caller knows it (the assistant may have failed before reading it).
        packet["last_message"] = (
            Message.objects.filter(conversation=locked, sender=Message.Sender.SHOPPER)
            .order_by("-pk")
            .values_list("text", flat=True)
            .first()
            or ""
        )[:2000]

    existing = Escalation.objects.select_for_update(of=("self",)).filter(conversation=locked, status__in=Escalation.OPEN).first()
    if existing is not None:
        if Escalation.PRIORITY_RANK[priority] > existing.priority_rank:
            existing.priority = priority
            existing.priority_raised_at = timezone.now()
            existing.save(update_fields=["priority", "priority_raised_at"])
            _escalation_changed(existing)
        return existing

    online = selectors.agent_online_exists()
    try:
        with transaction.atomic():
            escalation = Escalation.objects.create(
                conversation=locked,
                reason=reason,
                priority=priority,
                summary=escalation_summary(reason=reason, context=packet),
                context=packet,
                after_hours=not online,
            )
    except IntegrityError:
        # Another process escalated this conversation at the same instant (the lock above
        # makes this rare; the unique constraint makes it impossible to have two).
        return Escalation.objects.get(conversation=locked, status__in=Escalation.OPEN)

    conversation_state_write(locked, status=Conversation.Status.WAITING, put=None if online else {"awaiting_followup_email": True})
    # Keep the caller's instance in step so a later save of it does not undo the hand-off.
    conversation.status = locked.status
    conversation.state = locked.state

    # One story for the shopper. Online: the `escalated` frame gives their place in the queue.
    # After hours: no place in the queue (nobody will join), and the follow-up by e-mail goes
    # into the transcript, where it stays when the shopper comes back.
    position = selectors.queue_position(escalation=escalation) if online else None
    events.conversation_escalated(locked, reason=reason, position=position, agents_online=online)
    if not online:
        from catalog.models import ShopPolicy

        hours = ShopPolicy.current().support_hours
        _system_message(
            locked,
            f"No one from our support team is online right now (our hours: {hours}). "
            "Please leave your e-mail address here and a person will answer you by e-mail as soon as we're back.",
        )
    _escalation_changed(escalation)

    from .tasks import route_escalation

    route_escalation.delay_on_commit(escalation.pk)
    return escalation


@transaction.atomic
def followup_email_capture(*, conversation, email: str, client_address: str | None = None) -> FollowUpTicket:
    """After hours: keep the shopper's e-mail address, open a follow-up ticket, confirm by e-mail.

    The address is only typed, not proved, so the confirmation says nothing but the shop's own
    words, and it goes out only within the mail limits (``catalog.mail_limits``: per address,
    per conversation, per ``client_address``). Over a limit the ticket still opens and
    ``ticket.confirmation_queued`` is False, so the caller can tell the shopper no mail comes.
    """
    from catalog.mail_limits import mail_limit_take

    email = (email or "").strip()
    try:
        validate_email(email)
    except ValidationError as exc:
        raise ValidationError("That doesn't look like an e-mail address.") from exc
    locked = Conversation.objects.select_for_update(of=("self",)).get(pk=conversation.pk)
    escalation = (
        Escalation.objects.filter(conversation=locked, status__in=Escalation.OPEN).first()
        or Escalation.objects.filter(conversation=locked).order_by("-created_at").first()
    )
    ticket = FollowUpTicket.objects.filter(conversation=locked, status=FollowUpTicket.Status.OPEN).first()
    if ticket is None:
        ticket = FollowUpTicket.objects.create(conversation=locked, escalation=escalation, email=email)
    elif ticket.email != email:
        ticket.email = email
        ticket.confirmation_sent_at = None
        ticket.save(update_fields=["email", "confirmation_sent_at"])
    conversation_state_write(locked, drop=("awaiting_followup_email",), shopper_email=email)
    conversation.state = locked.state
    conversation.shopper_email = email
    # The assistant thanks the shopper in its own reply (bot.services); no second message here.
    if escalation is not None and escalation.is_open:
        _escalation_changed(escalation)

    # Already confirmed to this address: nothing to send, nothing to count.
    ticket.confirmation_queued = ticket.confirmation_sent_at is None and mail_limit_take(
        kind="followup", address=email, conversation_id=locked.pk, client_address=client_address
    )
    if ticket.confirmation_queued:
        from .tasks import send_followup_confirmation

        send_followup_confirmation.delay_on_commit(ticket.pk)
    elif ticket.confirmation_sent_at is None:
        logger.info("follow-up ticket %s: confirmation withheld, mail limit reached", ticket.pk)
    return ticket


def followup_confirmation_send(*, ticket_id: int) -> bool:
    """Send the follow-up confirmation once. Returns whether a mail went out.

    Only shop-written text: the ticket number, the support hours, that a person will reply.
    Never the shopper's words: the address was typed in the chat and may be a stranger's.
    """
    from catalog.models import ShopPolicy

    with transaction.atomic():
        ticket = FollowUpTicket.objects.select_for_update(of=("self",)).get(pk=ticket_id)
        if ticket.confirmation_sent_at is not None:
            return False
        body = render_to_string(
            "support/email/followup_confirmation.txt",
            {"ticket": ticket, "shop_name": settings.SHOP_NAME, "support_hours": ShopPolicy.current().support_hours},
        )
        send_mail(
            f"{settings.SHOP_NAME}: we have your question (ticket #{ticket.pk})",
            body,
            settings.DEFAULT_FROM_EMAIL,
            [ticket.email],
        )
        ticket.confirmation_sent_at = timezone.now()
        ticket.save(update_fields=["confirmation_sent_at"])
    return True


# --- Routing and notification ---------------------------------------------------------------


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

    from .tasks import notify_escalation

    notify_escalation.delay_on_commit(escalation.pk)
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
    _escalation_changed(escalation)
    if escalation.status == Escalation.Status.ASSIGNED and escalation.notified_at is None:
        escalation.notified_at = timezone.now()
        escalation.save(update_fields=["notified_at"])
    return True


def escalation_remind_send(*, escalation_id: int) -> bool:
    """E-mail the assigned agent about an escalation they have not claimed. Once per assignment."""
    with transaction.atomic():
        escalation = (
            Escalation.objects.select_for_update(of=("self",))
            .select_related("conversation", "assigned_to")
            .filter(pk=escalation_id)
            .first()
        )
        if (
            escalation is None
            or escalation.status != Escalation.Status.ASSIGNED
            or escalation.reminded_at is not None
            or not escalation.assigned_to.email
        ):
            return False
        body = render_to_string(
            "support/email/claim_reminder.txt",
            {
                "escalation": escalation,
                "agent_name": selectors.agent_name(escalation.assigned_to),
                "workspace_url": settings.SHOP_BASE_URL.rstrip("/") + "/desk/workspace/",
                "shop_name": settings.SHOP_NAME,
            },
        )
        send_mail(
            f"[{settings.SHOP_NAME} desk] Escalation #{escalation.pk} is waiting for you",
            body,
            settings.DEFAULT_FROM_EMAIL,
            [escalation.assigned_to.email],
        )
        escalation.reminded_at = timezone.now()
        escalation.save(update_fields=["reminded_at"])
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
    from .tasks import send_claim_reminder

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
                _escalation_changed(escalation)
                if selectors.agent_online_exists():
                    _queue_positions_changed()

    reminder = _claim_reminder_after()
    for escalation_id in Escalation.objects.filter(
        status=Escalation.Status.ASSIGNED, assigned_at__lte=now - reminder, reminded_at__isnull=True
    ).values_list("pk", flat=True):
        send_claim_reminder.delay(escalation_id)
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
        from .tasks import notify_escalation

        notify_escalation.delay_on_commit(escalation.pk)
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
    _system_message(conversation, "Our agent got disconnected — you're back in the queue and the next person will take over.")
    online = selectors.agent_online_exists()
    events.conversation_escalated(
        conversation,
        reason=escalation.reason,
        position=selectors.queue_position(escalation=escalation) if online else None,
        agents_online=online,
    )
    _escalation_changed(escalation)

    from .tasks import route_escalation

    route_escalation.delay_on_commit(escalation.pk)
    return True


# --- The agent's actions -----------------------------------------------------------------


def _open_escalation_locked(escalation_id) -> Escalation:
    escalation = (
        Escalation.objects.select_for_update(of=("self",))
        .select_related("conversation", "assigned_to")
        .filter(pk=escalation_id)
        .first()
    )
    if escalation is None:
        raise DeskError("not_found", "There is no such escalation.")
    return escalation


def _held_escalation_locked(*, agent, conversation_hex: str) -> Escalation:
    escalation = (
        Escalation.objects.select_for_update(of=("self",))
        .select_related("conversation", "assigned_to")
        .filter(conversation__public_id=_uuid_or_error(conversation_hex), status=Escalation.Status.ACTIVE)
        .first()
    )
    if escalation is None or escalation.assigned_to_id != agent.pk:
        raise DeskError("not_yours", "Claim this conversation before you reply to it or release it.")
    return escalation


def _uuid_or_error(value) -> str:
    import uuid

    try:
        return uuid.UUID(str(value)).hex
    except (ValueError, TypeError, AttributeError) as exc:
        raise DeskError("bad_conversation", "That is not a conversation id.") from exc


@transaction.atomic
def escalation_claim(*, escalation_id: int, agent) -> Escalation:
    """The agent takes the conversation; from now on the bot stays silent in it."""
    escalation = _open_escalation_locked(escalation_id)
    if not escalation.is_open:
        raise DeskError("resolved", "This escalation is already resolved.")
    if escalation.status == Escalation.Status.ACTIVE:
        if escalation.assigned_to_id == agent.pk:
            return escalation  # a second click, or a second tab
        raise DeskError("already_claimed", f"{selectors.agent_name(escalation.assigned_to)} already has this conversation.")
    now = timezone.now()
    if escalation.assigned_to_id != agent.pk or escalation.assigned_at is None:
        escalation.assigned_at = now  # taken straight from the queue, or from a colleague who never claimed it
    escalation.status = Escalation.Status.ACTIVE
    escalation.assigned_to = agent
    escalation.claimed_at = now
    escalation.save(update_fields=["status", "assigned_to", "assigned_at", "claimed_at"])
    conversation = escalation.conversation
    conversation_state_write(conversation, status=Conversation.Status.AGENT, drop=("awaiting_followup_email",))
    name = selectors.agent_name(agent)
    events.agent_joined(conversation, agent_name=name)
    _escalation_changed(escalation)
    _queue_positions_changed()
    return escalation


@transaction.atomic
def agent_reply(*, agent, conversation_hex: str, text: str, client_id: str | None) -> Message:
    """An agent's message to the shopper, stored once per client_id and pushed after commit."""
    text = (text or "").strip()
    if not text:
        raise DeskError("empty", "The reply is empty.")
    if len(text) > MAX_REPLY_LENGTH:
        raise DeskError("too_long", f"Replies are limited to {MAX_REPLY_LENGTH} characters.")
    if refusable_text(text):
        raise DeskError("bad_text", "The reply holds characters that cannot be stored (a NUL or a lone surrogate).")
    if client_id is not None and (not isinstance(client_id, str) or len(client_id) > 64 or refusable_text(client_id)):
        raise DeskError("bad_client_id", "client_id must be a string of at most 64 characters.")
    escalation = _held_escalation_locked(agent=agent, conversation_hex=conversation_hex)
    message, created = message_store(
        conversation=escalation.conversation,
        sender=Message.Sender.AGENT,
        text=text,
        client_id=client_id or None,
        agent=agent,
        data={"agent_name": selectors.agent_name(agent)},
    )
    # A resend is acknowledged with the stored row; the same client_id for another text (or
    # another sender's message) is a mistake the agent must see, not a silent ack.
    if not created and (message.sender != Message.Sender.AGENT or message.agent_id != agent.pk or message.text != text):
        raise DeskError("client_id_reused", "This client_id was already used for another message; nothing was sent.")
    return message


def agent_typing(*, agent, conversation_hex: str) -> None:
    """Show the shopper that the agent is typing (only in a conversation the agent holds)."""
    escalation = (
        Escalation.objects.select_related("conversation")
        .filter(conversation__public_id=_uuid_or_error(conversation_hex), status=Escalation.Status.ACTIVE, assigned_to=agent)
        .first()
    )
    if escalation is None:
        raise DeskError("not_yours", "Claim this conversation first.")
    events.typing(escalation.conversation, sender="agent")


@transaction.atomic
def escalation_release(*, agent, conversation_hex: str) -> Escalation:
    """Hand the conversation back to the bot. The escalation closes as `released`."""
    escalation = _held_escalation_locked(agent=agent, conversation_hex=conversation_hex)
    now = timezone.now()
    escalation.status = Escalation.Status.RESOLVED
    escalation.outcome = Escalation.Outcome.RELEASED
    escalation.resolved_at = now
    escalation.save(update_fields=["status", "outcome", "resolved_at"])
    conversation = escalation.conversation
    conversation_state_write(conversation, status=Conversation.Status.BOT)
    events.agent_left(conversation)
    _escalation_changed(escalation)
    return escalation


@transaction.atomic
def escalation_resolve(
    *,
    escalation_id: int,
    agent,
    intent: str | None,
    note: str = "",
    better_answer: str = "",
    message_ids: list[int] | None = None,
) -> Escalation:
    """Close the escalation with what the shopper really wanted; the label becomes training data."""
    if intent is not None and intent not in selectors.intent_labels():
        raise DeskError("bad_intent", f"{intent!r} is not an intent of intents.yaml.")
    if not isinstance(note, str) or not isinstance(better_answer, str):
        raise DeskError("bad_frame", "note and better_answer must be text.")
    if refusable_text(note) or refusable_text(better_answer):
        raise DeskError("bad_text", "The note or answer holds characters that cannot be stored (a NUL or a lone surrogate).")
    escalation = _open_escalation_locked(escalation_id)
    if not escalation.is_open:
        raise DeskError("resolved", "This escalation is already resolved.")
    if escalation.status == Escalation.Status.ACTIVE and escalation.assigned_to_id != agent.pk:
        raise DeskError("already_claimed", "Another agent has this conversation.")
    conversation = escalation.conversation
    was_with_agent = escalation.status == Escalation.Status.ACTIVE
    now = timezone.now()
    escalation.status = Escalation.Status.RESOLVED
    escalation.outcome = Escalation.Outcome.RESOLVED
    escalation.assigned_to = agent
    escalation.resolved_at = now
    escalation.resolution_intent = intent or ""
    escalation.resolution_note = note.strip()[:5000]
    escalation.save(
        update_fields=["status", "outcome", "assigned_to", "resolved_at", "resolution_intent", "resolution_note"]
    )

    if intent:
        if message_ids is None:
            messages = selectors.training_candidates(escalation=escalation)
        else:
            if not isinstance(message_ids, list) or not all(isinstance(i, int) for i in message_ids):
                raise DeskError("bad_frame", "messages must be a list of message ids.")
            messages = list(
                Message.objects.filter(conversation=conversation, sender=Message.Sender.SHOPPER, pk__in=message_ids)
            )
            if len(messages) != len(set(message_ids)):
                raise DeskError("bad_messages", "Only the shopper's messages of this conversation can be labelled.")
        TrainingExample.objects.bulk_create(
            [
                TrainingExample(
                    text=m.text,
                    intent=intent,
                    source=TrainingExample.Source.AGENT_LABEL,
                    message=m,
                    better_answer=better_answer.strip()[:5000],
                    created_by=agent,
                )
                for m in messages
            ],
            ignore_conflicts=True,
        )

    FollowUpTicket.objects.filter(escalation=escalation, status=FollowUpTicket.Status.OPEN).update(
        status=FollowUpTicket.Status.DONE, closed_at=now
    )
    if conversation.status in (Conversation.Status.AGENT, Conversation.Status.WAITING):
        conversation_state_write(conversation, status=Conversation.Status.BOT, drop=("awaiting_followup_email",))
    if was_with_agent:
        events.agent_left(conversation)
    recipient = transcript_recipient(escalation=escalation)
    _system_message(
        conversation,
        f"{selectors.agent_name(agent)} has marked your request as resolved."
        + (" A copy of this conversation is on its way to your e-mail." if recipient else "")
        + " The assistant is here if you need anything else.",
    )
    _escalation_changed(escalation)
    if not was_with_agent:
        _queue_positions_changed()
    if recipient:
        from .tasks import send_transcript

        send_transcript.delay_on_commit(escalation.pk)
    return escalation


def transcript_recipient(*, escalation: Escalation) -> str | None:
    """Where the transcript goes: only an address the shopper proved (a verified order's, or
    the signed-in account's customer record). Never one merely typed in: the transcript holds
    everything written in the chat, and a typed address may be a stranger's."""
    from catalog.selectors import proved_email

    conversation = escalation.conversation
    state = conversation.state or {}
    # The order verified at the hand-off first, then the latest verified in the conversation.
    numbers = [(escalation.context or {}).get("verified_order"), *reversed(state.get("verified") or [])]
    return proved_email(order_numbers=numbers, user=conversation.user)


def transcript_send(*, escalation_id: int) -> bool:
    """E-mail the transcript of a resolved escalation to the shopper, once."""
    with transaction.atomic():
        escalation = Escalation.objects.select_for_update(of=("self",)).select_related("conversation").get(pk=escalation_id)
        if escalation.status != Escalation.Status.RESOLVED or escalation.transcript_sent_at is not None:
            return False
        recipient = transcript_recipient(escalation=escalation)
        if not recipient:
            return False
        body = render_to_string(
            "support/email/transcript.txt",
            {
                "escalation": escalation,
                "messages": transcript(escalation.conversation),
                "shop_name": settings.SHOP_NAME,
            },
        )
        send_mail(
            f"{settings.SHOP_NAME}: your conversation with our support team",
            body,
            settings.DEFAULT_FROM_EMAIL,
            [recipient],
        )
        escalation.transcript_sent_at = timezone.now()
        escalation.save(update_fields=["transcript_sent_at"])
    return True


# --- Agents' presence --------------------------------------------------------------------


def _profile_locked(agent) -> AgentProfile:
    AgentProfile.objects.get_or_create(user=agent)
    return AgentProfile.objects.select_for_update(of=("self",)).get(user=agent)


@transaction.atomic
def agent_availability_set(*, agent, availability: str) -> AgentProfile:
    if availability not in AgentProfile.Availability.values:
        raise DeskError("bad_availability", "Availability is online, away or offline.")
    profile = _profile_locked(agent)
    if profile.availability != availability:
        profile.availability = availability
        profile.availability_changed_at = timezone.now()
        profile.save(update_fields=["availability", "availability_changed_at"])
        events.agent_availability(agent.pk, availability=availability)
    if availability == AgentProfile.Availability.ONLINE:
        from .tasks import route_waiting

        route_waiting.delay_on_commit()
    return profile


@transaction.atomic
def agent_connect(*, agent) -> AgentProfile:
    """A workspace socket opened: the agent is online unless they chose to be away."""
    profile = _profile_locked(agent)
    now = timezone.now()
    stale = profile.last_seen_at is None or profile.last_seen_at < now - selectors.AGENT_STALE_AFTER
    # Sockets of a server that died were never counted down: a silent agent starts from zero.
    profile.open_sockets = 1 if stale else profile.open_sockets + 1
    profile.last_seen_at = now
    profile.save(update_fields=["open_sockets", "last_seen_at"])
    if profile.availability == AgentProfile.Availability.OFFLINE:
        profile.availability = AgentProfile.Availability.ONLINE
        profile.availability_changed_at = timezone.now()
        profile.save(update_fields=["availability", "availability_changed_at"])
    if profile.availability == AgentProfile.Availability.ONLINE:
        from .tasks import route_waiting

        route_waiting.delay_on_commit()
    return profile


@transaction.atomic
def agent_disconnect(*, agent) -> AgentProfile | None:
    """A workspace socket closed: with the last one gone the agent is offline."""
    profile = AgentProfile.objects.select_for_update(of=("self",)).filter(user_id=agent.pk).first()
    if profile is None:  # the user was deleted while the socket was open
        return None
    profile.open_sockets = max(0, profile.open_sockets - 1)
    profile.last_seen_at = timezone.now()
    fields = ["open_sockets", "last_seen_at"]
    if profile.open_sockets == 0 and profile.availability == AgentProfile.Availability.ONLINE:
        profile.availability = AgentProfile.Availability.OFFLINE
        profile.availability_changed_at = timezone.now()
        fields += ["availability", "availability_changed_at"]
    profile.save(update_fields=fields)
    return profile


def agent_heartbeat(*, agent) -> None:
    AgentProfile.objects.filter(user=agent).update(last_seen_at=timezone.now())
