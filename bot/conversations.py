"""Conversation and message storage: tokens, idempotent message writes, transcripts.

The consumer and the support desk call these; they never save rows themselves.
"""

from __future__ import annotations

import uuid
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


def conversation_from_token(token: str, *, user=None) -> Conversation | None:
    """The conversation a signed token opens, or None for a bad, expired or closed one.

    A token whose conversation has no row yet (nobody wrote in it) opens it again, unsaved,
    with the same public_id (see conversation_new).
    """
    if not token or len(token) > 300:
        return None
    try:
        public_hex = signing.loads(token, salt=TOKEN_SALT, max_age=TOKEN_MAX_AGE)
        public_id = uuid.UUID(public_hex)
    except (signing.BadSignature, ValueError, TypeError):
        return None
    conversation = Conversation.objects.filter(public_id=public_id).first()
    if conversation is None:
        return conversation_new(user=user, public_id=public_id)
    return None if conversation.status == Conversation.Status.CLOSED else conversation


def conversation_new(*, user=None, public_id: uuid.UUID | None = None) -> Conversation:
    """A conversation that is not stored yet: its token can be signed, its row comes with the
    first message (conversation_store), so a connect alone writes nothing."""
    return Conversation(
        public_id=public_id or uuid.uuid4(), user=user if user is not None and user.is_authenticated else None
    )


def conversation_resume(*, token: str, user=None) -> Conversation | None:
    """The conversation a shopper's socket reopens with its token, or None to start a new one.

    A conversation started while signed in answers about that account's orders without asking
    for proof, so it reopens only for the same account: not after signing out, nor for another
    account on the same browser. An anonymous one becomes the account's when the shopper has
    signed in since.
    """
    conversation = conversation_from_token(token)
    if conversation is None:
        return None
    signed_in = user is not None and user.is_authenticated
    if conversation.user_id is not None:
        return conversation if signed_in and conversation.user_id == user.pk else None
    if signed_in:
        Conversation.objects.filter(pk=conversation.pk, user__isnull=True).update(user=user)
        conversation.user = user
    return conversation


def conversation_start(*, user=None) -> Conversation:
    conversation = conversation_new(user=user)
    conversation_store(conversation)
    return conversation


def conversation_store(conversation: Conversation) -> None:
    """Give an unsaved conversation its row (or the row another tab stored under the same
    public_id first), in place. Nothing to do for a stored one."""
    if conversation.pk is not None:
        return
    row, _ = Conversation.objects.get_or_create(public_id=conversation.public_id, defaults={"user_id": conversation.user_id})
    for field in Conversation._meta.concrete_fields:
        setattr(conversation, field.attname, getattr(row, field.attname))
    conversation._state.adding, conversation._state.db = False, row._state.db


def shopper_message_receive(
    *, conversation: Conversation, text: str, client_id: str | None
) -> tuple[Message, bool, Conversation | None]:
    """Store a shopper's message (once per client_id). Returns (message, created, replying).

    `replying` is the conversation as it stands now when the assistant may answer this new
    message (it may not while a person holds the conversation, nor to a resend), else None.
    One trip for the consumer: the insert, then the conversation row the assistant's turn
    starts from, so the turn does not read it again. A conversation's first message stores
    the conversation itself first.
    """
    conversation_store(conversation)
    if connection.vendor != "postgresql":
        message, created = message_store(
            conversation=conversation, sender=Message.Sender.SHOPPER, text=text, client_id=client_id, touch_conversation=False
        )
        return message, created, conversation_for_reply(conversation_id=conversation.pk) if created else None
    # PostgreSQL: the insert and the read in one statement (one round trip, one commit).
    replying: list = []

    def insert_and_read(fields: dict) -> Message:
        message, row = rows.insert_then_fetch(
            Message, _row_values(fields), Conversation,
            where={"id": conversation.pk}, among={"status": (Conversation.Status.BOT, Conversation.Status.WAITING)},
        )
        replying.append(row)
        return _message_instance(fields, message)

    fields = _message_fields(conversation=conversation, sender=Message.Sender.SHOPPER, text=text, client_id=client_id)
    message, created = _store_once(fields, insert_and_read)
    if created:
        events.message_created(message)
    return message, created, replying[0] if created else None


def conversation_for_reply(*, conversation_id: int) -> Conversation | None:
    """The conversation when the assistant may talk in it, else None (hot path: bot.rows).

    Its user, if any, is loaded when first asked for (most shoppers are anonymous).
    """
    return rows.fetch(
        Conversation, where={"id": conversation_id}, among={"status": (Conversation.Status.BOT, Conversation.Status.WAITING)}
    )


def transcript(conversation: Conversation) -> list[Message]:
    if conversation.pk is None:
        return []  # nothing was written in it yet
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
    fields = _message_fields(
        conversation=conversation, sender=sender, text=text, client_id=client_id, agent=agent, intent=intent,
        confidence=confidence, data=data,
    )
    message, created = _store_once(fields, _message_insert)
    if not created:
        return message, False
    if touch_conversation:
        Conversation.objects.filter(pk=conversation.pk).update(updated_at=message.created_at)
    events.message_created(message)
    return message, True


def _message_fields(*, conversation, sender, text, client_id=None, agent=None, intent="", confidence=None, data=None) -> dict:
    return dict(
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


def _store_once(fields: dict, insert) -> tuple[Message, bool]:
    """Insert first: the unique (conversation, client_id) constraint decides, so a resend or two
    sockets racing on the same message can never store it twice. Returns (message, created).

    Inside a transaction, a savepoint lets the caller's transaction survive a conflict; in
    autocommit the INSERT is its own transaction (no BEGIN/COMMIT round trips) and a conflict
    leaves nothing to undo.
    """
    if not fields["client_id"]:
        return insert(fields), True  # no client_id: nothing to race on
    try:
        with transaction.atomic() if connection.in_atomic_block else nullcontext():
            return insert(fields), True
    except IntegrityError:
        return Message.objects.get(conversation=fields["conversation"], client_id=fields["client_id"]), False


def _row_values(fields: dict) -> dict:
    return {**fields, "conversation": fields["conversation"].pk, "agent": fields["agent"].pk if fields["agent"] else None}


def _message_instance(fields: dict, pk: int) -> Message:
    return rows.as_stored(Message(**fields), pk)


def _message_insert(fields: dict) -> Message:
    """One INSERT through bot.rows (every message of every turn comes through here)."""
    return _message_instance(fields, rows.insert(Message, _row_values(fields)))


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
