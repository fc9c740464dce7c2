"""Semantic product search over the live catalog (bot.products): meaning first, live filters."""

from decimal import Decimal

import pytest

from bot import products
from tests.factories import CategoryFactory, ProductFactory, VariantFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def catalog(db):
    products.reset_caches()
    knit = CategoryFactory(name="Knitwear", slug="knitwear")
    bedding = CategoryFactory(name="Bedding", slug="bedding")
    made = {}
    for name, slug, category, price, variants in [
        ("Merino Crew Neck Jumper", "merino-jumper", knit, "89.00", [("Navy", "M", 4), ("Grey", "L", 0)]),
        ("Chunky Wool Cardigan", "wool-cardigan", knit, "129.00", [("Cream", "M", 0)]),
        ("Percale Cotton Duvet Cover", "duvet-cover", bedding, "79.00", [("White", "Double", 6)]),
        ("Linen Pillowcase Pair", "linen-pillowcases", bedding, "39.00", [("Sand", "", 9)]),
    ]:
        product = ProductFactory(name=name, slug=slug, category=category, price=Decimal(price), description=name)
        for colour, size, stock in variants:
            VariantFactory(product=product, colour=colour, size=size, stock=stock, sku=f"{slug}-{colour}-{size}")
        made[slug] = product
    products.product_index_refresh()  # what the chat does before it searches
    yield made
    products.reset_caches()


def slugs(found):
    return [p.slug for p in found]


def test_products_are_ranked_by_meaning_and_carry_their_variants(catalog):
    found = products.product_search(query="a warm wool jumper")
    assert slugs(found)[0] in {"merino-jumper", "wool-cardigan"}
    assert not {"duvet-cover", "linen-pillowcases"} & set(slugs(found)[:2])
    jumper = next(p for p in found if p.slug == "merino-jumper")
    assert sorted(v.colour for v in jumper.variants.all()) == ["Grey", "Navy"]  # variants come loaded


def test_filters_use_live_variant_data(catalog):
    assert "wool-cardigan" not in slugs(products.product_search(query="wool knitwear", in_stock=True))
    assert slugs(products.product_search(query="wool knitwear", colour="navy", size="m")) == ["merino-jumper"]
    assert slugs(products.product_search(query="cotton bedding", max_price="50")) == ["linen-pillowcases"]


def test_the_limit_keeps_the_best_ranked(catalog):
    everything = products.product_search(query="something for the home or to wear", limit=10)
    assert slugs(products.product_search(query="something for the home or to wear", limit=2)) == slugs(everything)[:2]


def test_the_search_only_reads_a_changed_product_waits_for_the_index_service(catalog):
    from bot.models import ProductEmbedding

    jumper = catalog["merino-jumper"]
    jumper.name, jumper.description = "Merino Beanie Hat", "A warm hat"
    jumper.save()
    before = ProductEmbedding.objects.get(product=jumper).text_hash
    found = products.product_search(query="a warm hat")
    assert ProductEmbedding.objects.get(product=jumper).text_hash == before  # nothing written
    assert "merino-jumper" not in slugs(found)  # its stored vector is of the old text: left out
    assert products.product_index_refresh() == 1
    assert slugs(products.product_search(query="a warm hat"))[0] == "merino-jumper"


def test_the_chat_brings_the_index_up_to_date_before_it_searches(catalog):
    products.reset_caches()
    ProductFactory(name="Stovetop Kettle", slug="stovetop-kettle", category=catalog["duvet-cover"].category, description="A kettle")
    products.product_index_refresh_if_due()
    assert slugs(products.product_search(query="a kettle for the stove"))[0] == "stovetop-kettle"


def test_filters_hold_for_one_and_the_same_variant(catalog):
    # The jumper has a navy M in stock and a grey L sold out: navy L is not an option.
    assert slugs(products.product_search(query="wool knitwear", colour="navy", size="l")) == []
    assert slugs(products.product_search(query="wool knitwear", colour="grey", in_stock=True)) == []
    assert slugs(products.product_search(query="wool knitwear", colour="grey")) == ["merino-jumper"]



def test_the_catalog_gazetteer_follows_a_new_product_and_expires_with_age(catalog, monkeypatch):
    import time

    from bot.search_index import RefreshingIndex
    from bot.slm import gazetteer

    monkeypatch.setattr(gazetteer._cached, "_check_seconds", 0)  # look at the version on every call
    assert "stovetop-kettle" not in {slug for _name, slug in gazetteer.cached_catalog_gazetteer().products}
    ProductFactory(name="Stovetop Kettle", slug="stovetop-kettle", category=catalog["duvet-cover"].category)
    assert "stovetop-kettle" in {slug for _name, slug in gazetteer.cached_catalog_gazetteer().products}

    builds = []
    aged = RefreshingIndex(version=lambda: "same", build=lambda: builds.append(1) or len(builds), check_seconds=60, max_age_seconds=0.05)
    assert aged.get() == 1 and aged.get() == 1  # kept while young, the version unchanged
    time.sleep(0.06)
    assert aged.get() == 2  # too old: built again though the version did not change


# --- Japanese: the product's translation is embedded with it -------------------------------------


@pytest.fixture
def japanese_catalog(catalog):
    from catalog.translations import category_translation_save, product_translation_save

    for slug, name, description in [
        ("merino-jumper", "メリノ クルーネックセーター", "柔らかなメリノウールのセーター"),
        ("wool-cardigan", "ざっくりウール カーディガン", "厚手のウールのカーディガン"),
        ("duvet-cover", "パーケール コットン掛け布団カバー", "さらりとしたコットンの寝具カバー"),
        ("linen-pillowcases", "リネン 枕カバー（2枚組）", "リネンの枕カバー"),
    ]:
        product_translation_save(product=catalog[slug], language="ja", name=name, description=description)
    category_translation_save(category=catalog["merino-jumper"].category, language="ja", name="ニット")
    category_translation_save(category=catalog["duvet-cover"].category, language="ja", name="寝具")
    products.product_index_refresh()
    return catalog


def test_a_japanese_request_finds_the_product(japanese_catalog):
    assert slugs(products.product_search(query="暖かいウールのセーター"))[0] in {"merino-jumper", "wool-cardigan"}
    assert slugs(products.product_search(query="枕カバーがほしい"))[0] == "linen-pillowcases"
    # the live filters work the same
    assert slugs(products.product_search(query="ウールのニット", colour="navy", size="m")) == ["merino-jumper"]


def test_english_requests_still_find_the_product_with_translations_embedded(japanese_catalog):
    assert slugs(products.product_search(query="a warm wool jumper"))[0] in {"merino-jumper", "wool-cardigan"}
    assert slugs(products.product_search(query="cotton bedding", max_price="50")) == ["linen-pillowcases"]


def test_a_changed_translation_makes_the_vector_stale(japanese_catalog):
    from catalog.translations import product_translation_save

    product_translation_save(product=japanese_catalog["merino-jumper"], language="ja", name="メリノのニット帽", description="暖かい帽子")
    assert products.product_index_refresh() == 1  # only that product is embedded again


def test_the_card_title_is_in_the_conversations_language(japanese_catalog):
    jumper = japanese_catalog["merino-jumper"]
    assert products.product_card(jumper, language="ja")["title"] == "メリノ クルーネックセーター"
    assert products.product_card(jumper, language="en")["title"] == "Merino Crew Neck Jumper"
