"""Cancel an order that has not shipped."""

from catalog import selectors as shop
from catalog import services as shop_services
from catalog.money import money_format

from ..order_facts import items_text, order_card
from .operations import YES_NO, OrderOperation, operation


@operation
class Cancel(OrderOperation):
    name = "cancel"
    declined_text = "cancel"
    done_text = "cancelled"

    def check(self, executor, order):
        return shop.order_cancellation_refusal(order=order)

    def confirm(self, executor, order, params):
        summary = shop.order_summary(order=order)
        executor.reply.cards.append(order_card(summary))
        executor.reply.say(
            f"Cancel order {order.number} ({items_text(summary)}, {money_format(summary['total'], summary['currency'])})?",
            YES_NO,
        )
        return self.asked()

    def execute(self, executor, order, params):
        shop_services.order_cancel(order=order, actor="assistant", reason="Cancelled by the shopper in chat")
        order.refresh_from_db()

    def result(self, executor, order, done):
        executor.reply.say(
            f"Done — order {order.number} is cancelled. We've sent you a confirmation e-mail"
            + (", and any payment will be refunded to your original payment method." if order.paid_at else ".")
        )
