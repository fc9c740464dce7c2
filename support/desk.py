"""What every part of the desk shares: the error it refuses a request with, and the pushes and
system messages that follow a change to an escalation."""

from __future__ import annotations

from django.db.models import F

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


def system_message_store(conversation, text: str) -> Message:
    message, _ = message_store(conversation=conversation, sender=Message.Sender.SYSTEM, text=text)
    return message


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
