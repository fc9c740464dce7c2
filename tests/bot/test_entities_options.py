"""The catalog's other option values in a shopper's message (bot.slm.entities, "option" entities):
whole words, any case, "5kg" as "5 kg", "256gb" as "256 GB"; never a generic word."""

import pytest

from bot.slm.entities import Entity, Gazetteer, extract_entities

SHOP = Gazetteer(
    products=[("Whey Protein", "whey-protein"), ("Hex Dumbbells", "hex-dumbbells"), ("Pixel 9", "pixel-9"),
              ("Memory Foam Mattress", "mattress"), ("Linen Shirt", "linen-shirt"), ("Travel Charger", "charger")],
    colours=["Blue", "White"],
    sizes=["M", "L"],
    options=[("Flavour", "Chocolate"), ("Flavour", "Vanilla"), ("Flavour", "Salted Caramel"), ("Weight", "1 kg"),
             ("Weight", "2.5 kg"), ("Weight", "5 kg"), ("Storage", "128 GB"), ("Storage", "512 GB"), ("Bed size", "King"),
             ("Connectivity", "Wi-Fi"), ("Plug", "UK"), ("Thickness", "6 mm")],
)


def options(text, gazetteer=SHOP):
    return [(e.name, e.value) for e in extract_entities(text, gazetteer) if e.type == "option"]


@pytest.mark.parametrize(
    "text, expected",
    [
        ("do you have the whey protein in chocolate flavour?", [("Flavour", "Chocolate")]),
        ("CHOCOLATE whey please", [("Flavour", "Chocolate")]),
        ("salted caramel or vanilla?", [("Flavour", "Salted Caramel"), ("Flavour", "Vanilla")]),
        ("5 kg dumbbells in stock?", [("Weight", "5 kg")]),
        ("5kg dumbbells in stock?", [("Weight", "5 kg")]),
        ("the 2,5kg tub", [("Weight", "2.5 kg")]),
        ("is the Pixel 9 available in 512gb?", [("Storage", "512 GB")]),
        ("a king mattress", [("Bed size", "King")]),
        ("the wi-fi one", [("Connectivity", "Wi-Fi")]),
        ("the 6mm yoga mat", [("Thickness", "6 mm")]),
    ],
)
def test_the_catalogs_option_values_are_found_with_their_option_name(text, expected):
    assert options(text) == expected


def test_a_number_with_a_unit_of_an_option_is_that_option_even_where_no_variant_has_it():
    # the answer can then say what there is ("it comes in 128 GB and 512 GB")
    assert options("is the Pixel 9 available in 256GB?") == [("Storage", "256 GB")]
    assert options("3 kg dumbbells") == [("Weight", "3 kg")]


def test_only_whole_words_count():
    assert options("chocolates and vanillas") == []
    assert options("15 kg dumbbells") == [("Weight", "15 kg")]  # a weight, but not the 5 kg
    assert options("12.5 kg") == [("Weight", "12.5 kg")]  # a weight, but not the 2.5 kg
    assert options("the kingdom of heaven") == []


def test_the_entity_carries_its_span_and_name_and_the_product_is_still_found():
    text = "do you have the whey protein in chocolate flavour?"
    entities = extract_entities(text, SHOP)
    option = next(e for e in entities if e.type == "option")
    assert text[option.start : option.end] == "chocolate"
    assert option.as_dict() == {"type": "option", "value": "Chocolate", "start": option.start, "end": option.end, "name": "Flavour"}
    assert ("product", "whey-protein") in [(e.type, e.value) for e in entities]
    assert not [e for e in entities if e.type == "colour"]  # "chocolate" is the shop's flavour here, no colour


def test_generic_words_and_default_title_are_never_options():
    # catalog.selectors.catalog_options leaves them out; the extraction only knows what it is given
    shop = Gazetteer(products=SHOP.products, options=[("Flavour", "Chocolate")])
    assert options("one more question about the default title", shop) == []


def test_colours_sizes_and_countries_keep_their_own_entities():
    entities = [(e.type, e.value) for e in extract_entities("the blue linen shirt in M, shipped to the UK", SHOP)]
    assert ("colour", "Blue") in entities and ("size", "M") in entities and ("country", "GB") in entities
    assert not [t for t, _ in entities if t == "option"]
    # a shop whose catalogue has Chocolate as a colour: still a colour
    shop = Gazetteer(products=SHOP.products, colours=["Chocolate"], options=[("Flavour", "Chocolate")])
    assert [(e.type, e.value) for e in extract_entities("in chocolate", shop)] == [("colour", "Chocolate")]


def test_without_options_in_the_gazetteer_nothing_changes():
    assert options("5 kg chocolate", Gazetteer(products=SHOP.products)) == []
    assert Entity("option", "Chocolate", 0, 9, name="Flavour").as_dict()["name"] == "Flavour"


def test_options_next_to_japanese_text():
    assert options("5kgのダンベルはありますか") == [("Weight", "5 kg")]
