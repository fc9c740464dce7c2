"""Change an order's items: never in the chat; an unshipped order is offered a person."""

from django.utils.translation import gettext, ngettext

from catalog.models import Order, ShopPolicy

from ..dialogue import Next
from .operations import OrderOperation, operation, yes_no


@operation
class ChangeOrder(OrderOperation):
    name = "change_order"

    def prepare(self, executor, order, params):
        if order.status in Order.UNSHIPPED:
            executor.reply.say(
                gettext(
                    "Order %(number)s hasn't shipped yet. I can't change items in the chat, but a person from our "
                    "team can. Shall I connect you?"
                ) % {"number": order.number},
                yes_no(),
            )
            return self.asked(Next.OFFER_HANDOVER)
        days = ShopPolicy.current().return_window_days
        return self.refused(
            executor,
            ngettext(
                "Order %(number)s is %(status)s, so it can't be changed any more. You can return items within "
                "%(days)s day of delivery.",
                "Order %(number)s is %(status)s, so it can't be changed any more. You can return items within "
                "%(days)s days of delivery.",
                days,
            ) % {"number": order.number, "status": order.get_status_display().lower(), "days": days},
        )
