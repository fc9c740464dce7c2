"""What an agent does with a conversation: claim it, reply, type, hand it back, resolve it."""

from __future__ import annotations

import uuid

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from bot import events
from bot.conversations import conversation_state_write, message_store
from bot.models import Conversation, Message, TrainingExample
from bot.text import refusable_text

from . import selectors
from .desk import DeskError, escalation_changed_push, queue_positions_push, system_message_store
from .emails import transcript_recipient
from .jobs import job_after_commit
from .models import Escalation, FollowUpTicket
from .review import model_guess

MAX_REPLY_LENGTH = 4000


def _open_escalation_locked(escalation_id) -> Escalation:
    escalation = (
        Escalation.objects.select_for_update(of=("self",))
        .select_related("conversation", "assigned_to")
        .filter(pk=escalation_id)
        .first()
    )
    if escalation is None:
        raise DeskError("not_found", _("There is no such escalation."))
    return escalation


def _held_escalation_locked(*, agent, conversation_hex: str) -> Escalation:
    escalation = (
        Escalation.objects.select_for_update(of=("self",))
        .select_related("conversation", "assigned_to")
        .filter(conversation__public_id=_uuid_or_error(conversation_hex), status=Escalation.Status.ACTIVE)
        .first()
    )
    if escalation is None or escalation.assigned_to_id != agent.pk:
        raise DeskError("not_yours", _("Claim this conversation before you reply to it or release it."))
    return escalation


def _uuid_or_error(value) -> str:
    try:
        return uuid.UUID(str(value)).hex
    except (ValueError, TypeError, AttributeError) as exc:
        raise DeskError("bad_conversation", _("That is not a conversation id.")) from exc


@transaction.atomic
def escalation_claim(*, escalation_id: int, agent) -> Escalation:
    """The agent takes the conversation; from now on the bot stays silent in it."""
    escalation = _open_escalation_locked(escalation_id)
    if not escalation.is_open:
        raise DeskError("resolved", _("This escalation is already resolved."))
    if escalation.status == Escalation.Status.ACTIVE:
        if escalation.assigned_to_id == agent.pk:
            return escalation  # a second click, or a second tab
        raise DeskError("already_claimed", _("%(agent)s already has this conversation.") % {"agent": selectors.agent_name(escalation.assigned_to)})
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
    escalation_changed_push(escalation)
    queue_positions_push()
    return escalation


@transaction.atomic
def agent_reply(*, agent, conversation_hex: str, text: str, client_id: str | None) -> Message:
    """An agent's message to the shopper, stored once per client_id and pushed after commit."""
    text = (text or "").strip()
    if not text:
        raise DeskError("empty", _("The reply is empty."))
    if len(text) > MAX_REPLY_LENGTH:
        raise DeskError("too_long", _("Replies are limited to %(count)d characters.") % {"count": MAX_REPLY_LENGTH})
    if refusable_text(text):
        raise DeskError("bad_text", _("The reply holds characters that cannot be stored (a NUL or a lone surrogate)."))
    if client_id is not None and (not isinstance(client_id, str) or len(client_id) > 64 or refusable_text(client_id)):
        raise DeskError("bad_client_id", _("client_id must be a string of at most 64 characters."))
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
        raise DeskError("client_id_reused", _("This client_id was already used for another message; nothing was sent."))
    return message


def agent_typing(*, agent, conversation_hex: str) -> None:
    """Show the shopper that the agent is typing (only in a conversation the agent holds)."""
    escalation = (
        Escalation.objects.select_related("conversation")
        .filter(conversation__public_id=_uuid_or_error(conversation_hex), status=Escalation.Status.ACTIVE, assigned_to=agent)
        .first()
    )
    if escalation is None:
        raise DeskError("not_yours", _("Claim this conversation first."))
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
    escalation_changed_push(escalation)
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
        raise DeskError("bad_text", _("The note or answer holds characters that cannot be stored (a NUL or a lone surrogate)."))
    escalation = _open_escalation_locked(escalation_id)
    if not escalation.is_open:
        raise DeskError("resolved", _("This escalation is already resolved."))
    if escalation.status == Escalation.Status.ACTIVE and escalation.assigned_to_id != agent.pk:
        raise DeskError("already_claimed", _("Another agent has this conversation."))
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
                raise DeskError("bad_messages", _("Only the shopper's messages of this conversation can be labelled."))
        TrainingExample.objects.bulk_create(
            [
                TrainingExample(
                    text=m.text,
                    intent=intent,
                    source=TrainingExample.Source.AGENT_LABEL,
                    message=m,
                    conversation=conversation,
                    better_answer=better_answer.strip()[:5000],
                    created_by=agent,
                    created_at=now,
                    labelled_at=now,
                )
                for m in messages
            ],
            # A message labelled before (in the review queue, or an earlier hand-off) takes this label.
            update_conflicts=True,
            unique_fields=["message"],
            update_fields=["intent", "source", "conversation", "better_answer", "created_by", "labelled_at"],
        )

    FollowUpTicket.objects.filter(escalation=escalation, status=FollowUpTicket.Status.OPEN).update(
        status=FollowUpTicket.Status.DONE, closed_at=now
    )
    if conversation.status in (Conversation.Status.AGENT, Conversation.Status.WAITING):
        conversation_state_write(conversation, status=Conversation.Status.BOT, drop=("awaiting_followup_email",))
    if was_with_agent:
        events.agent_left(conversation)
    recipient = transcript_recipient(escalation=escalation)
    system_message_store(
        conversation,
        gettext_lazy(
            "%(agent)s has marked your request as resolved. A copy of this conversation is on its way to your e-mail. "
            "The assistant is here if you need anything else."
        )
        if recipient
        else gettext_lazy("%(agent)s has marked your request as resolved. The assistant is here if you need anything else."),
        agent=selectors.agent_name(agent),
    )
    escalation_changed_push(escalation)
    if not was_with_agent:
        queue_positions_push()
    if recipient:
        job_after_commit("send_transcript", escalation.pk)
    return escalation


@transaction.atomic
def message_label(*, message_id: int, intent: str, agent) -> TrainingExample:
    """An agent's label for a shopper message (review queue or transcript): a training example
    with who, when and from which conversation. Labelling the message again updates its row."""
    if intent not in selectors.intent_labels():
        raise DeskError("bad_intent", f"{intent!r} is not an intent of the model.")
    message = Message.objects.filter(pk=message_id, sender=Message.Sender.SHOPPER).first()
    if message is None:
        raise DeskError("bad_message", "Only a shopper's message can be labelled.")
    now = timezone.now()
    source = TrainingExample.Source.CONFIRMATION if intent == model_guess(message) else TrainingExample.Source.CORRECTION
    TrainingExample.objects.bulk_create(
        [
            TrainingExample(
                text=message.text, intent=intent, source=source, message=message, conversation_id=message.conversation_id,
                created_by=agent, created_at=now, labelled_at=now,
            )
        ],
        update_conflicts=True,
        unique_fields=["message"],
        update_fields=["intent", "source", "conversation", "created_by", "labelled_at"],
    )
    return TrainingExample.objects.get(message=message)
