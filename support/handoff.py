"""The desk's side of the hand-off: it takes a conversation from the assistant (through the
port in bot/handoff.py, which SupportConfig.ready() fills with `DeskHandoff`) and, after hours,
the shopper's e-mail address for a follow-up."""

from __future__ import annotations

import json
import logging

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from bot import events, intents
from bot.conversations import conversation_state_write
from bot.models import Conversation

from . import selectors
from .desk import escalation_changed_push, system_message_store
from .jobs import job_after_commit
from .models import Escalation, FollowUpTicket

logger = logging.getLogger(__name__)

DEFAULT_PRIORITY = {
    Escalation.Reason.COMPLAINT: Escalation.Priority.HIGH,
    Escalation.Reason.VERIFICATION_LOCKED: Escalation.Priority.HIGH,
    Escalation.Reason.ACTION_FAILED: Escalation.Priority.HIGH,
}
SMALL_TALK = intents.SMALL_TALK
MAX_CONTEXT_CHARS = 20000


class DeskHandoff:
    """The desk behind the bot's hand-off port (bot.handoff.Desk)."""

    def escalate(self, *, conversation, reason: str, context: dict) -> Escalation:
        return conversation_escalate(conversation=conversation, reason=reason, context=context)

    def capture_followup_email(self, *, conversation, email: str, client_address: str | None) -> FollowUpTicket:
        return followup_email_capture(conversation=conversation, email=email, client_address=client_address)

    def agents_online(self) -> bool:
        return selectors.agent_online_exists()


def escalation_summary(*, reason: str, context: dict) -> str:
    # Stored once and read by every agent: written in the shop's default language.
    with translation.override(settings.LANGUAGE_CODE):
        parts = [str(Escalation.Reason(reason).label)]
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


def _packet_checked(context) -> dict:
    """The packet as the bot built it (bot.handoff.handoff_packet), bounded and stored as JSON."""
    if not isinstance(context, dict):
        raise ValueError("context must be a dict (the hand-off packet)")
    intents = list(context.get("intents") or [])[-10:]
    if not all(isinstance(i, dict) for i in intents):
        raise ValueError("the packet's intents are {intent, confidence} items (bot.handoff.handoff_packet)")
    packet = {
        **context,
        "intents": intents,
        "entities": dict(context.get("entities") or {}),
        "verified_order": context.get("verified_order"),
        "actions": list(context.get("actions") or [])[:20],
        "last_message": str(context.get("last_message") or "")[:2000],
    }
    stored = json.dumps(packet, default=str)
    if len(stored) > MAX_CONTEXT_CHARS:
        raise ValueError("the hand-off packet is too large")
    return json.loads(stored)


@transaction.atomic
def conversation_escalate(*, conversation, reason: str, context: dict, priority: str | None = None) -> Escalation:
    """Hand a conversation to people. Idempotent: an open escalation is returned (priority raised)."""
    if reason not in Escalation.Reason.values:
        raise ValueError(f"unknown escalation reason {reason!r}")
    priority = priority or DEFAULT_PRIORITY.get(reason, Escalation.Priority.NORMAL)
    if priority not in Escalation.Priority.values:
        raise ValueError(f"unknown priority {priority!r}")
    packet = _packet_checked(context)
    locked = Conversation.objects.select_for_update(of=("self",)).get(pk=conversation.pk)

    existing = Escalation.objects.select_for_update(of=("self",)).filter(conversation=locked, status__in=Escalation.OPEN).first()
    if existing is not None:
        if Escalation.PRIORITY_RANK[priority] > existing.priority_rank:
            existing.priority = priority
            existing.priority_raised_at = timezone.now()
            existing.save(update_fields=["priority", "priority_raised_at"])
            escalation_changed_push(existing)
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
        system_message_store(
            locked,
            gettext_lazy(
                "No one from our support team is online right now (our hours: %(hours)s). "
                "Please leave your e-mail address here and a person will answer you by e-mail as soon as we're back."
            ),
            hours=hours,
        )
    escalation_changed_push(escalation)
    job_after_commit("route_escalation", escalation.pk)
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
        raise ValidationError(_("That doesn't look like an e-mail address.")) from exc
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
        escalation_changed_push(escalation)

    # Already confirmed to this address: nothing to send, nothing to count.
    ticket.confirmation_queued = ticket.confirmation_sent_at is None and mail_limit_take(
        kind="followup", address=email, conversation_id=locked.pk, client_address=client_address
    )
    if ticket.confirmation_queued:
        job_after_commit("send_followup_confirmation", ticket.pk)
    elif ticket.confirmation_sent_at is None:
        logger.info("follow-up ticket %s: confirmation withheld, mail limit reached", ticket.pk)
    return ticket
