"""The executor: carries out the policy's actions (bot.dialogue) through one handler per action
type, looked up in HANDLERS. Every fact a handler says comes from the database."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from django.conf import settings
from django.db import transaction
from django.db.models import prefetch_related_objects

from catalog.errors import ShopError
from catalog.models import Order

from .. import dialogue, replies

logger = logging.getLogger(__name__)

# action type (a dataclass of bot.dialogue) -> handler(executor, action, state) -> event or None
HANDLERS: dict[type, object] = {}


def handles(action_type: type):
    """Register the decorated function as the handler of `action_type`."""

    def register(handler):
        if action_type in HANDLERS:
            raise ValueError(f"{action_type.__name__} already has a handler")
        HANDLERS[action_type] = handler
        return handler

    return register


@dataclass
class Reply:
    texts: list = field(default_factory=list)
    quick_replies: list = field(default_factory=list)
    cards: list = field(default_factory=list)
    sources: list = field(default_factory=list)

    def say(self, text: str, quick_replies=()) -> None:
        self.texts.append(replies.without_typed_options(text, quick_replies))
        if quick_replies:
            self.quick_replies = [str(q) for q in quick_replies]  # lazy labels rendered now, in the turn's language


class _Rollback(Exception):
    pass


def dry_run(fn) -> None:
    """Run a service and roll it back: the shop's own rules decide, nothing is written."""
    try:
        with transaction.atomic():
            fn()
            raise _Rollback
    except _Rollback:
        pass


class Executor:
    """One turn's executor: what the handlers found, said and queued for after the turn."""

    def __init__(self, *, conversation, user, client_address: str | None = None):
        self.conversation = conversation
        self.user = user
        self.client_address = client_address
        self.reply = Reply()
        self.escalations: list = []
        self.after_turn: list = []  # side effects once the turn is stored (e-mailing a code)
        self.state_updates: dict = {}
        self.verified: dict[str, Order] = {}  # orders verified in this turn, by the number asked for
        self.shop_name = settings.SHOP_NAME

    def perform(self, action, state: dict):
        handler = HANDLERS.get(type(action))
        if handler is None:  # a programming error: the policy emitted an action nobody handles
            raise TypeError(f"no handler for {type(action).__name__}")
        try:
            return handler(self, action, state)
        except ShopError as error:
            # The shop's rules said no: say why, honestly (the policy may add what to do instead).
            self.reply.say(error.message)
            return dialogue.Outcome(action=type(action).__name__.lower(), ok=False, refused=True, message=error.message)
        except Exception as error:  # noqa: BLE001 — a broken action is handed to a person, not hidden
            logger.exception("assistant action %r failed", action)
            if isinstance(action, dialogue.Escalate):
                raise
            return dialogue.Outcome(action=type(action).__name__.lower(), ok=False, failed=True, message=str(error)[:200])

    def order(self, number: str) -> Order:
        order = self.verified.get(number)
        if order is not None:  # verified a moment ago in this turn: not read again
            prefetch_related_objects([order], "lines", "returns")
            return order
        return Order.objects.select_related("shipping_method").prefetch_related("lines", "returns").get(number=number)
