"""Every action's facts right: what the assistant says and shows about an order is what the shop
stores — invoices behind a working signed link, address changes whatever the postcode's format,
return offers whose card matches the sentence, and a carrier only when the parcel has one.

Each turn goes through the real assistant (the shipped SLM, the policy, the shop's services) on
the demo shop (seed_demo); the checks read the rows back from the database.
"""

from decimal import Decimal

import pytest
from django.core import signing
from django.test import Client

from bot.services import order_card, parse_address
from catalog import selectors
from catalog.money import money_format
from catalog.models import Order, OrderLine
from tests.bot import test_conversations
from tests.bot.test_conversations import Chat, emailed_code

demo = test_conversations.demo  # the seeded demo shop (a module-scoped fixture)

pytestmark = pytest.mark.django_db


def order_cards(reply) -> list[dict]:
    return [c for c in reply.data.get("cards", []) if c.get("kind") == "order"]


def verified_chat(order: dict, text: str) -> tuple[Chat, object]:
    chat = Chat()
    return chat, chat.say(f"{text} order {order['number']}, email {order['email']}")


def rows_of(order: Order) -> dict:
    """The order as the database stores it, in the card's terms."""
    lines = OrderLine.objects.filter(order=order).order_by("pk")
    shown = order.status != Order.Status.CANCELLED
    return {
        "number": order.number,
        "status": order.status,
        "carrier": (order.carrier if shown else "") or None,
        "tracking_number": (order.tracking_number if shown else "") or None,
        "total": Decimal(order.total),
        "currency": order.currency,
        "items": [(line.product_name, line.variant_label, line.quantity) for line in lines],
    }


def card_facts(card: dict) -> dict:
    return {
        "number": card["number"],
        "status": card["status"],
        "carrier": card["carrier"],
        "tracking_number": card["tracking_number"],
        "total": Decimal(card["total"]),
        "currency": card["currency"],
        "items": [(i["name"], i["variant_label"], i["quantity"]) for i in card["items"]],
    }


# --- Invoices -------------------------------------------------------------------------------------


def test_send_me_the_invoice_after_verification_gives_a_signed_link_that_opens_the_invoice(demo):
    order = Order.objects.get(number=demo["shipped"]["number"])
    chat, _ = verified_chat(demo["shipped"], "where is my")
    reply = chat.say("send me the invoice")
    [card] = order_cards(reply)
    assert reply.data.get("kind") != "escalated" and "invoice" in reply.text.lower()
    assert "link below" not in reply.text and "Open invoice" in reply.text
    url = card["invoice_url"]
    page = Client().get(url)
    assert page.status_code == 200
    html = page.content.decode()
    assert order.number in html and f"{order.total:.2f}" in html
    assert "no-store" in page["Cache-Control"]
    assert Order.objects.get(pk=order.pk).status == order.status  # reading an invoice changes nothing


def test_a_tampered_or_expired_invoice_link_is_a_400_page(demo, settings):
    order = Order.objects.get(number=demo["shipped"]["number"])
    from catalog.invoices import invoice_url

    url = invoice_url(order)
    token = url.rstrip("/").rsplit("/", 1)[1]
    other = Order.objects.exclude(pk=order.pk).first()
    payload = token.split(":", 1)[0]  # the number is readable in the token, but not signable
    forged = token.replace(payload, signing.b64_encode(f'"{other.number}"'.encode()).decode())
    assert forged != token
    for bad in (url.replace(token, forged), url.replace(token, token[:-2] + ("AA" if token[-2:] != "AA" else "BB"))):
        page = Client().get(bad)
        assert page.status_code == 400 and "not valid" in page.content.decode()
        assert other.number not in page.content.decode()
    settings.INVOICE_LINK_MAX_AGE_SECONDS = -1
    page = Client().get(url)
    assert page.status_code == 400 and "expired" in page.content.decode()


# --- Address changes ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "typed, expected",
    [
        ("Gartenweg 12 10115 Berlin", {"ship_line1": "Gartenweg 12", "ship_postcode": "10115", "ship_city": "Berlin"}),
        ("Gartenweg 12, 10115 Berlin", {"ship_line1": "Gartenweg 12", "ship_postcode": "10115", "ship_city": "Berlin"}),
        (
            "Sam Lee\nGartenweg 12\n10115 Berlin\nGermany",
            {"ship_name": "Sam Lee", "ship_line1": "Gartenweg 12", "ship_postcode": "10115", "ship_city": "Berlin", "ship_country": "DE"},
        ),
        (
            "Sam Lee, Gartenweg 12, 10115 Berlin, Germany",
            {"ship_name": "Sam Lee", "ship_line1": "Gartenweg 12", "ship_postcode": "10115", "ship_city": "Berlin"},
        ),
    ],
)
def test_an_address_change_with_a_five_digit_postcode_keeps_the_verified_order_and_changes_the_address(
    demo, typed, expected, mailoutbox, django_capture_on_commit_callbacks
):
    entry = demo["unshipped"]
    before = Order.objects.get(number=entry["number"])
    chat, reply = verified_chat(entry, "I want to change the delivery address of my")
    assert "new address" in reply.text, reply.text
    reply = chat.say(typed)
    assert f"Change the delivery address of order {entry['number']}" in reply.text, reply.text
    assert chat.state["active_order"] == entry["number"]
    with django_capture_on_commit_callbacks(execute=True):
        reply = chat.say("yes")
    assert "code" in reply.text
    reply = chat.say(emailed_code(mailoutbox, entry))
    assert "Done" in reply.text and "Berlin" in reply.text, reply.text
    after = Order.objects.get(pk=before.pk)
    assert {field: getattr(after, field) for field in expected} == expected
    if "ship_name" not in expected:  # a name left out stays the order's
        assert after.ship_name == before.ship_name and after.ship_country == before.ship_country


@pytest.mark.parametrize(
    "typed, expected",
    [
        ("Gartenweg 12 10115 Berlin Germany", ("Jo Doe", "Gartenweg 12", "", "10115", "Berlin", "DE")),
        ("Sam Lee; Gartenweg 12; Hinterhaus; 10115 Berlin", ("Sam Lee", "Gartenweg 12", "Hinterhaus", "10115", "Berlin", "AT")),
        ("Flat 2, 221B Baker Street, London NW1 6XE, United Kingdom", ("Jo Doe", "Flat 2", "221B Baker Street", "NW1 6XE", "London", "GB")),
        ("Rue de Rivoli 10\n75001 Paris\nFrance", ("Jo Doe", "Rue de Rivoli 10", "", "75001", "Paris", "FR")),
    ],
)
def test_an_address_is_read_in_the_common_ways_of_writing_it(typed, expected):
    address = parse_address(typed, name="Jo Doe", country="AT")
    keys = ("name", "line1", "line2", "postcode", "city", "country")
    assert address is not None and tuple(address[k] for k in keys) == expected


@pytest.mark.parametrize("typed", ["10115 Berlin", "Gartenweg, Berlin", "yes please", ""])
def test_what_is_no_address_is_not_read_as_one(typed):
    assert parse_address(typed, name="Jo Doe", country="DE") is None


# --- Returns --------------------------------------------------------------------------------------


def test_a_return_offer_for_a_mixed_order_names_the_item_it_cannot_take_and_the_card_total_is_the_refund(demo):
    entry = demo["delivered_returnable"]
    order = Order.objects.get(number=entry["number"])
    eligibility = selectors.return_eligibility(order=order)
    kept = [e for e in eligibility if not e.is_returnable]
    taken = [e for e in eligibility if e.is_returnable]
    assert kept and taken  # the demo's mixed order: swim shorts can't go back

    _, reply = verified_chat(entry, "I want to return")
    refund = sum(e.line.unit_price * e.returnable_quantity for e in taken)
    said = money_format(refund, order.currency)  # the one money format, as the card shows it too
    assert f"You'd get {said} back" in reply.text, reply.text
    [card] = [c for c in reply.data["cards"] if c["kind"] == "return"]
    assert not order_cards(reply)  # no card with the whole order's total beside the refund
    assert Decimal(card["refund_amount"]) == refund and card["currency"] == order.currency
    assert card["refund_text"] == said
    assert [(i["name"], i["quantity"]) for i in card["items"]] == [(e.line.product_name, e.returnable_quantity) for e in taken]
    assert [(i["name"], i["reason"]) for i in card["not_returnable"]] == [(e.line.product_name, e.reason) for e in kept]
    for e in kept:
        assert e.reason in reply.text and "not returnable" in e.reason


# --- Carriers -------------------------------------------------------------------------------------


def test_an_order_without_a_carrier_shows_none_in_the_text_or_the_card(demo):
    entry = demo["unshipped"]
    order = Order.objects.select_related("shipping_method").get(number=entry["number"])
    assert not order.carrier and order.shipping_method.carrier  # a planned carrier, no parcel yet
    _, reply = verified_chat(entry, "where is my")
    [card] = order_cards(reply)
    assert card["carrier"] is None and card["tracking_number"] is None
    assert order.shipping_method.carrier not in reply.text


def test_a_cancelled_order_shows_no_carrier(demo):
    entry = demo["cancelled"]
    order = Order.objects.select_related("shipping_method").get(number=entry["number"])
    Order.objects.filter(pk=order.pk).update(carrier="DHL", tracking_number="JJD000111")  # even if one was recorded
    _, reply = verified_chat(entry, "track my")
    [card] = order_cards(reply)
    assert card["status"] == "cancelled" and card["carrier"] is None and card["tracking_number"] is None
    assert "DHL" not in reply.text and "JJD000111" not in reply.text


# --- The independent check ------------------------------------------------------------------------


def test_every_demo_orders_card_equals_its_stored_rows(demo):
    orders = list(Order.objects.select_related("shipping_method").prefetch_related("lines", "returns").order_by("pk"))
    assert len(orders) > 20
    for order in orders:
        assert card_facts(order_card(selectors.order_summary(order=order))) == rows_of(order), order.number


@pytest.mark.parametrize("scenario", ["unshipped", "shipped", "delivered_returnable", "delivered_not_returnable", "cancelled", "return_in_progress"])
def test_the_card_and_sentence_the_assistant_sends_for_each_demo_scenario_match_the_rows(demo, scenario):
    entry = demo[scenario]
    order = Order.objects.get(number=entry["number"])
    _, reply = verified_chat(entry, "where is my")
    [card] = order_cards(reply)
    assert card_facts(card) == rows_of(order)
    assert order.get_status_display().lower() in reply.text
    facts = rows_of(order)
    for value in (facts["carrier"], facts["tracking_number"]):
        if value and order.status == Order.Status.SHIPPED:
            assert value in reply.text
    for word in ("DHL", "UPS", "DPD", "GLS", "Hermes"):
        if word not in (facts["carrier"] or ""):
            assert f"with {word}" not in reply.text
