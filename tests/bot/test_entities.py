"""Entity extraction: shapes of order/RMA numbers, e-mails, amounts, countries, sizes, colours, products."""

import pytest

from bot.slm.entities import Entity, Gazetteer, extract_entities
from bot.slm.gazetteer import vocabulary_gazetteer


def found(text, gazetteer=None, kind=None):
    return [(e.type, e.value) for e in extract_entities(text, gazetteer) if kind is None or e.type == kind]


@pytest.fixture(scope="module")
def gazetteer():
    return Gazetteer(
        products=[
            ("Linen Camp Shirt", "linen-camp-shirt"),
            ("Linen Duvet Cover", "linen-duvet-cover"),
            ("Linen Drawstring Shorts", "linen-drawstring-shorts"),
            ("Leather Chelsea Boots", "leather-chelsea-boots"),
            ("Merino Crew Jumper", "merino-crew-jumper"),
            ("Cashmere Beanie", "cashmere-beanie"),
            ("Canvas Tote Bag", "canvas-tote-bag"),
            ("Leather Weekender Bag", "leather-weekender-bag"),
        ],
        colours=["Navy", "Sand", "Black"],
        sizes=["S", "M", "L", "XL", "42", "W32 L32", "2-3 years"],
    )


@pytest.mark.parametrize(
    "text",
    ["where is #10234", "order no. 10234", "ord 10234", "NW-10234", "nw10234", "10 234", "order 10 234 please",
     "Order Nr. 10234?", "n° 10234", "10234", "my order is 10234, thanks"],
)
def test_order_numbers_in_the_ways_shoppers_write_them_normalise_to_digits(text):
    assert found(text, kind="order_number") == [("order_number", "10234")]


def test_six_digit_order_numbers_and_several_in_one_message():
    assert found("orders #102345 and NW-55120", kind="order_number") == [("order_number", "102345"), ("order_number", "55120")]


@pytest.mark.parametrize(
    "text",
    ["my postcode is 10115", "zip code 10115", "call me on 0176 12345678", "order 12345678901", "it costs 12345 €",
     "in 10 days", "send to ABC12345", "tom10234@example.com"],
)
def test_numbers_that_are_not_order_numbers(text):
    assert found(text, kind="order_number") == []


def test_rma_numbers_are_upper_case_with_a_dash():
    assert found("status of rma 100234 and RMA-100871?", kind="rma_number") == [
        ("rma_number", "RMA-100234"),
        ("rma_number", "RMA-100871"),
    ]
    # the digits of an RMA are not also an order number
    assert found("RMA-100234", kind="order_number") == []


def test_emails_are_lower_cased_and_spans_point_into_the_text():
    text = "reset it for Anna.K+shop@Example.co.uk please"
    (entity,) = extract_entities(text)
    assert entity == Entity("email", "anna.k+shop@example.co.uk", 13, 38)
    assert text[entity.start : entity.end] == "Anna.K+shop@Example.co.uk"


@pytest.mark.parametrize(
    "text,value,currency",
    [("paid 49,90 € twice", "49.90", "EUR"), ("€1.299,00", "1299.00", "EUR"), ("under 50 euros", "50.00", "EUR"),
     ("£35", "35.00", "GBP"), ("$60 gift", "60.00", "USD"), ("it was 49.90", "49.90", None), ("CHF 120", "120.00", "CHF"),
     ("1,299.50 USD", "1299.50", "USD")],
)
def test_amounts_with_and_without_currency(text, value, currency):
    (entity,) = [e for e in extract_entities(text) if e.type == "amount"]
    assert (entity.value, entity.currency) == (value, currency)
    assert ("currency" in entity.as_dict()) == (currency is not None)


@pytest.mark.parametrize(
    "text,code",
    [("do you ship to Germany", "DE"), ("Versand nach Deutschland?", "DE"), ("ship to DE?", "DE"), ("to the UK", "GB"),
     ("england", "GB"), ("Holland", "NL"), ("the Netherlands", "NL"), ("Switzerland", "CH"), ("schweiz", "CH"),
     ("Norway", "NO"), ("the USA", "US"), ("the United States", "US"), ("Canada", "CA"), ("Österreich", "AT"),
     ("Poland", "PL"), ("Ireland", "IE"), ("Czechia", "CZ"), ("ES", "ES")],
)
def test_countries_normalise_to_iso_alpha_2(text, code):
    assert found(text, kind="country") == [("country", code)]


def test_words_that_look_like_country_codes_are_not_countries():
    assert found("is it in stock? no it is not", kind="country") == []
    assert found("WHERE IS MY ORDER DE", kind="country") == []  # a shouted message is all capitals


@pytest.mark.parametrize(
    "text,size",
    [("in XL", "XL"), ("size m please", "M"), ("do you have it in a medium", "M"), ("EU 42", "EU 42"), ("size 42", "42"),
     ("W32 L32 jeans", "W32 L32"), ("exchange for a 43", "43"), ("one size", "one size"), ("xxl", "XXL"), ("an S", "S")],
)
def test_sizes(text, size, gazetteer):
    assert found(text, gazetteer, kind="size") == [("size", size)]


def test_size_words_only_count_as_sizes_in_context():
    assert found("it's too large and too small at once", kind="size") == []
    assert found("i'm a student", kind="size") == []


def test_catalog_sizes_no_pattern_knows():
    assert found("for my son, 2-3 years", Gazetteer(sizes=["2-3 years"]), kind="size") == [("size", "2-3 years")]


def test_colours_use_the_catalogs_spelling_and_skip_black_friday(gazetteer):
    assert found("the navy one or the gray one", gazetteer, kind="colour") == [("colour", "Navy"), ("colour", "grey")]
    assert found("black friday deals?", gazetteer, kind="colour") == []


@pytest.mark.parametrize(
    "text,slug",
    [("do you have the linen shirt in XL", "linen-camp-shirt"), ("Linen Camp Shirt", "linen-camp-shirt"),
     ("chelsae boots in 42", "leather-chelsea-boots"), ("the merino jumper", "merino-crew-jumper"),
     ("is the beanie itchy", "cashmere-beanie"), ("2 canvas totes", "canvas-tote-bag"), ("linen duvet", "linen-duvet-cover"),
     ("leather bag", "leather-weekender-bag")],
)
def test_products_match_fuzzily_and_give_the_slug(text, slug, gazetteer):
    assert found(text, gazetteer, kind="product") == [("product", slug)]


def test_ambiguous_or_generic_words_are_not_products(gazetteer):
    assert found("linen", gazetteer, kind="product") == []  # three linen products
    assert found("a bag", gazetteer, kind="product") == []
    assert found("where is my order", gazetteer, kind="product") == []


def test_without_a_gazetteer_there_are_no_products():
    assert found("linen camp shirt") == []


def test_a_full_message_gives_non_overlapping_entities_in_text_order(gazetteer):
    text = "Hi, order NW-10234: the navy merino jumper in size M never came to Deutschland, I paid €89.00 (anna@web.de)"
    entities = extract_entities(text, gazetteer)
    assert [(e.type, e.value) for e in entities] == [
        ("order_number", "10234"),
        ("colour", "Navy"),
        ("product", "merino-crew-jumper"),
        ("size", "M"),
        ("country", "DE"),
        ("amount", "89.00"),
        ("email", "anna@web.de"),
    ]
    spans = [(e.start, e.end) for e in entities]
    assert all(a_end <= b_start for (_, a_end), (b_start, _) in zip(spans, spans[1:]))


@pytest.mark.parametrize("text", ["", "   ", "\x00\x01", "🙂" * 500, "1" * 10000, "a@" * 3000])
def test_odd_input_gives_a_list_not_a_crash(text):
    assert isinstance(extract_entities(text, vocabulary_gazetteer()), list)


def test_the_shop_vocabulary_gazetteer_loads():
    g = vocabulary_gazetteer()
    assert ("Linen Camp Shirt", "linen-camp-shirt") in g.products
    assert "navy" in g.colours and "XL" in g.sizes


def test_everyday_words_in_a_product_name_do_not_name_it_alone():
    shop = Gazetteer(products=[("Chambray Work Shirt", "chambray-work-shirt"), ("Stovetop Kettle", "stovetop-kettle")])
    # "work" is one product's word, but everyday English: no product in a returns question.
    assert found("how do returns work?", shop, kind="product") == []
    assert found("it doesn't work over here", shop, kind="product") == []
    # A rare word, or the product's head noun, still names it; so does the name itself.
    assert found("do you have chambray?", shop, kind="product") == [("product", "chambray-work-shirt")]
    assert found("does the kettle come in blue", shop, kind="product") == [("product", "stovetop-kettle")]
    assert found("the chambray work shirt in M", shop, kind="product") == [("product", "chambray-work-shirt")]


def test_a_catalog_size_is_found_however_it_is_written_and_no_number_is_taken_out_of_it():
    shop = Gazetteer(products=[("Linen Tablecloth", "linen-tablecloth")], colours=["Black"], sizes=["S", "M", "30 × 40 cm", "80 cm"])
    assert found("is the Linen Tablecloth in Black, size 30x40cm?", shop, "size") == [("size", "30 × 40 cm")]
    assert found("size 30 X 40 CM please", shop, "size") == [("size", "30 × 40 cm")]
    assert found("the belt in 80cm", shop, "size") == [("size", "80 cm")]
    assert found("size 30 please", shop, "size") == [("size", "30")]


def test_a_colour_word_is_a_colour_and_no_one_word_product_mention():
    shop = Gazetteer(
        products=[("Natural Rubber Rain Boots", "rain-boots"), ("Linen Pillowcases (Pair)", "pillowcases")],
        colours=["Natural", "Sage"],
        sizes=["40 × 80 cm"],
    )
    entities = extract_entities("is the Linen Pillowcases (Pair) in stock in Natural, size 40 × 80 cm?", shop)
    assert [(e.type, e.value) for e in entities] == [("product", "pillowcases"), ("colour", "Natural"), ("size", "40 × 80 cm")]
    assert found("do you have it in anthracite?", None, "colour") == [("colour", "anthracite")]


def test_a_product_name_written_out_in_full_wins_over_a_longer_name_sharing_its_words():
    shop = Gazetteer(products=[("Linen Wide Leg Trousers Pleated Navy", "long"), ("Wide-Leg Linen Trousers", "wide-leg")])
    assert found("is the wide-leg linen trousers in navy in stock?", shop, "product") == [("product", "wide-leg")]
