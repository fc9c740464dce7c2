"""Start a return of what an order can still return (and its refund)."""

from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from catalog import selectors as shop
from catalog import services as shop_services
from catalog.money import money_format

from ..order_facts import line_list, return_card, return_offer_card
from .operations import OrderOperation, operation, yes_no


@operation
class Return(OrderOperation):
    name = "return"
    declined_text = _("Okay, I won't start the return for order {number}. Anything else I can do?")
    expired_text = _(
        "That code has expired, so I haven't started the return for order {number}. Just ask again and I'll send "
        "you a new code."
    )
    stopped_text = _(
        "That code wasn't right either, so I haven't started the return for order {number}. For your security "
        "I've stopped here — a person from our team can help you."
    )

    def prepare(self, executor, order, params):
        # The check and the offer come from the same eligibility of each line.
        lines = shop.return_eligibility(order=order)
        if not any(e.returnable_quantity > 0 for e in lines):
            reasons = sorted({e.reason for e in lines if e.reason})
            return self.refused(
                executor,
                reasons[0] if reasons else gettext("Order %(number)s has nothing that can be returned.") % {"number": order.number},
            )
        offer = return_offer_card(order, lines)
        kept = " ".join(dict.fromkeys(e["reason"] for e in offer["not_returnable"]))
        executor.reply.cards.append(offer)
        values = {
            "number": order.number,
            "items": line_list(offer["items"]),
            "refund": money_format(offer["refund_amount"], order.currency),
            "kept": kept,
        }
        if kept:
            text = gettext(
                "I can start a return for order %(number)s: %(items)s. You'd get %(refund)s back once we receive the "
                "items. Not included: %(kept)s Shall I start it?"
            )
        else:
            text = gettext(
                "I can start a return for order %(number)s: %(items)s. You'd get %(refund)s back once we receive the "
                "items. Shall I start it?"
            )
        executor.reply.say(text % values, yes_no())
        return self.asked()

    def execute(self, executor, order, params):
        return shop_services.return_request_create(order=order, lines=None, reason="other", actor="assistant")

    def result(self, executor, order, rr):
        executor.reply.say(
            gettext(
                "Your return %(rma)s is registered. We've e-mailed you the return instructions; once we receive the "
                "items we'll refund %(refund)s."
            ) % {"rma": rr.rma_number, "refund": money_format(rr.refund_amount, order.currency)}
        )
        executor.reply.cards.append(return_card(shop.return_summary(return_request=rr, order=order)))
