"""What every part of the desk shares: the error it refuses a request with, and the pushes and
system messages that follow a change to an escalation."""

from __future__ import annotations

from django.db.models import F
from django.conf import settings
from django.utils import translation

from bot import events
from bot.conversations import message_store
from bot.models import Message

from . import selectors
from .models import Escalation


class DeskError(Exception):
    """A request the desk refuses; `code` goes to the client as the error frame's code."""

    def __init__(self, code: str, detail: str):
        super().__init__(detail)
        self.code = code
        self.detail = detail


def system_message_store(conversation, text, **values) -> Message:
    """Store a system message written in the conversation's language: ``text`` is a lazy
    translation (gettext_lazy) with named ``%(placeholders)s`` filled from ``values``."""
    with translation.override(conversation_language(conversation)):
        words = str(text) % values if values else str(text)
    message, _created = message_store(conversation=conversation, sender=Message.Sender.SYSTEM, text=words)
    return message


def conversation_language(conversation) -> str:
    """The language the desk writes to this shopper in: the conversation's, if the shop serves it."""
    language = getattr(conversation, "language", "") or ""
    return language if language in settings.SHOP_LANGUAGES else settings.LANGUAGE_CODE


def escalation_changed_push(escalation: Escalation) -> None:
    """Push the escalation's new state to every workspace (callers hold its row lock)."""
    Escalation.objects.filter(pk=escalation.pk).update(version=F("version") + 1)
    escalation.version = Escalation.objects.values_list("version", flat=True).get(pk=escalation.pk)
    events.escalation_changed(selectors.escalation_frame(escalation))


def queue_positions_push() -> None:
    """Tell every waiting shopper their new place in the queue (callers: an agent acted, or the
    watchdog while someone is online; with nobody online a place promises what will not happen)."""
    for position, escalation in enumerate(selectors.escalation_waiting_list().select_related("conversation"), 1):
        events.queue_position(escalation.conversation, position=position)
