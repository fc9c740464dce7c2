"""The shopper chat over WebSocket (../shared/spec/chat-protocol.md). Thin: validate, call services."""

from __future__ import annotations

import json
import logging
import re
import time
from urllib.parse import parse_qs

from asgiref.sync import sync_to_async
from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer
from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext_lazy as _

from . import conversations, events, limits
from .outages import DATABASE_DOWN, ChannelLayerOutageMixin, DatabaseOutageMixin
from . import services as assistant
from .clients import client_address
from .handoff import handoff_port
from .language import storefront_language
from .models import Conversation, Message
from .text import refusable_text

logger = logging.getLogger(__name__)

MAX_TEXT = 2000
MAX_FRAME = 16_000  # bytes of raw JSON; anything larger is refused before parsing
MAX_CLIENT_ID = 64
# Per-connection rate limit: a bucket of RATE_BURST messages refilled at RATE_PER_SECOND.
RATE_BURST = 8
RATE_PER_SECOND = 1.0
ABUSE_LIMIT = 30  # refused frames in a row before the connection is closed
TYPING_EVERY = 2.0
BAD_TEXT = _("That text has characters we can't store (a NUL or a broken character); please retype it.")


class TokenBucket:
    def __init__(self, burst: float, per_second: float):
        self.capacity, self.rate = burst, per_second
        self.tokens, self.updated = burst, time.monotonic()

    def take(self) -> bool:
        now = time.monotonic()
        self.tokens = min(self.capacity, self.tokens + (now - self.updated) * self.rate)
        self.updated = now
        if self.tokens >= 1:
            self.tokens -= 1
            return True
        return False


def _db(fn):
    # Not thread-sensitive: many shoppers' turns run in parallel worker threads, off the loop.
    return database_sync_to_async(fn, thread_sensitive=False)


PAGE_PRODUCT = re.compile(r"^[-a-zA-Z0-9_]{1,200}$")


def page_product(page) -> str | None:
    """The product page the shopper is on, from a message frame's optional
    `"page": {"product": SLUG}`; anything else (a missing or malformed field) is no page."""
    slug = page.get("product") if isinstance(page, dict) else None
    return slug if isinstance(slug, str) and PAGE_PRODUCT.match(slug) else None


def scope_language(scope, query: dict) -> str:
    """The storefront's language for this socket: ``?language=`` (the widget sends the page's
    <html lang>), else Django's language cookie, else Accept-Language, else the shop's default."""
    headers = dict(scope.get("headers") or [])
    return storefront_language(
        query=(query.get("language") or [None])[0],
        cookie=(scope.get("cookies") or {}).get(settings.LANGUAGE_COOKIE_NAME),
        accept_language=headers.get(b"accept-language", b"").decode("latin-1"),
    )


def _agents_online() -> bool:
    """Whether a person could take a hand-off now (the widget's header says so)."""
    return handoff_port.agents_online()


class ChatConsumer(DatabaseOutageMixin, ChannelLayerOutageMixin, AsyncWebsocketConsumer):
    async def connect(self):
        self.conversation: Conversation | None = None
        self.group = None
        self.sent_ids: set[int] = set()
        self.bucket = TokenBucket(RATE_BURST, RATE_PER_SECOND)
        self.refused = 0
        self.last_typing = 0.0
        self.address = client_address(self.scope)
        query = parse_qs(self.scope.get("query_string", b"").decode("latin-1"))
        self.language = scope_language(self.scope, query)
        await self.accept()
        if not await self.address_allows("connect", settings.CHAT_CONNECTIONS_PER_MINUTE):
            await self.send_error("rate_limited", _("Too many chat connections from your network; please try again in a minute."))
            return await self.close(code=4429)
        token = query.get("conversation", [""])[0]
        user = self.scope.get("user")
        conversation = (
            await _db(conversations.conversation_resume)(token=token, user=user, language=self.language) if token else None
        )
        if token and conversation is None:
            await self.send_error("bad_token", _("That conversation can't be opened; a new one was started."))
        if conversation is None:
            # No row yet: it is stored with the first message, so a connect alone writes nothing.
            conversation = conversations.conversation_new(user=user, language=self.language)
        self.conversation = conversation
        self.group = events.conversation_group(conversation)
        try:
            await self.channel_layer.group_add(self.group, self.channel_name)
        except Exception:  # noqa: BLE001 — chat still works; live pushes from people may be delayed
            logger.exception("channel layer unavailable on connect")
            await self.send_live_agents(False)
        history = await _db(self._history)()
        await self.send_json(
            {
                "type": "session",
                "conversation": await _db(conversations.conversation_token)(conversation),
                "history": history,
                "agents_online": await _db(_agents_online)(),
            }
        )

    def _history(self) -> list[dict]:
        frames = [events.shopper_message_frame(m) for m in conversations.transcript(self.conversation)]
        self.sent_ids.update(f["id"] for f in frames)
        return frames

    async def disconnect(self, code):
        if self.group:
            try:
                await self.channel_layer.group_discard(self.group, self.channel_name)
            except Exception:  # noqa: BLE001
                logger.warning("group_discard failed", exc_info=True)

    # -- client -> server -----------------------------------------------------------------------

    async def receive(self, text_data=None, bytes_data=None):
        if self.conversation is None:
            return  # refused at connect (closing): nothing to take
        if bytes_data is not None:
            return await self.refuse("binary_frame", _("Binary frames are not supported; send JSON text."))
        if text_data is None or len(text_data) > MAX_FRAME:
            return await self.refuse("too_long", _("Frames are limited to %(limit)s bytes."), limit=MAX_FRAME)
        try:
            frame = json.loads(text_data)
        except (ValueError, RecursionError):
            return await self.refuse("bad_json", _("That frame is not valid JSON."))
        if not isinstance(frame, dict) or not isinstance(frame.get("type"), str):
            return await self.refuse("bad_frame", _('A frame must be a JSON object with a "type".'))
        handler = {"message": self.on_message, "typing": self.on_typing, "rating": self.on_rating}.get(frame["type"])
        if handler is None:
            return await self.refuse("unknown_type", _("Unknown frame type %(type)s."), type=repr(frame["type"][:40]))
        await handler(frame)

    async def on_message(self, frame: dict):
        text, client_id = frame.get("text"), frame.get("client_id")
        if not isinstance(text, str) or not text.strip():
            return await self.refuse("empty_text", _("A message needs some text."), client_id)
        if len(text) > MAX_TEXT:
            return await self.refuse("too_long", _("Messages are limited to %(limit)s characters."), client_id, limit=MAX_TEXT)
        if client_id is not None and (not isinstance(client_id, str) or not 0 < len(client_id) <= MAX_CLIENT_ID):
            return await self.refuse("bad_frame", _("client_id must be a string of 1–%(limit)s characters."), limit=MAX_CLIENT_ID)
        if refusable_text(text) or (client_id is not None and refusable_text(client_id)):
            return await self.refuse("bad_text", BAD_TEXT, client_id)
        if not self.bucket.take() or not await self.address_allows("message", settings.CHAT_MESSAGES_PER_MINUTE):
            return await self.refuse("rate_limited", _("You're sending messages very fast; please wait a moment."), client_id)
        self.refused = 0
        self.page_product = page_product(frame.get("page"))
        message, created, replying = await _db(conversations.shopper_message_receive)(
            conversation=self.conversation, text=text.strip(), client_id=client_id
        )
        if not created and message.text != text.strip():
            return await self.refuse(
                "client_id_reused", _("That client_id was already used for another message; send this one with a new client_id."),
                client_id,
            )
        self.sent_ids.add(message.pk)
        await self.send_json({"type": "ack", "client_id": client_id, "id": message.pk})
        # A resend gets its ack only; while a person holds the chat the bot neither types nor talks.
        if created and replying is not None:
            await self.reply_to(message, replying)

    async def reply_to(self, message: Message, conversation: Conversation):
        await self.send_json({"type": "typing", "sender": "bot"})
        # This socket gets the answer straight from here; the push to the conversation's other
        # sockets leaves it out (bot.events.answering_channel).
        answering = events.answering_channel.set(self.channel_name)
        try:
            bot_message = await _db(assistant.assistant_reply)(
                conversation_id=self.conversation.pk,
                message_id=message.pk,
                message=message,
                conversation=conversation,
                client_address=self.address,
                page_product=getattr(self, "page_product", None),
            )
        except Exception:  # noqa: BLE001 — the shopper's message is stored; a person picks it up
            logger.exception("assistant failed on message %s", message.pk)
            await _db(assistant.assistant_failed)(conversation_id=self.conversation.pk)
            return await self.send_error(
                "assistant_unavailable",
                _("Sorry, the assistant couldn't answer just now; a person from our team will.")
                if handoff_port.connected
                else _("Sorry, the assistant couldn't answer just now; please try again in a moment."),
            )
        finally:
            events.answering_channel.reset(answering)
        if bot_message is not None:
            await self.deliver(events.shopper_message_frame(bot_message))

    async def on_typing(self, frame: dict):
        now = time.monotonic()
        if now - self.last_typing >= TYPING_EVERY:
            self.last_typing = now
            await _db(events.typing)(self.conversation, sender="shopper", to_agents=True)

    async def on_rating(self, frame: dict):
        score, comment = frame.get("score"), frame.get("comment", "")
        if isinstance(score, bool) or not isinstance(score, int) or not 1 <= score <= 5:
            return await self.refuse("bad_frame", _("score must be a whole number from 1 to 5."))
        if not isinstance(comment, str) or len(comment) > MAX_TEXT:
            return await self.refuse("bad_frame", _("comment must be text of at most %(limit)s characters."), limit=MAX_TEXT)
        if refusable_text(comment):
            return await self.refuse("bad_text", BAD_TEXT)
        if self.conversation.pk is None:
            return await self.refuse("nothing_to_rate", _("There is nothing to rate yet: the conversation has no messages."))
        await _db(conversations.conversation_rate)(conversation=self.conversation, score=score, comment=comment)
        await self.send_json({"type": "rated", "score": score})

    # -- server -> client ---------------------------------------------------------------------------

    async def frame_push(self, event):
        await self.deliver(event["frame"])

    async def deliver(self, frame: dict):
        # A message can arrive twice (direct reply + group push): each id is sent once.
        if frame.get("type") == "message":
            if frame["id"] in self.sent_ids:
                return
            self.sent_ids.add(frame["id"])
        await self.send_json(frame)

    def detail(self, text, values: dict) -> str:
        """An error's detail in the conversation's language (the storefront's before it has one)."""
        conversation = getattr(self, "conversation", None)
        with translation.override(conversation.language if conversation is not None else self.language):
            return str(text) % values if values else str(text)

    async def refuse(self, code: str, detail, client_id=None, **values):
        self.refused += 1
        frame = {"type": "error", "code": code, "detail": self.detail(detail, values)}
        if isinstance(client_id, str) and not refusable_text(client_id):  # a lone surrogate can't even be sent
            frame["client_id"] = client_id[:MAX_CLIENT_ID]
        await self.send_json(frame)
        if self.refused >= ABUSE_LIMIT:
            await self.close(code=4429)

    async def address_allows(self, kind: str, per_minute: int) -> bool:
        """The per-address limit across sockets and processes (bot.limits), off the event loop."""
        return await sync_to_async(limits.address_allows, thread_sensitive=False)(kind, self.address, per_minute=per_minute)

    async def send_error(self, code: str, detail, **values):
        await self.send_json({"type": "error", "code": code, "detail": self.detail(detail, values)})

    async def send_json(self, frame: dict):
        await self.send(text_data=json.dumps(frame, ensure_ascii=False))

    # -- outages (bot.outages): Redis down leaves the bot answering; people join once it is back --

    def layer_groups(self) -> list[str]:
        return [self.group] if self.group else []

    async def layer_down(self, event):
        await self.send_live_agents(False)

    async def layer_up(self, event):
        await self.send_live_agents(True)
        # Pushes from elsewhere (agents' messages, other tabs' answers) failed meanwhile: send
        # what the transcript has that this socket has not shown (deliver() skips the rest).
        try:
            missed = await _db(self._replies)()
        except DATABASE_DOWN:
            logger.warning("could not catch up after the channel layer returned", exc_info=True)
            return
        for frame in missed:
            await self.deliver(frame)

    def _replies(self) -> list[dict]:
        return [events.shopper_message_frame(m) for m in conversations.transcript(self.conversation) if m.sender != "shopper"]

    async def send_live_agents(self, available: bool):
        """A STATUS frame when live agents become unavailable (or available again)."""
        if getattr(self, "live_agents", True) != available:
            self.live_agents = available
            await self.send_json({"type": "status", "live_agents": available})
