"""Conversation and message storage: tokens, idempotent message writes, transcripts.

The consumer and the support desk call these; they never save rows themselves.
"""

from __future__ import annotations

from contextlib import nullcontext

from django.core import signing
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from . import events, rows
from .models import Conversation, Message

TOKEN_SALT = "bot.conversation"
TOKEN_MAX_AGE = 60 * 60 * 24 * 30  # a shopper can resume for 30 days


def conversation_token(conversation: Conversation) -> str:
    return signing.dumps(conversation.public_id.hex, salt=TOKEN_SALT, compress=False)


def conversation_from_token(token: str) -> Conversation | None:
    """The conversation a signed token opens, or None for a bad, expired or unknown token."""
    if not token or len(token) > 300:
        return None
    try:
        public_hex = signing.loads(token, salt=TOKEN_SALT, max_age=TOKEN_MAX_AGE)
    except signing.BadSignature:
        return None
    return Conversation.objects.filter(public_id=public_hex).exclude(status=Conversation.Status.CLOSED).first()


def conversation_start(*, user=None) -> Conversation:
    return Conversation.objects.create(user=user if user is not None and user.is_authenticated else None)


def shopper_message_receive(
    *, conversation: Conversation, text: str, client_id: str | None
) -> tuple[Message, bool, Conversation | None]:
    """Store a shopper's message (once per client_id). Returns (message, created, replying).

    `replying` is the conversation as it stands now when the assistant may answer this new
    message (it may not while a person holds the conversation, nor to a resend), else None.
    One trip for the consumer: the insert, then the conversation row the assistant's turn
    starts from, so the turn does not read it again.
    """
    message, created = message_store(
        conversation=conversation, sender=Message.Sender.SHOPPER, text=text, client_id=client_id, touch_conversation=False
    )
    return message, created, conversation_for_reply(conversation_id=conversation.pk) if created else None


def conversation_for_reply(*, conversation_id: int) -> Conversation | None:
    """The conversation when the assistant may talk in it, else None (hot path: bot.rows).

    Its user, if any, is loaded when first asked for (most shoppers are anonymous).
    """
    return rows.fetch(
        Conversation, where={"id": conversation_id}, among={"status": (Conversation.Status.BOT, Conversation.Status.WAITING)}
    )


def transcript(conversation: Conversation) -> list[Message]:
    return list(conversation.messages.select_related("conversation").order_by("pk"))


def message_store(
    *,
    conversation: Conversation,
    sender: str,
    text: str,
    client_id: str | None = None,
    agent=None,
    intent: str = "",
    confidence: float | None = None,
    data: dict | None = None,
    touch_conversation: bool = True,
) -> tuple[Message, bool]:
    """Store a message exactly once per (conversation, client_id); push it after commit.

    Returns (message, created). A resend with a known client_id returns the stored row.
    touch_conversation=False when the caller saves the conversation in the same transaction.
    """
    fields = dict(
        conversation=conversation,
        sender=sender,
        text=text,
        client_id=client_id or None,
        agent=agent,
        intent=intent,
        confidence=confidence,
        data=data or {},
        created_at=timezone.now(),
    )
    if client_id:
        # Insert first: the unique (conversation, client_id) constraint decides, so a resend or
        # two sockets racing on the same message can never store it twice.
        # Inside a transaction, a savepoint lets the caller's transaction survive a conflict; in
        # autocommit the INSERT is its own transaction (no BEGIN/COMMIT round trips) and a
        # conflict leaves nothing to undo.
        try:
            with transaction.atomic() if connection.in_atomic_block else nullcontext():
                message = _message_insert(fields)
        except IntegrityError:
            return Message.objects.get(conversation=conversation, client_id=client_id), False
    else:
        message = _message_insert(fields)  # no client_id: nothing to race on
    if touch_conversation:
        Conversation.objects.filter(pk=conversation.pk).update(updated_at=message.created_at)
    events.message_created(message)
    return message, True


def _message_insert(fields: dict) -> Message:
    """One INSERT through bot.rows (every message of every turn comes through here)."""
    values = {**fields, "conversation": fields["conversation"].pk, "agent": fields["agent"].pk if fields["agent"] else None}
    message = Message(**fields)
    message.pk = rows.insert(Message, values)
    message._state.adding = False
    message._state.db = connection.alias
    return message


def message_annotate(*, message: Message, intent: str, confidence: float, data: dict) -> None:
    """Record what the assistant understood of a shopper's message (for agents and training)."""
    message.intent = intent
    message.confidence = confidence
    message.data = {**message.data, **data}
    rows.update(Message, message.pk, {"intent": intent, "confidence": confidence, "data": message.data})


def conversation_rate(*, conversation: Conversation, score: int, comment: str = "") -> None:
    conversation.rating = score
    conversation.rating_comment = comment[:2000]
    conversation.save(update_fields=["rating", "rating_comment", "updated_at"])
