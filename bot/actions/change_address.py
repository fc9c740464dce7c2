"""Change the delivery address of an order that has not shipped: the new address is typed in the
chat, read (order_facts.parse_address) and tried against the shop's rules before the question."""

from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from catalog import selectors as shop
from catalog import services as shop_services
from catalog.errors import ShopError

from ..dialogue import Next
from ..order_facts import parse_address
from .base import dry_run
from .operations import OrderOperation, operation, yes_no


@operation
class ChangeAddress(OrderOperation):
    name = "change_address"
    declined_text = _("Okay, I won't change the address of order {number}. Anything else I can do?")
    expired_text = _(
        "That code has expired, so I haven't changed the address of order {number}. Just ask again and I'll send you "
        "a new code."
    )
    stopped_text = _(
        "That code wasn't right either, so I haven't changed the address of order {number}. For your security I've "
        "stopped here — a person from our team can help you."
    )

    def check(self, executor, order):
        return shop.order_address_change_refusal(order=order)

    def confirm(self, executor, order, params):
        say = executor.reply.say
        text = params.get("address_text")
        if not text:
            say(
                gettext(
                    "Order %(number)s hasn't shipped yet, so the address can still be changed. Please send the "
                    "new address in one message: street and number, postcode and city (and the name and country "
                    "if they change)."
                ) % {"number": order.number}
            )
            return self.asked(Next.ASK_ADDRESS)
        address = parse_address(text, name=order.ship_name, country=order.ship_country)
        if address is None:
            say(
                gettext(
                    "Sorry, I couldn't read that as an address. Please send the street and number, postcode and "
                    "city (and the name and country if they change) — for example: Hauptstr. 5, 10115 Berlin, or "
                    "Sam Lee, Hauptstr. 5, 10115 Berlin, Germany."
                )
            )
            return self.asked(Next.ASK_ADDRESS)
        try:
            dry_run(
                lambda: shop_services.order_change_shipping_address(
                    order=executor.order(order.number), address=address, actor="assistant"
                )
            )
        except ShopError as error:
            say(gettext("%(problem)s Please send the corrected address in one message.") % {"problem": error.message})
            return self.asked(Next.ASK_ADDRESS)
        pretty = ", ".join(
            x for x in (address["name"], address["line1"], f"{address['postcode']} {address['city']}", address["country"]) if x
        )
        say(
            gettext("Change the delivery address of order %(number)s to: %(address)s?") % {"number": order.number, "address": pretty},
            yes_no(),
        )
        return self.asked(params={"address": address})

    def execute(self, executor, order, params):
        shop_services.order_change_shipping_address(order=order, address=params["address"], actor="assistant")
        order.refresh_from_db()

    def result(self, executor, order, done):
        executor.reply.say(
            gettext("Done — order %(number)s will now go to: %(address)s.") % {"number": order.number, "address": order.shipping_address}
        )
