"""Cancel an order that has not shipped."""

from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from catalog import selectors as shop
from catalog import services as shop_services
from catalog.money import money_format

from ..order_facts import items_text, order_card
from .operations import OrderOperation, operation, yes_no


@operation
class Cancel(OrderOperation):
    name = "cancel"
    declined_text = _("Okay, I won't cancel order {number}. Anything else I can do?")
    expired_text = _("That code has expired, so I haven't cancelled order {number}. Just ask again and I'll send you a new code.")
    stopped_text = _(
        "That code wasn't right either, so I haven't cancelled order {number}. For your security I've stopped here — "
        "a person from our team can help you."
    )

    def check(self, executor, order):
        return shop.order_cancellation_refusal(order=order)

    def confirm(self, executor, order, params):
        summary = shop.order_summary(order=order)
        executor.reply.cards.append(order_card(summary))
        executor.reply.say(
            gettext("Cancel order %(number)s (%(items)s, %(total)s)?")
            % {"number": order.number, "items": items_text(summary), "total": money_format(summary["total"], summary["currency"])},
            yes_no(),
        )
        return self.asked()

    def execute(self, executor, order, params):
        shop_services.order_cancel(order=order, actor="assistant", reason="Cancelled by the shopper in chat")
        order.refresh_from_db()

    def result(self, executor, order, done):
        if order.paid_at:
            text = gettext(
                "Done — order %(number)s is cancelled. We've sent you a confirmation e-mail, and any payment will be "
                "refunded to your original payment method."
            )
        else:
            text = gettext("Done — order %(number)s is cancelled. We've sent you a confirmation e-mail.")
        executor.reply.say(text % {"number": order.number})
