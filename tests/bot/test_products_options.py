"""A shop with options besides colour and size (a Shopify export with Flavour, Weight, Storage):
product search filters on them, the variant answer speaks about them, over the live WebSocket
consumer too; colour and size answers stay as they were."""

import pytest

from bot import products, services
from tests.bot.test_consumers import cid, connect, frames_until, session
from tests.catalog.options_shop import import_options_shop

pytestmark = [pytest.mark.django_db(transaction=True)]  # the import re-indexes after commit


@pytest.fixture
def shop(tmp_path):
    products.reset_caches()
    services.reset_caches()
    import_options_shop(tmp_path)
    products.product_index_refresh()
    yield
    products.reset_caches()
    services.reset_caches()


def answer(slug, **asked) -> str:
    return products.availability_text(products.product_get(slug=slug), **asked)


def slugs(found):
    return [p.slug for p in found]


def test_search_filters_variants_by_the_asked_options(shop):
    assert slugs(products.product_search(query="protein powder", options=[("Flavour", "Vanilla")])) == ["whey-protein"]
    assert products.product_search(query="protein powder", options=[("Flavour", "Banana")]) == []
    # one and the same variant: Strawberry only comes in 1 kg
    assert products.product_search(query="protein powder", options=[("Flavour", "Strawberry"), ("Weight", "2.5 kg")]) == []
    # in stock: the 10 kg dumbbells are sold out, the 5 kg are not
    assert products.product_search(query="dumbbells", options=[("Weight", "10 kg")], in_stock=True) == []
    assert slugs(products.product_search(query="dumbbells", options=[("Weight", "5kg")], in_stock=True)) == ["hex-dumbbells"]


def test_the_card_shows_the_asked_variants(shop):
    whey = products.product_get(slug="whey-protein")
    card = products.product_card(whey, options=[("Flavour", "Chocolate")])
    assert card["variants"] == [{"label": "Chocolate / 1 kg", "stock": 12}, {"label": "Chocolate / 2.5 kg", "stock": 0}]
    assert len(products.product_card(whey, options=[("Flavour", "Banana")])["variants"]) == 5  # none asked fits: all


def test_the_variant_answer_speaks_about_the_option(shop):
    assert answer("whey-protein", options=[("Flavour", "chocolate")]) == (
        "The Whey Protein comes in Chocolate: 1 kg (12 in stock) and 2.5 kg (sold out)."
    )
    assert answer("whey-protein", options=[("Flavour", "Chocolate"), ("Weight", "1kg")]) == (
        "Yes — the Whey Protein comes in Chocolate / 1 kg (12 in stock)."
    )
    assert answer("hex-dumbbells", options=[("Weight", "5 kg")]) == "Yes — the Hex Dumbbells comes in 5 kg (8 in stock)."


def test_a_value_the_product_does_not_have_gets_what_it_comes_in(shop):
    assert answer("pixel-9", options=[("Storage", "256 GB")]) == "The Pixel 9 isn't available in 256 GB; it comes in 128 GB and 512 GB."
    assert answer("whey-protein", options=[("Flavour", "Banana")]) == (
        "The Whey Protein isn't available in Banana; it comes in Chocolate, Strawberry and Vanilla."
    )
    assert answer("whey-protein", options=[("Flavour", "Strawberry"), ("Weight", "2.5 kg")]) == (
        "The Whey Protein isn't available in Strawberry / 2.5 kg; it comes in Strawberry / 1 kg."
    )


def test_a_sold_out_variant_is_said_so_with_what_is_in_stock(shop):
    assert answer("hex-dumbbells", options=[("Weight", "10 kg")]) == (
        "The Hex Dumbbells in 10 kg is sold out. In stock: 5 kg (8 in stock)."
    )
    assert answer("pixel-9", options=[("Storage", "128 GB")], colour="porcelain") == (
        "The Pixel 9 in 128 GB / Porcelain is sold out. In stock: 128 GB / Obsidian (3 in stock) and 512 GB / Obsidian (2 in stock)."
    )


def test_colour_and_size_answers_are_unchanged(shop):
    assert answer("training-tee", colour="black", size="M") == "Yes — the Training Tee in Black, size M is in stock."
    assert answer("training-tee", colour="red").startswith("The Training Tee doesn't come in red; it comes in Black and White.")
    assert slugs(products.product_search(query="training t-shirt", colour="white", size="M")) == ["training-tee"]


async def _chat(*texts: str) -> list[dict]:
    comm = await connect()
    replies = []
    try:
        await session(comm)
        for text in texts:
            await comm.send_json_to({"type": "message", "text": text, "client_id": cid()})
            reply, _ = await frames_until(comm, "message")
            replies.append(reply)
        return replies
    finally:
        await comm.disconnect()


async def test_a_flavour_asked_in_the_chat_gets_the_product_and_its_variants(shop):
    (reply,) = await _chat("do you have the whey protein in chocolate flavour?")
    assert reply["text"] == "The Whey Protein comes in Chocolate: 1 kg (12 in stock) and 2.5 kg (sold out).", reply
    card = reply["cards"][0]
    assert card["title"] == "Whey Protein"
    assert [v["label"] for v in card["variants"]] == ["Chocolate / 1 kg", "Chocolate / 2.5 kg"]


async def test_a_weight_and_a_storage_the_shop_does_not_have_are_answered_honestly(shop):
    dumbbells, pixel = await _chat("5 kg dumbbells in stock?", "is the Pixel 9 available in 256GB?")
    assert dumbbells["text"] == "Yes — the Hex Dumbbells comes in 5 kg (8 in stock).", dumbbells
    assert pixel["text"] == "The Pixel 9 isn't available in 256 GB; it comes in 128 GB and 512 GB.", pixel


async def test_a_follow_up_naming_only_a_flavour_stays_on_the_product(shop):
    first, second = await _chat("is the whey protein in stock?", "and in vanilla?")
    assert "Whey Protein" in first["text"]
    assert second["text"] == "The Whey Protein comes in Vanilla: 1 kg (4 in stock) and 2.5 kg (7 in stock).", second
