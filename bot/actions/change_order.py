"""Change an order's items: never in the chat; an unshipped order is offered a person."""

from catalog.models import Order, ShopPolicy

from ..dialogue import Next
from .operations import YES_NO, OrderOperation, operation


@operation
class ChangeOrder(OrderOperation):
    name = "change_order"

    def prepare(self, executor, order, params):
        if order.status in Order.UNSHIPPED:
            executor.reply.say(
                f"Order {order.number} hasn't shipped yet. I can't change items in the chat, but a person from our "
                "team can. Shall I connect you?",
                YES_NO,
            )
            return self.asked(Next.OFFER_HANDOVER)
        return self.refused(
            executor,
            f"Order {order.number} is {order.get_status_display().lower()}, so it can't be changed any more. "
            f"You can return items within {ShopPolicy.current().return_window_days} days of delivery.",
        )
