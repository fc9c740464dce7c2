"""catalog/pictures.py: a product without a photo shows the drawing of its kind, not of its category."""

import re

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile

from bot.products import product_card
from catalog.management.commands.seed_demo import load_demo_data
from catalog.pictures import GENERIC, KINDS, kind_of, product_drawing, product_kind
from tests.factories import CategoryFactory, ProductFactory

KINDS_DIR = settings.BASE_DIR / "static" / "img" / "kinds"


def demo_products():
    for category in load_demo_data().catalog["categories"]:
        for product in category["products"]:
            yield category["name"], product["name"]


def test_every_demo_product_has_a_drawing_named_by_a_word_of_its_own_title():
    seen = set()
    for category, name in demo_products():
        kind, word = kind_of(name)
        assert kind != GENERIC, f"{name!r} ({category}) falls back to the generic drawing"
        assert re.search(rf"\b{re.escape(word)}", " ".join(re.findall(r"[a-z0-9]+", name.lower()))), (name, word)
        assert word in dict(KINDS)[kind]
        assert (KINDS_DIR / f"{kind}.svg").is_file(), kind
        seen.add(kind)
    assert len(seen) >= 40  # the demo shop shows many kinds, not its 11 categories


@pytest.mark.parametrize(
    "name, kind",
    [
        ("Wool Felt Fedora", "hat"),
        ("Soy Wax Candle", "candle"),
        ("Brass Candle Holders (Set of 2)", "candle"),
        ("Stoneware Mugs (Set of 4)", "mug"),
        ("Enamelled Cast-Iron Casserole", "pot"),
        ("Hand-Thrown Ceramic Vase", "vase"),
        ("Canvas Tote Bag", "bag"),
        ("Poplin Shirt Dress", "dress"),
        ("Poplin Dress Shirt", "shirt"),
        ("Heavyweight Pocket T-Shirt", "tee"),
        ("Roll-Top Backpack", "backpack"),
        ("Glass Table Lamp", "lamp"),
        ("Cashmere Beanie", "beanie"),
        ("Chunky Fisherman Cable Knit", "jumper"),
    ],
)
def test_the_kind_comes_from_the_last_kind_word_of_the_name(name, kind):
    assert kind_of(name)[0] == kind


def test_words_match_whole_words_only():
    assert kind_of("Mattress Protector")[0] == "bedding"  # not a "mat"
    assert kind_of("Stovetop Kettle")[0] == "kettle"  # not a "top"
    assert kind_of("Capri Linen Set")[0] == GENERIC  # not a "cap"


@pytest.mark.django_db
def test_a_product_of_no_known_kind_falls_back_to_its_category_then_to_the_generic_tag():
    knitwear = CategoryFactory(name="Knitwear", slug="knitwear")
    misc = CategoryFactory(name="Miscellany", slug="miscellany")
    assert product_kind(ProductFactory(name="The Nordic One", category=knitwear)) == "jumper"
    unknown = ProductFactory(name="Mystery Widget", category=misc)
    assert product_kind(unknown) == GENERIC
    assert product_drawing(unknown).endswith("/img/kinds/generic.svg")
    assert (KINDS_DIR / "generic.svg").is_file()


@pytest.mark.django_db
def test_storefront_and_chat_card_show_the_kind_drawing_and_a_photo_wins(client, tmp_path, settings):
    accessories = CategoryFactory(name="Accessories", slug="accessories")
    fedora = ProductFactory(name="Wool Felt Fedora", slug="wool-felt-fedora", category=accessories)
    assert product_card(fedora)["image"].endswith("/img/kinds/hat.svg")
    page = client.get(accessories.get_absolute_url()).content.decode()
    assert "/img/kinds/hat.svg" in page and "/img/products/accessories.svg" not in page
    assert "/img/kinds/hat.svg" in client.get(fedora.get_absolute_url()).content.decode()

    settings.MEDIA_ROOT = tmp_path
    fedora.image = SimpleUploadedFile("fedora.png", b"\x89PNG\r\n\x1a\n", content_type="image/png")
    fedora.save()
    assert product_card(fedora)["image"].startswith(settings.MEDIA_URL if settings.MEDIA_URL.startswith("/") else "/" + settings.MEDIA_URL)
    assert "kinds" not in product_card(fedora)["image"]


def test_every_kind_has_one_small_safe_drawing_and_no_drawing_is_orphaned():
    files = {p.stem for p in KINDS_DIR.glob("*.svg")}
    assert files == {kind for kind, _ in KINDS} | {GENERIC}
    for path in KINDS_DIR.glob("*.svg"):
        text = path.read_text()
        assert len(text) < 2000, path.name
        assert 'viewBox="0 0 100 100"' in text and 'stroke-width="2.5"' in text, path.name
        assert "<script" not in text and "style" not in text and "href" not in text, path.name
