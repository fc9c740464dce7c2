"""Options besides colour and size (Flavour, Weight, Storage ...): their values written any way,
which of them a shopper can ask for, and the catalog's distinct pairs (catalog.options,
catalog.selectors.catalog_options, product_filter(options=...))."""

from decimal import Decimal

import pytest

from catalog.models import Product, Variant
from catalog.options import has_options, normalise_option, option_matches, pick_variants, telling_option
from catalog.selectors import catalog_options, product_filter, variant_stock
from tests.catalog.options_shop import import_options_shop
from tests.factories import ProductFactory, VariantFactory


@pytest.mark.parametrize(
    "asked, value",
    [("5kg", "5 kg"), ("5 KG", "5 kg"), ("256gb", "256 GB"), ("256 gb", "256GB"), ("2,5 kg", "2.5 kg"), ("chocolate", "Chocolate"),
     ("Dark  chocolate", "dark chocolate")],
)
def test_an_option_value_matches_written_any_way(asked, value):
    assert option_matches(asked, value)
    assert normalise_option(asked) == normalise_option(value)


def test_different_values_do_not_match():
    assert not option_matches("5 kg", "15 kg") and not option_matches("256 GB", "256 MB") and not option_matches("", "Vanilla")


@pytest.mark.parametrize(
    "name, value, telling",
    [("Flavour", "Chocolate", True), ("Weight", "5 kg", True), ("Storage", "256 GB", True), ("Bed size", "King", True),
     ("Title", "Default Title", False), ("Bundle", "One", False), ("Pack", "Standard", False), ("Colour", "Black", False),
     ("Size", "M", False), ("Quantity", "2", False), ("Grade", "A", False), ("", "Chocolate", False)],
)
def test_which_options_a_shopper_can_ask_for_by_value(name, value, telling):
    assert telling_option(name, value) is telling


def test_a_variant_has_the_options_through_any_spelling_and_name_case():
    options = [["Flavour", "Chocolate"], ["Weight", "2.5 kg"]]
    assert has_options(options, [("flavour", "chocolate"), ("Weight", "2,5kg")])
    assert has_options(options, [("", "2.5kg")])  # no name: any option
    assert not has_options(options, [("Flavour", "Vanilla")])
    assert not has_options(options, [("Weight", "Chocolate")])


@pytest.mark.django_db
def test_catalog_options_are_the_shops_distinct_pairs_without_default_title_or_generic_values(tmp_path):
    import_options_shop(tmp_path)
    pairs = catalog_options()
    assert ("Flavour", "Chocolate") in pairs and ("Weight", "5 kg") in pairs and ("Storage", "512 GB") in pairs
    assert len(pairs) == len(set(pairs))
    names = {name for name, _ in pairs}
    assert not names & {"Title", "Color", "Colour", "Size", "Bundle"}  # Default Title, colour/size, "One"/"Three"


@pytest.mark.django_db
def test_catalog_options_follow_the_catalog(tmp_path):
    import_options_shop(tmp_path)
    assert ("Flavour", "Salted Caramel") not in catalog_options()
    whey = Product.objects.get(slug="whey-protein")
    VariantFactory(product=whey, sku="WHEY-SC-1", options=[["Flavour", "Salted Caramel"], ["Weight", "1 kg"]], stock=3)
    assert ("Flavour", "Salted Caramel") in catalog_options()
    whey.is_active = False
    whey.save()
    assert not any(name == "Flavour" for name, _ in catalog_options())  # only active products' options


@pytest.mark.django_db
def test_product_filter_finds_products_through_one_variant_with_every_asked_option(tmp_path):
    import_options_shop(tmp_path)
    slugs = lambda found: [p.slug for p in found]  # noqa: E731
    assert slugs(product_filter(options=[("Flavour", "chocolate")])) == ["whey-protein"]
    assert slugs(product_filter(options=[("Weight", "5kg")])) == ["hex-dumbbells"]
    assert slugs(product_filter(options=[("Storage", "512gb")], colour="obsidian")) == ["pixel-9"]
    # Strawberry only comes in 1 kg, and the chocolate 2.5 kg is sold out
    assert product_filter(options=[("Flavour", "Strawberry"), ("Weight", "2.5 kg")]) == []
    assert product_filter(options=[("Flavour", "Chocolate"), ("Weight", "2.5 kg")], in_stock=True) == []
    assert slugs(product_filter(options=[("Flavour", "Chocolate"), ("Weight", "2.5 kg")])) == ["whey-protein"]


@pytest.mark.django_db
def test_variant_stock_and_pick_variants_narrow_to_the_options(tmp_path):
    import_options_shop(tmp_path)
    whey = Product.objects.get(slug="whey-protein")
    assert sorted(v.sku for v in variant_stock(product=whey, options=[("Flavour", "vanilla")])) == ["WHEY-VAN-1", "WHEY-VAN-2"]
    assert [v.sku for v in pick_variants(whey.variants.all(), options=[("Flavour", "Vanilla"), ("Weight", "1kg")])] == ["WHEY-VAN-1"]
    # colour and size as before
    tee = Product.objects.get(slug="training-tee")
    assert [v.sku for v in variant_stock(product=tee, colour="black", size="m")] == ["TEE-BLK-M"]


@pytest.mark.django_db
def test_a_product_without_other_options_has_no_catalog_options():
    product = ProductFactory(price=Decimal("10"))
    VariantFactory(product=product, colour="Red", size="S", options=[["Colour", "Red"], ["Size", "S"]])
    assert catalog_options() == [] and Variant.objects.count() == 1
