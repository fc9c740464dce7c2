"""The assistant's wording: country names, yes/no answers, plurals, one money format, no typed
options beside buttons."""

from decimal import Decimal

import pytest

from bot import conversations, dialogue, services
from catalog.models import Product
from catalog.money import money_format
from tests.factories import ProductFactory, ShippingMethodFactory

pytestmark = pytest.mark.django_db


def _turn(text):
    conversation = conversations.conversation_start()
    message, _, replying = conversations.shopper_message_receive(conversation=conversation, text=text, client_id="c1")
    return services.assistant_reply(conversation_id=conversation.pk, message_id=message.pk, message=message, conversation=replying)


def _perform(action):
    executor = services._Executor(conversation=conversations.conversation_start(), user=None)
    executor.perform(action, {"slots": {}})
    return executor.reply


@pytest.fixture
def shipping(db):
    ShippingMethodFactory(code="uk-ch", name="UK & Switzerland", countries=["GB", "CH"], price=Decimal("14.90"),
                          free_over=Decimal("150.00"), min_days=3, max_days=6)
    ShippingMethodFactory(code="express", name="Express", countries=["DE"], price=Decimal("9.90"),
                          free_over=None, min_days=1, max_days=1)


def test_asked_whether_we_ship_to_switzerland_the_answer_starts_with_yes_and_names_the_country(shipping):
    reply = _turn("Do you ship to Switzerland?")
    assert reply.intent == "delivery_options"
    assert reply.text.startswith("Yes, we ship to Switzerland:"), reply.text
    assert "CH" not in reply.text.replace("CHF", "")
    assert "UK & Switzerland: €14.90, 3–6 working days, free from €150.00" in reply.text


def test_a_country_we_dont_ship_to_gets_a_no_first_and_where_we_do_ship(shipping):
    reply = _perform(dialogue.Shipping(intent="delivery_options", country="JP"))
    assert reply.texts == [
        "No, we don't ship to Japan at the moment, but we deliver to Germany, Switzerland and United Kingdom."
    ]


def test_the_options_without_a_country_list_country_names_not_codes(shipping):
    text = _perform(dialogue.Shipping(intent="delivery_options")).texts[0]
    assert text.startswith("Our shipping options:")
    assert "(United Kingdom, Switzerland)" in text and "(Germany)" in text


def test_one_working_day_is_singular_and_more_are_plural(shipping):
    text = _perform(dialogue.Shipping(intent="delivery_period", country="DE")).texts[0]
    assert text.startswith("Delivery times to Germany:")
    assert "Express: €9.90, 1 working day" in text and "1 working days" not in text
    text = _perform(dialogue.Shipping(intent="delivery_period", country="CH")).texts[0]
    assert "3–6 working days" in text


def test_the_text_and_the_product_card_show_the_same_money_string(db):
    ProductFactory(name="Oak Table", slug="oak-table", price=Decimal("1280.00"), currency="EUR")
    product = Product.objects.get(slug="oak-table")
    reply = _perform(dialogue.Products(intent="product_info", query="oak table", product="oak-table"))
    (card,) = reply.cards
    assert card["price_text"] == "€1,280.00" == money_format(product.price, product.currency)
    assert f"Oak Table costs {card['price_text']}." in reply.texts[0]
    assert "EUR" not in reply.texts[0]


def test_money_follows_the_shop_currency_when_an_amount_has_none(settings):
    assert money_format(Decimal("128")) == "€128.00"
    settings.SHOP_CURRENCY = "GBP"
    assert money_format("128") == "£128.00"
    assert money_format("128", "CHF") == "CHF128.00"
    assert money_format(None) == money_format("not a number") == ""


def test_typed_yes_no_is_dropped_when_yes_no_buttons_come_with_the_text():
    reply = services.Reply()
    reply.say("Shall I start it? yes / no", (dialogue.YES, dialogue.NO))
    reply.say("Cancel order 10234 (2 items, €128.00)? (yes/no)", (dialogue.YES, dialogue.NO))
    assert reply.texts == ["Shall I start it?", "Cancel order 10234 (2 items, €128.00)?"]
    assert reply.quick_replies == [dialogue.YES, dialogue.NO]


def test_typed_options_stay_when_no_buttons_carry_them():
    reply = services.Reply()
    reply.say("Shall I start it? yes / no")
    reply.say("Which one: red / blue?", (dialogue.YES, dialogue.NO))
    assert reply.texts == ["Shall I start it? yes / no", "Which one: red / blue?"]


def test_counts_in_fixed_texts_are_singular_for_one():
    from bot import replies

    assert "(1 try left)" in replies.render("code_wrong", {"left": 1}, shop="S")
    assert "(2 tries left)" in replies.render("code_wrong", {"left": 2}, shop="S")
    assert "valid for 1 minute)" in replies.render("code_sent", {"email": "a@b.c", "minutes": 1}, shop="S")


def test_the_invoice_text_and_the_order_card_show_the_same_total(db):
    from catalog import selectors as shop
    from tests.factories import OrderFactory, OrderLineFactory

    order = OrderFactory()
    OrderLineFactory(order=order)
    summary = shop.order_summary(order=order)
    card = services.order_card(summary)
    assert card["total_text"] == money_format(summary["total"], summary["currency"])
    assert f"Total {card['total_text']}." in services.invoice_text(summary)
