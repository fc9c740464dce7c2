"""Order operations: each states its check, its confirmation, its execution and its result in one
class (one module per operation), registered by name in OPERATIONS. The policy names the
operation (dialogue.Prepare / dialogue.Execute); the two handlers here run it."""

from __future__ import annotations

from django.db import transaction
from django.utils.translation import gettext_lazy as _

from catalog.models import Order

from .. import dialogue
from .base import handles

OPERATIONS: dict[str, "OrderOperation"] = {}

def yes_no() -> tuple[str, str]:
    """The Yes / No buttons, in the active language."""
    return (str(dialogue.YES), str(dialogue.NO))


def operation(cls):
    """Register an OrderOperation subclass under its `name`."""
    if cls.name in OPERATIONS:
        raise ValueError(f"order operation {cls.name!r} is registered twice")
    OPERATIONS[cls.name] = cls()
    return cls


class OrderOperation:
    """One change a shopper can make to a verified order from the chat.

    prepare: check(order) says why not (the shop's rules), else confirm() asks the shopper
    (with the order's facts); on yes (and the guest's code) execute() carries it out with the
    order's row locked, and result() says what was done.
    """

    name = ""
    # What the assistant says in this operation's own words (whole sentences, translatable):
    # the shopper said no; the e-mailed code expired; the code was wrong too often.
    declined_text = _("Okay, I won't change order {number}. Anything else I can do?")
    expired_text = _("That code has expired, so I haven't changed order {number}. Just ask again and I'll send you a new code.")
    stopped_text = _(
        "That code wasn't right either, so I haven't changed order {number}. For your security I've stopped here — "
        "a person from our team can help you."
    )

    def texts(self) -> dict:
        """The operation's own words for bot.replies' keys."""
        return {"declined": self.declined_text, "code_expired": self.expired_text, "code_too_many": self.stopped_text}

    def check(self, executor, order: Order) -> str | None:
        """Why the shop's rules refuse this operation on `order`, or None."""
        return None

    def confirm(self, executor, order: Order, params: dict) -> dialogue.Outcome:
        """Ask the shopper (the executor's reply) and return what was asked."""
        raise NotImplementedError

    def execute(self, executor, order: Order, params: dict):
        """Carry the operation out (the order's row is locked); returns what result() shows."""
        raise NotImplementedError

    def result(self, executor, order: Order, done) -> None:
        """Say (and show) what was done."""
        raise NotImplementedError

    # -- outcomes ----------------------------------------------------------------------------

    def asked(self, next: dialogue.Next = dialogue.Next.CONFIRM, params: dict | None = None) -> dialogue.Outcome:
        return dialogue.Outcome(action=self.name, ok=True, stage=dialogue.Stage.PREPARE, next=next, params=params or {})

    def refused(self, executor, message: str) -> dialogue.Outcome:
        executor.reply.say(message)
        return dialogue.Outcome(action=self.name, ok=False, refused=True, message=message, stage=dialogue.Stage.PREPARE)

    def prepare(self, executor, order: Order, params: dict) -> dialogue.Outcome:
        refusal = self.check(executor, order)
        if refusal:
            return self.refused(executor, refusal)
        return self.confirm(executor, order, params)


@handles(dialogue.Prepare)
def prepare(executor, action: dialogue.Prepare, state):
    return OPERATIONS[action.action].prepare(executor, executor.order(action.number), action.params)


@handles(dialogue.Execute)
def execute(executor, action: dialogue.Execute, state):
    op = OPERATIONS[action.action]
    with transaction.atomic():
        order = Order.objects.select_for_update().get(number=action.number)
        done = op.execute(executor, order, action.params)
        op.result(executor, order, done)
    return dialogue.Outcome(action=op.name, ok=True, stage=dialogue.Stage.EXECUTE)
