"""Start a return of what an order can still return (and its refund)."""

from catalog import selectors as shop
from catalog import services as shop_services
from catalog.money import money_format

from ..order_facts import line_list, return_card, return_offer_card
from .operations import YES_NO, OrderOperation, operation


@operation
class Return(OrderOperation):
    name = "return"
    declined_text = "start the return for"
    done_text = "started the return for"

    def prepare(self, executor, order, params):
        # The check and the offer come from the same eligibility of each line.
        lines = shop.return_eligibility(order=order)
        if not any(e.returnable_quantity > 0 for e in lines):
            reasons = sorted({e.reason for e in lines if e.reason})
            return self.refused(executor, reasons[0] if reasons else f"Order {order.number} has nothing that can be returned.")
        offer = return_offer_card(order, lines)
        kept = " ".join(dict.fromkeys(e["reason"] for e in offer["not_returnable"]))
        executor.reply.cards.append(offer)
        executor.reply.say(
            f"I can start a return for order {order.number}: {line_list(offer['items'])}. You'd get "
            f"{money_format(offer['refund_amount'], order.currency)} back once we receive the items."
            + (f" Not included: {kept}" if kept else "")
            + " Shall I start it?",
            YES_NO,
        )
        return self.asked()

    def execute(self, executor, order, params):
        return shop_services.return_request_create(order=order, lines=None, reason="other", actor="assistant")

    def result(self, executor, order, rr):
        executor.reply.say(
            f"Your return {rr.rma_number} is registered. We've e-mailed you the return instructions; "
            f"once we receive the items we'll refund {money_format(rr.refund_amount, order.currency)}."
        )
        executor.reply.cards.append(return_card(shop.return_summary(return_request=rr, order=order)))
