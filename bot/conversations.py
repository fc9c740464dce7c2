"""Conversation and message storage: tokens, idempotent message writes, the assistant's turn,
state writes, transcripts.

The one owner of conversation and message rows: the consumer, the assistant (bot.services,
bot.actions) and the support desk call these and never save those rows themselves. It alone
chooses between the PostgreSQL fast paths (bot.rows, one statement per write) and the generic
ORM path, merges the dialogue state unless a person holds the chat (state_merge), and pushes
every stored message to the clients after storing it (_store_and_push).
"""

from __future__ import annotations

import uuid
from contextlib import nullcontext
from functools import partial

from django.core import signing
from django.db import IntegrityError, connection, transaction
from django.utils import timezone, translation

from . import events, rows
from .language import default_language, message_language, shop_language
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


def conversation_new(*, user=None, public_id: uuid.UUID | None = None, language: str | None = None) -> Conversation:
    """A conversation that is not stored yet: its token can be signed, its row comes with the
    first message (conversation_store), so a connect alone writes nothing. `language`: the
    storefront's (bot.language.storefront_language), else the shop's default."""
    return Conversation(
        public_id=public_id or uuid.uuid4(),
        user=user if user is not None and user.is_authenticated else None,
        language=shop_language(language) or default_language(),
    )


def conversation_resume(*, token: str, user=None, language: str | None = None) -> Conversation | None:
    """The conversation a shopper's socket reopens with its token, or None to start a new one.

    A conversation started while signed in answers about that account's orders without asking
    for proof, so it reopens only for the same account: not after signing out, nor for another
    account on the same browser. An anonymous one becomes the account's when the shopper has
    signed in since.
    """
    conversation = conversation_from_token(token)
    if conversation is None:
        return None
    if conversation.pk is None and language:
        # Nothing written in it yet: it starts in the storefront's language like a new one.
        conversation.language = shop_language(language) or conversation.language
    signed_in = user is not None and user.is_authenticated
    if conversation.user_id is not None:
        return conversation if signed_in and conversation.user_id == user.pk else None
    if signed_in:
        Conversation.objects.filter(pk=conversation.pk, user__isnull=True).update(user=user)
        conversation.user = user
    return conversation


def conversation_start(*, user=None, language: str | None = None) -> Conversation:
    conversation = conversation_new(user=user, language=language)
    conversation_store(conversation)
    return conversation


def conversation_store(conversation: Conversation) -> None:
    """Give an unsaved conversation its row (or the row another tab stored under the same
    public_id first), in place. Nothing to do for a stored one."""
    if conversation.pk is not None:
        return
    row, _ = Conversation.objects.get_or_create(
        public_id=conversation.public_id, defaults={"user_id": conversation.user_id, "language": conversation.language}
    )
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
        if created:
            conversation_language_follow(conversation, text)
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
    message, created = _store_and_push(fields, insert_and_read)
    if created:
        conversation_language_follow(conversation, text, also=replying[0])
    return message, created, replying[0] if created else None


def conversation_language_follow(conversation: Conversation, text: str, *, also: Conversation | None = None) -> bool:
    """A shopper's message written in another shop language switches the conversation to it
    (bot.language.message_language; a message that says no language keeps it): the answer to
    it, and everything after, is in the shopper's language. `also`: another instance of the
    same row to keep in step. Returns whether it switched."""
    language = message_language(text)
    if language is None or language == conversation.language:
        if also is not None:
            also.language = conversation.language
        return False
    Conversation.objects.filter(pk=conversation.pk).update(language=language)
    for instance in (conversation, also):
        if instance is not None:
            instance.language = language
    return True


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
    answers: Message | None = None,
) -> tuple[Message, bool]:
    """Store a message exactly once per (conversation, client_id); push it after commit.

    Returns (message, created). A resend with a known client_id returns the stored row.
    touch_conversation=False when the caller saves the conversation in the same transaction.
    `answers`: the stored shopper message an assistant's reply answers (its reply_seconds).
    """
    fields = _message_fields(
        conversation=conversation, sender=sender, text=text, client_id=client_id, agent=agent, intent=intent,
        confidence=confidence, data=data, answers=answers,
    )

    def touch(message: Message) -> None:
        if touch_conversation:
            Conversation.objects.filter(pk=conversation.pk).update(updated_at=message.created_at)

    return _store_and_push(fields, _message_insert, then=touch)


def _message_fields(*, conversation, sender, text, client_id=None, agent=None, intent="", confidence=None, data=None,
                    answers: Message | None = None) -> dict:
    now = timezone.now()
    if sender in (Message.Sender.BOT, Message.Sender.SYSTEM) and not (data or {}).get("language"):
        # The language its text was rendered in (the caller's translation.override), for the frame.
        data = {**(data or {}), "language": shop_language(translation.get_language()) or conversation.language}
    return dict(
        conversation=conversation,
        sender=sender,
        text=text,
        client_id=client_id or None,
        agent=agent,
        intent=intent,
        confidence=confidence,
        data=data or {},
        created_at=now,
        # Written once with the row, from the two rows' own times (see Message.reply_seconds).
        reply_seconds=None if answers is None else (now - answers.created_at).total_seconds(),
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


def _store_and_push(fields: dict, insert, *, then=None) -> tuple[Message | None, bool]:
    """Store a message (once per client_id, see _store_once) and push a new one to the clients
    (bot.events, after the commit): every stored message of every sender comes through here.
    `insert` may store nothing and return None (a person took the chat); `then(message)` runs
    on a new row before the push."""
    message, created = _store_once(fields, insert)
    if created and message is not None:
        if then is not None:
            then(message)
        events.message_created(message)
    return message, created


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


def conversation_shopper_email_set(conversation: Conversation, email: str) -> None:
    """The shopper's proved e-mail address (a verified order's), on the row and the instance."""
    conversation.shopper_email = email
    Conversation.objects.filter(pk=conversation.pk).update(shopper_email=email)


def conversation_state_write(conversation: Conversation, *, status: str | None = None, put: dict | None = None,
                             drop: tuple = (), **fields) -> None:
    """Save `conversation` (a row the caller has locked or just read in its transaction) with
    keys of its state put or dropped, a new status and other fields: the desk's state writes."""
    update_fields = ["updated_at", *fields]
    if put or drop:  # else the state column is not written at all (a turn may be merging into it)
        state = dict(conversation.state or {})
        state.update(put or {})
        for key in drop:
            state.pop(key, None)
        conversation.state = state
        update_fields.append("state")
    if status is not None:
        conversation.status = status
        update_fields.append("status")
    for name, value in fields.items():
        setattr(conversation, name, value)
    conversation.save(update_fields=update_fields)


# --- The assistant's turn -----------------------------------------------------------------------

# A person holding the chat: the assistant's turn then writes no state and no reply.
HELD_BY_PERSON = Conversation.Status.AGENT


def turn_store(*, conversation: Conversation, message: Message, annotation: dict, patch: dict, reply: dict,
               escalations=(), after_turn=()) -> Message | None:
    """Store the assistant's turn: annotate the shopper's `message`, merge the dialogue state
    `patch`, store the `reply` (Message fields), run the hand-offs (`escalations`, callables of
    the conversation) and queue `after_turn`, all in one transaction, unless a person claimed
    the chat meanwhile (then nothing but the annotation is written and None returned).

    PostgreSQL without a hand-off: the three writes as one statement (bot.rows.turn_finish_pg),
    one round trip and one commit.
    """
    if connection.vendor == "postgresql" and not escalations:
        bot_message, _ = _store_and_push(
            _message_fields(conversation=conversation, answers=message, **reply),
            partial(_turn_insert_pg, message=message, annotation=annotation, patch=patch),
        )
        if bot_message is not None:
            for send in after_turn:
                send()
        return bot_message
    with transaction.atomic():
        # One transaction for every write of the turn: one commit, not one per statement.
        message_annotate(message=message, **annotation)
        if not state_merge(conversation, patch):
            return None  # a person claimed the conversation while the assistant was thinking
        bot_message, _ = message_store(conversation=conversation, touch_conversation=False, answers=message, **reply)
        for escalate in escalations:
            escalate(conversation)
        for send in after_turn:
            send()  # queued to run after the commit, with the state that awaits the code
    return bot_message


def _turn_insert_pg(fields: dict, *, message: Message, annotation: dict, patch: dict) -> Message | None:
    """PostgreSQL: annotate, merge unless a person holds the chat, and insert the reply only if
    the merge happened: the same writes as turn_store's generic path, in one statement."""
    conversation = fields["conversation"]
    data = {**message.data, **annotation["data"]}
    bot_id = rows.turn_finish_pg(
        message_id=message.pk,
        annotation={**annotation, "data": data},
        conversation_id=conversation.pk,
        state_patch=patch,
        not_status=HELD_BY_PERSON,
        reply={k: v for k, v in fields.items() if k not in ("conversation", "client_id", "agent")},
    )
    message.intent, message.confidence, message.data = annotation["intent"], annotation["confidence"], data
    if bot_id is None:
        return None
    _state_merged(conversation, patch, fields["created_at"])
    return _message_instance(fields, bot_id)


def state_merge(conversation: Conversation, patch: dict) -> bool:
    """Merge a turn's dialogue state into the stored one, unless a person holds the chat.

    Keys the turn did not touch keep what others wrote meanwhile (the desk writes its own).
    Returns False, writing nothing, when the conversation is with an agent. On PostgreSQL this
    is one conditional UPDATE (jsonb ||); elsewhere the row is locked, read and saved.
    """
    now = timezone.now()
    if connection.vendor == "postgresql":
        updated = rows.json_merge(
            Conversation, conversation.pk, "state", patch, also={"updated_at": now}, exclude={"status": HELD_BY_PERSON}
        )
        if updated:
            _state_merged(conversation, patch, now)
        return bool(updated)
    locked = Conversation.objects.select_for_update().get(pk=conversation.pk)
    if locked.status == HELD_BY_PERSON:
        return False
    conversation.state = {**(locked.state or {}), **patch}
    conversation.status = locked.status
    conversation.save(update_fields=["state", "updated_at"])
    return True


def _state_merged(conversation: Conversation, patch: dict, now) -> None:
    """Keep the caller's instance in step with a merge done in SQL."""
    conversation.state = {**(conversation.state or {}), **patch}
    conversation.updated_at = now
