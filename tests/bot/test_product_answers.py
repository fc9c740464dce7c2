"""Stock questions about one product on the demo shop, through the real assistant (SLM, policy,
services): the answer is about the product named, and every stock fact equals the variant rows."""

import io
import random

import pytest
from django.core.management import call_command

from bot import conversations, products
from bot.services import assistant_reply
from catalog.models import Product, Variant

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def demo(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock():
        call_command("seed_demo", "--json", "--force", stdout=io.StringIO())
        products.reset_caches()
        from bot import services

        services.reset_caches()  # the gazetteer of the freshly seeded catalog
        yield
        call_command("flush", interactive=False, verbosity=0)


def ask(text: str):
    conversation = conversations.conversation_start()
    message, _ = conversations.message_store(conversation=conversation, sender="shopper", text=text, client_id="c1")
    return assistant_reply(conversation_id=conversation.pk, message_id=message.pk)


def stock_claim(reply, product: Product, variant: Variant) -> str:
    """What the reply says about the variant: "in stock", "sold out", or "" when it says neither."""
    head = reply.text.split(". ")[0] + "."
    if f"{product.name} in {variant.colour}" in head or variant.colour == "":
        if "is sold out" in head:
            return "sold out"
        if "is in stock" in head:
            return "in stock"
    return ""


def test_merino_jumper_in_grey_is_answered_with_the_charcoal_in_stock(demo):
    jumper = Product.objects.get(name="Merino Crew-Neck Jumper")
    charcoal = [v for v in jumper.variants.all() if v.colour == "Charcoal" and v.stock > 0]
    assert charcoal  # the seeded catalog has grey only as Charcoal
    reply = ask("is the merino jumper in stock in grey?")
    assert "Just to be sure" not in reply.text
    assert "doesn't come in grey, but charcoal (a grey) is in stock in" in reply.text.lower(), reply.text
    named = reply.text.split("is in stock in ")[1].rstrip(".").replace(" and ", ", ").split(", ")
    assert sorted(named) == sorted(v.size for v in charcoal)
    card = reply.data["cards"][0]
    assert card["title"] == jumper.name and card["in_stock"] and card["stock_label"] != "Sold out"


def test_thirty_seeded_variants_asked_by_name_colour_and_size_get_their_db_stock(demo):
    variants = list(
        Variant.objects.filter(product__is_active=True).exclude(colour="").exclude(size="").select_related("product").order_by("pk")
    )
    rng = random.Random(12)
    sample = rng.sample(variants, 30)
    # sizes written with a unit or "×" are the ones that went wrong before: ask those too
    sample += [v for v in variants if "cm" in v.size][:3]
    wrong = []
    for variant in sample:
        product = variant.product
        reply = ask(f"is the {product.name} in stock in {variant.colour}, size {variant.size}?")
        expected = "in stock" if variant.stock > 0 else "sold out"
        claim = stock_claim(reply, product, variant)
        if "Just to be sure" in reply.text or claim != expected:
            wrong.append((product.name, variant.colour, variant.size, variant.stock, reply.text[:160]))
    assert not wrong, "\n".join(map(str, wrong))


def test_a_spaced_or_unspaced_size_matches_the_variant(demo):
    variant = Variant.objects.filter(size__contains="×").select_related("product").first()
    if variant is None:
        variant = Variant.objects.filter(size__endswith="cm").select_related("product").first()
    written = variant.size.replace(" ", "").replace("×", "x")
    reply = ask(f"is the {variant.product.name} in {variant.colour or 'stock'} size {written} available?")
    assert variant.product.name in reply.text
    expected = "is in stock" if variant.stock > 0 else "is sold out"
    assert expected in reply.text, reply.text


def test_a_sold_out_variant_is_answered_honestly_with_the_nearest_one_in_stock(demo):
    sold_out = next(
        v
        for v in Variant.objects.filter(stock=0, product__is_active=True).exclude(colour="").exclude(size="").select_related("product").order_by("pk")
        if v.product.variants.filter(stock__gt=0).exists()
    )
    product = products.product_get(slug=sold_out.product.slug)
    near = products.nearest_in_stock(product, [v for v in product.variants.all() if v.pk == sold_out.pk], colour=sold_out.colour, size=sold_out.size)
    assert near and all(Variant.objects.get(pk=v.pk).stock > 0 for v in near)
    reply = ask(f"is the {product.name} in stock in {sold_out.colour}, size {sold_out.size}?")
    assert f"{product.name} in {sold_out.colour}, size {sold_out.size} is sold out" in reply.text, reply.text
    offer = reply.text.split("is sold out. ")[1]
    assert "is in stock" in offer
    assert any(v.colour in offer and v.size in offer for v in near), offer
