"""The catalogue in Chromium shows each product's own kind of drawing (catalog/pictures.py)."""

import pytest

from catalog.pictures import product_kind
from tests.factories import CategoryFactory, ProductFactory, VariantFactory
from tests.live import LiveServer, artifacts_dir

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

NAMES = [
    "Wool Felt Fedora", "Soy Wax Candle", "Stoneware Mugs (Set of 4)", "Canvas Tote Bag",
    "Enamelled Cast-Iron Casserole", "Hand-Thrown Ceramic Vase", "Leather Card Wallet",
    "Acetate Round Sunglasses", "Merino Ribbed Gloves", "Compact Travel Umbrella",
    "Glass Table Lamp", "Mystery Widget",
]


def test_catalogue_cards_show_a_drawing_of_each_products_kind(browser, monkeypatch):
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    category = CategoryFactory(name="Accessories", slug="accessories")
    products = []
    for i, name in enumerate(NAMES):
        product = ProductFactory(name=name, slug=f"p-{i}", category=category)
        VariantFactory(product=product, stock=5)
        products.append(product)
    server = LiveServer()
    try:
        page = browser.new_page(viewport={"width": 1280, "height": 1400})
        page.goto(server.url + category.get_absolute_url(), wait_until="load")
        cards = page.locator(".product-card")
        assert cards.count() == len(NAMES)
        for i in range(cards.count()):
            card = cards.nth(i)
            name = card.locator(".product-card-name").inner_text().strip()
            product = next(p for p in products if p.name == name)
            img = card.locator("img")
            img.scroll_into_view_if_needed()
            loaded = 0
            for _ in range(50):  # lazy images: poll until decoded (the CSP forbids wait_for_function)
                loaded = img.evaluate("i => i.complete && i.naturalWidth")
                if loaded:
                    break
                page.wait_for_timeout(100)
            assert loaded, f"{name}: drawing did not load"
            assert img.get_attribute("src").endswith(f"/img/kinds/{product_kind(product)}.svg"), name
        kinds = {product_kind(p) for p in products}
        assert {"hat", "candle", "mug", "bag", "pot", "vase", "generic"} <= kinds
        page.evaluate("window.scrollTo(0, 0)")
        page.screenshot(path=str(artifacts_dir() / "catalogue-drawings.png"), full_page=True)
    finally:
        server.close()
