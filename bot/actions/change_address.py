"""Change the delivery address of an order that has not shipped: the new address is typed in the
chat, read (order_facts.parse_address) and tried against the shop's rules before the question."""

from catalog import selectors as shop
from catalog import services as shop_services
from catalog.errors import ShopError

from ..dialogue import Next
from ..order_facts import parse_address
from .base import dry_run
from .operations import YES_NO, OrderOperation, operation


@operation
class ChangeAddress(OrderOperation):
    name = "change_address"
    declined_text = "change the address of"
    done_text = "changed the address of"

    def check(self, executor, order):
        return shop.order_address_change_refusal(order=order)

    def confirm(self, executor, order, params):
        say = executor.reply.say
        text = params.get("address_text")
        if not text:
            say(
                f"Order {order.number} hasn't shipped yet, so the address can still be changed. Please send the "
                "new address in one message: street and number, postcode and city (and the name and country "
                "if they change)."
            )
            return self.asked(Next.ASK_ADDRESS)
        address = parse_address(text, name=order.ship_name, country=order.ship_country)
        if address is None:
            say(
                "Sorry, I couldn't read that as an address. Please send the street and number, postcode and "
                "city (and the name and country if they change) — for example: Hauptstr. 5, 10115 Berlin, or "
                "Sam Lee, Hauptstr. 5, 10115 Berlin, Germany."
            )
            return self.asked(Next.ASK_ADDRESS)
        try:
            dry_run(
                lambda: shop_services.order_change_shipping_address(
                    order=executor.order(order.number), address=address, actor="assistant"
                )
            )
        except ShopError as error:
            say(error.message + " Please send the corrected address in one message.")
            return self.asked(Next.ASK_ADDRESS)
        pretty = ", ".join(
            x for x in (address["name"], address["line1"], f"{address['postcode']} {address['city']}", address["country"]) if x
        )
        say(f"Change the delivery address of order {order.number} to: {pretty}?", YES_NO)
        return self.asked(params={"address": address})

    def execute(self, executor, order, params):
        shop_services.order_change_shipping_address(order=order, address=params["address"], actor="assistant")
        order.refresh_from_db()

    def result(self, executor, order, done):
        executor.reply.say(f"Done — order {order.number} will now go to: {order.shipping_address}.")
