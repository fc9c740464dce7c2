"""Product cards in the chat, in a real browser (Debian's Chromium, Playwright), at desktop and
phone width: many variants collapse behind a "+N more" button, the card stays compact on a phone."""

from decimal import Decimal

import pytest

from catalog.money import money_format
from tests.factories import CategoryFactory, ProductFactory, VariantFactory
from tests.live import LiveServer, artifacts_dir

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

SIZES = ["XS", "S", "M", "L", "XL"]
# Measured (Chromium, 390x844): the collapsed card is 157 px tall, 208 px with all nine chips
# open; on a 1280 px desktop 195 / 246 px. The bound leaves room for other fonts.
PHONE_CARD_MAX_HEIGHT = 240


@pytest.fixture
def sweater(shop_with_kb):
    knit = CategoryFactory(name="Knitwear", slug="knitwear")
    product = ProductFactory(category=knit, name="Merino Crew Sweater", slug="merino-crew-sweater", price=Decimal("128.00"))
    variants = [(c, s) for c in ("Navy", "Grey") for s in SIZES][:9]
    for colour, size in variants:
        VariantFactory(product=product, colour=colour, size=size, stock=5, sku=f"MCS-{colour[:2].upper()}-{size}")
    return product


def _ask_for_the_card(page, server):
    page.goto(server.url + "/", wait_until="domcontentloaded")
    page.get_by_test_id("sc-launcher").click()
    page.get_by_test_id("sc-input").fill("do you have a merino crew sweater?")
    page.get_by_test_id("sc-send").click()
    card = page.get_by_test_id("sc-card-product").filter(has_text="Merino Crew Sweater").first
    card.wait_for(timeout=30_000)
    return card


@pytest.mark.parametrize("width,height,name", [(1280, 860, "desktop"), (390, 844, "phone")])
def test_a_product_with_nine_variants_shows_four_chips_and_a_more_button_that_expands(sweater, browser, width, height, name):
    server = LiveServer()
    try:
        page = browser.new_page(viewport={"width": width, "height": height})
        errors = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        card = _ask_for_the_card(page, server)
        chips = card.locator("li.sc-variant")
        assert chips.count() == 9
        visible = [i for i in range(9) if chips.nth(i).is_visible()]
        assert visible == [0, 1, 2, 3]
        more = card.get_by_test_id("sc-variants-more")
        assert more.inner_text() == "+5 more" and more.get_attribute("aria-expanded") == "false"
        # The card's price is the server's string, the same the texts use.
        assert money_format(Decimal("128.00"), "EUR") in card.inner_text()
        collapsed = card.bounding_box()["height"]
        page.screenshot(path=str(artifacts_dir() / f"chat-card-{name}-collapsed.png"))
        more.click()
        assert all(chips.nth(i).is_visible() for i in range(9))
        assert more.get_attribute("aria-expanded") == "true"
        expanded = card.bounding_box()["height"]
        assert expanded > collapsed
        page.screenshot(path=str(artifacts_dir() / f"chat-card-{name}-expanded.png"))
        more.click()
        assert not chips.nth(8).is_visible()
        if name == "phone":
            assert collapsed < PHONE_CARD_MAX_HEIGHT, collapsed
            assert card.bounding_box()["width"] <= width
        print(f"{name}: card {collapsed:.0f}px collapsed, {expanded:.0f}px expanded")
        assert not errors, errors
    finally:
        server.close()
