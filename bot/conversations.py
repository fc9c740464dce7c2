"""Conversation and message storage: tokens, idempotent message writes, transcripts.

The consumer and the support desk call these; they never save rows themselves.
"""

from __future__ import annotations

from django.core import signing
from django.db import IntegrityError, transaction

from . import events
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


def conversation_bot_may_reply(*, conversation_id: int) -> bool:
    status = Conversation.objects.filter(pk=conversation_id).values_list("status", flat=True).first()
    return status in (Conversation.Status.BOT, Conversation.Status.WAITING)


def transcript(conversation: Conversation) -> list[Message]:
    return list(conversation.messages.select_related("conversation").order_by("pk"))


@transaction.atomic
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
) -> tuple[Message, bool]:
    """Store a message exactly once per (conversation, client_id); push it after commit.

    Returns (message, created). A resend with a known client_id returns the stored row.
    """
    if client_id:
        existing = Message.objects.filter(conversation=conversation, client_id=client_id).first()
        if existing is not None:
            return existing, False
    try:
        with transaction.atomic():
            message = Message.objects.create(
                conversation=conversation,
                sender=sender,
                text=text,
                client_id=client_id or None,
                agent=agent,
                intent=intent,
                confidence=confidence,
                data=data or {},
            )
    except IntegrityError:
        # Two sockets raced on the same client_id: the other one stored it first.
        return Message.objects.get(conversation=conversation, client_id=client_id), False
    Conversation.objects.filter(pk=conversation.pk).update(updated_at=message.created_at)
    events.message_created(message)
    return message, True


def message_annotate(*, message: Message, intent: str, confidence: float, data: dict) -> None:
    """Record what the assistant understood of a shopper's message (for agents and training)."""
    message.intent = intent
    message.confidence = confidence
    message.data = {**message.data, **data}
    message.save(update_fields=["intent", "confidence", "data"])


def conversation_rate(*, conversation: Conversation, score: int, comment: str = "") -> None:
    conversation.rating = score
    conversation.rating_comment = comment[:2000]
    conversation.save(update_fields=["rating", "rating_comment", "updated_at"])
