"""Colour families and synonyms, and sizes in any format (bot.options)."""

import pytest

from catalog.options import EXACT, FAMILY, SYNONYM, colour_families, colour_rank, family_name, normalise_size, size_key, size_matches


@pytest.mark.parametrize(
    "asked, colour, rank",
    [
        ("Black", "black", EXACT),
        ("gray", "Grey", SYNONYM),
        ("grey", "Charcoal", FAMILY),
        ("grey", "anthracite", FAMILY),
        ("grey", "Grey melange", FAMILY),
        ("blue", "Navy", FAMILY),
        ("blue", "Indigo", FAMILY),
        ("red", "Burgundy", FAMILY),
        ("green", "Olive", FAMILY),
        ("brown", "Cognac", FAMILY),
        ("white", "Ecru", FAMILY),
        ("blue", "Navy/Ecru", FAMILY),
        ("charcoal", "Slate", FAMILY),
        ("grey", "Navy", None),
        ("red", "Black", None),
        ("", "Black", None),
    ],
)
def test_a_colour_word_matches_the_same_word_a_synonym_or_its_family(asked, colour, rank):
    assert colour_rank(asked, colour) == rank


def test_a_shade_names_its_family_and_a_two_tone_colour_both():
    assert colour_families("Charcoal") == {"grey"}
    assert colour_families("Navy/Ecru") == {"blue", "white"}
    assert colour_families("Plaid") == frozenset()
    assert family_name("grey", "Charcoal") == "grey"
    assert family_name("grey", "Navy") is None


@pytest.mark.parametrize(
    "asked, size",
    [("30x40cm", "30 × 40 cm"), ("30 X 40 CM", "30 × 40 cm"), ("80cm", "80 cm"), ("medium", "M"), ("m", "M"),
     ("eu42", "EU 42"), ("w32 l34", "W32 L34"), ("one size", "One size"), ("size 42", "42")],
)
def test_a_size_written_another_way_matches_the_variants_own(asked, size):
    assert size_matches(asked, size)


def test_different_sizes_do_not_match_and_sizes_sort_in_shop_order():
    assert not size_matches("S", "XS")
    assert not size_matches("30x40cm", "40 × 60 cm")
    assert normalise_size("30 × 40 cm") != normalise_size("3 × 40 cm")
    assert sorted(["XL", "S", "M", "XS", "L"], key=size_key) == ["XS", "S", "M", "L", "XL"]
    assert sorted(["110 cm", "80 cm", "90 cm"], key=size_key) == ["80 cm", "90 cm", "110 cm"]


def test_variant_stock_finds_a_colour_by_its_family_and_a_size_written_another_way(db):
    from catalog import selectors
    from tests.factories import ProductFactory, VariantFactory

    jumper = ProductFactory(name="Merino Jumper", slug="merino-jumper")
    for colour, size, stock in [("Charcoal", "M", 4), ("Charcoal", "L", 0), ("Navy", "M", 2)]:
        VariantFactory(product=jumper, colour=colour, size=size, stock=stock, sku=f"mj-{colour}-{size}")
    rug = ProductFactory(name="Rug", slug="rug")
    VariantFactory(product=rug, colour="Rust", size="120 × 180 cm", stock=3, sku="rug-1")
    assert [(v.colour, v.size) for v in selectors.variant_stock(product=jumper, colour="grey")] == [("Charcoal", "L"), ("Charcoal", "M")]
    assert [v.stock for v in selectors.variant_stock(product=jumper, colour="gray", size="medium")] == [4]
    assert selectors.variant_stock(product=jumper, colour="red") == []
    assert [v.stock for v in selectors.variant_stock(product=rug, size="120x180cm")] == [3]
    assert [p.slug for p in selectors.product_filter(colour="grey", size="M", in_stock=True)] == ["merino-jumper"]
    assert [p.slug for p in selectors.product_filter(colour="grey", size="l", in_stock=True)] == []
    assert [p.slug for p in selectors.product_filter(size="120x180 cm")] == ["rug"]
