"""The assistant's one way out to people: a hand-off port that a desk registers.

The bot never imports the desk (``.importlinter`` checks it); the desk depends on the bot. A desk
app registers its implementation once, in its ``AppConfig.ready()`` (``support/apps.py``), the way
a plugin registers with a manager. With no desk registered, nobody can take a conversation: the
assistant says so honestly and keeps the conversation (the shopper's messages are stored as always).

The hand-off packet, what a person needs to pick up where the assistant stopped, is built here
and only here (``handoff_packet``); the desk checks and stores it as it comes.
"""

from __future__ import annotations

import logging
from typing import Protocol

from django.utils.translation import gettext_lazy as _

from .models import Message

logger = logging.getLogger(__name__)

HANDOFF_TEXT = _("I'm passing this conversation to our support team. They'll see everything we've written so far.")
NO_DESK_TEXT = _(
    "I'm sorry — no person can take over this chat: this shop has no support team connected to it. "
    "Everything you wrote is kept, and I'm still here to help with orders, returns and products."
)
MAX_INTENTS = 6


class FollowUp(Protocol):
    """What the desk answers when it takes an e-mail address for a follow-up."""

    pk: int
    confirmation_sent_at: object  # when the confirmation e-mail went out, or None
    confirmation_queued: bool  # whether one goes out now (False: already sent, or over a mail limit)


class Desk(Protocol):
    """What the bot needs from people; a desk implements these three and registers itself."""

    def escalate(self, *, conversation, reason: str, context: dict) -> object: ...

    def capture_followup_email(self, *, conversation, email: str, client_address: str | None) -> FollowUp: ...

    def agents_online(self) -> bool: ...


class HandoffPort:
    """The registry the bot calls; it forwards to the registered desk, or says nobody is there."""

    def __init__(self):
        self.desk: Desk | None = None

    def register(self, desk: Desk | None) -> None:
        self.desk = desk

    @property
    def connected(self) -> bool:
        return self.desk is not None

    def escalate(self, *, conversation, reason: str, context: dict) -> object:
        """Hand the conversation to people (called inside the turn's transaction). No desk: nothing
        happens but a log line; the caller has told the shopper (``handoff_announcement``)."""
        if self.desk is None:
            logger.warning("conversation %s: hand-off (%s) with no desk registered", conversation.pk, reason)
            return None
        return self.desk.escalate(conversation=conversation, reason=reason, context=context)

    def capture_followup_email(self, *, conversation, email: str, client_address: str | None = None) -> FollowUp | None:
        """None with no desk: nobody would answer the e-mail."""
        if self.desk is None:
            return None
        return self.desk.capture_followup_email(conversation=conversation, email=email, client_address=client_address)

    def agents_online(self) -> bool:
        return self.desk is not None and self.desk.agents_online()


handoff_port = HandoffPort()


def handoff_announcement() -> str:
    """What the assistant says as it hands over: true whether or not anyone is online (the desk
    says what happens next), and honest when no desk is there to take it."""
    return str(HANDOFF_TEXT if handoff_port.connected else NO_DESK_TEXT)


def _intent_item(item) -> dict:
    """One understood intent as {"intent", "confidence"}; the dialogue state keeps [intent, conf]."""
    if isinstance(item, dict):
        return {"intent": item.get("intent"), "confidence": item.get("confidence")}
    if isinstance(item, (list, tuple)) and len(item) == 2 and isinstance(item[0], str):
        return {"intent": item[0], "confidence": item[1]}
    return {"intent": str(item), "confidence": None}


def handoff_packet(*, conversation, state: dict, failure: dict | None = None) -> dict:
    """The hand-off packet from the dialogue state: the last understood intents, what the shopper
    told us (never the e-mail they typed), the order verified in this chat, the actions tried
    (``failure`` appended when the assistant itself broke), the shopper's last message and the
    conversation's language (what the person should answer in)."""
    verified = state.get("verified") or []
    active = state.get("active_order")
    last_message = (
        Message.objects.filter(conversation=conversation, sender=Message.Sender.SHOPPER)
        .order_by("-pk")
        .values_list("text", flat=True)
        .first()
    )
    return {
        "intents": [_intent_item(i) for i in list(state.get("history") or [])[-MAX_INTENTS:]],
        "entities": {k: v for k, v in (state.get("slots") or {}).items() if k != "email"},
        "verified_order": active if active and active in verified else None,
        "actions": list(state.get("actions") or []) + ([failure] if failure else []),
        "last_message": (last_message or "")[:2000],
        "language": conversation.language,
    }
