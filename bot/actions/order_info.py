"""Facts of a verified order: tracking, refunds, the invoice (with its link)."""

from django.utils.translation import ngettext

from catalog import selectors as shop
from catalog.invoices import invoice_url
from catalog.models import ShopPolicy

from .. import dialogue, intents
from ..order_facts import invoice_text, order_card, refund_text, return_card, tracking_text
from .base import handles


@handles(dialogue.OrderInfo)
def order_info(executor, action: dialogue.OrderInfo, state):
    reply = executor.reply
    order = executor.order(action.number)
    summary = shop.order_summary(order=order)
    invoice = action.what in ("invoice", "invoice_link")
    reply.cards.append(order_card(summary, invoice_url=invoice_url(order) if invoice else None))
    if action.what == "refund":
        refunds = shop.refund_status(order=order)
        if not refunds:
            days = ShopPolicy.current().return_window_days
            reply.say(
                ngettext(
                    "There is no return or refund on order %(number)s yet. Items can be returned within %(days)s day "
                    "of delivery.",
                    "There is no return or refund on order %(number)s yet. Items can be returned within %(days)s days "
                    "of delivery.",
                    days,
                ) % {"number": order.number, "days": days},
                (intents.label("return_item"),),
            )
        for item in refunds:
            reply.say(refund_text(item))
            reply.cards.append(return_card(item))
    elif invoice:
        reply.say(invoice_text(summary))
    else:
        reply.say(tracking_text(summary))
    return dialogue.Outcome(action="order_info", ok=True)
