"""The widget tells the bot which product page the shopper is on (issue #12): "this", "it",
"in XL" mean that product. Over the real WebSocket."""

import pytest
from channels.db import database_sync_to_async

from bot.consumers import page_product
from tests.bot.test_consumers import cid, connect, frames_until, session
from tests.factories import ProductFactory, VariantFactory

pytestmark = [pytest.mark.django_db(transaction=True)]


@pytest.fixture
def demo():
    """Two products a shopper could mean; the page names one of them."""
    jacket = ProductFactory(name="Quilted Liner Jacket", slug="quilted-liner-jacket", description="A light quilted jacket.")
    for size, stock in (("M", 3), ("L", 0), ("XL", 4)):
        VariantFactory(product=jacket, colour="Olive", size=size, stock=stock)
    jumper = ProductFactory(name="Merino Crew-Neck Jumper", slug="merino-crew-neck-jumper", description="A fine merino knit.")
    for size in ("S", "M", "XL"):
        VariantFactory(product=jumper, colour="Charcoal", size=size, stock=5)
    shell = ProductFactory(name="Packable Rain Shell", slug="packable-rain-shell", description="A light rain jacket.")
    VariantFactory(product=shell, colour="Navy", size="XL", stock=2)


@database_sync_to_async
def liner_jacket():
    from catalog.models import Product, Variant

    product = Product.objects.get(name="Quilted Liner Jacket")
    return product.slug, {v.size for v in Variant.objects.filter(product=product)}


async def ask(text, page=None):
    comm = await connect()
    try:
        await session(comm)
        frame = {"type": "message", "text": text, "client_id": cid()}
        if page is not None:
            frame["page"] = page
        await comm.send_json_to(frame)
        reply, _ = await frames_until(comm, "message")
        return reply
    finally:
        await comm.disconnect()


async def test_this_in_xl_on_a_product_page_is_about_that_product(demo):
    slug, sizes = await liner_jacket()
    assert "XL" in sizes
    reply = await ask("do u have this in XL", page={"product": slug})
    products = [c for c in reply.get("cards", []) if c["kind"] == "product"]
    assert [c["url"] for c in products] == [f"/p/{slug}/"], reply
    assert "Quilted Liner Jacket" in reply["text"] and "XL" in reply["text"], reply["text"]


async def test_a_product_named_in_the_message_wins_over_the_page(demo):
    slug, _ = await liner_jacket()
    reply = await ask("is the merino crew-neck jumper in stock?", page={"product": slug})
    products = [c for c in reply.get("cards", []) if c["kind"] == "product"]
    assert products and all(c["url"] != f"/p/{slug}/" for c in products), reply


async def test_the_same_words_on_another_product_page_are_about_that_product(demo):
    # The page decides which product "this" is, not the catalogue search: three products come in XL.
    reply = await ask("do u have this in XL", page={"product": "packable-rain-shell"})
    products = [c["url"] for c in reply.get("cards", []) if c["kind"] == "product"]
    assert products == ["/p/packable-rain-shell/"], reply
    assert "Packable Rain Shell" in reply["text"], reply["text"]


@pytest.mark.parametrize(
    "page, slug",
    [
        ({"product": "quilted-liner-jacket"}, "quilted-liner-jacket"),
        ({"product": "../../etc"}, None),
        ({"product": 5}, None),
        ("quilted-liner-jacket", None),
        (None, None),
        ({"product": "x" * 201}, None),
    ],
)
def test_only_a_well_formed_page_field_is_taken(page, slug):
    assert page_product(page) == slug
