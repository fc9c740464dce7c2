"""A shopper switches the storefront to Japanese in Chromium: the page, the chat widget's chrome
and its socket follow; a message sent in Japanese is answered (the answer's language is the
bot's business, tested in tests/bot)."""

from decimal import Decimal
from urllib.parse import parse_qs, urlparse

import pytest

from tests.factories import CategoryFactory, ProductFactory, VariantFactory
from tests.live import LiveServer, artifacts_dir, wait_until

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


@pytest.fixture
def small_shop(db):
    shirts = CategoryFactory(name="Shirts", slug="shirts")
    shirt = ProductFactory(category=shirts, name="Linen Camp Shirt", slug="linen-camp-shirt", price=Decimal("59.00"))
    VariantFactory(product=shirt, colour="White", size="M", stock=12, sku="LCS-WH-M")


def test_the_storefront_and_the_chat_widget_switch_to_japanese(small_shop, browser):
    server = LiveServer()
    try:
        page = browser.new_page(viewport={"width": 1280, "height": 860}, locale="en-US")
        errors, sockets = [], []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.on("websocket", lambda ws: sockets.append(ws.url))

        page.goto(server.url + "/", wait_until="domcontentloaded")
        assert page.evaluate("document.documentElement.lang") == "en"
        assert page.get_by_role("link", name="Help centre").first.is_visible()

        # Django's set_language: the switcher posts the choice, the page comes back in Japanese.
        page.select_option("#site-language", "ja")
        with page.expect_navigation():
            page.get_by_test_id("language-switcher").get_by_role("button").click()
        assert page.evaluate("document.documentElement.lang") == "ja"
        assert page.get_by_role("link", name="ヘルプセンター").first.is_visible()
        assert "いいものを、長く。" in page.locator("h1").first.inner_text()
        assert page.get_by_role("link", name="サインイン").first.is_visible()

        # The widget's chrome comes from the JavaScript catalog in the page's language.
        launcher = page.get_by_test_id("sc-launcher")
        wait_until(page, "!!document.querySelector('[data-testid=sc-launcher]')")
        assert launcher.get_attribute("aria-label") == "チャットを開く"
        launcher.click()
        assert page.locator("#sc-title").inner_text() == "チャットでお問い合わせ"
        assert page.get_by_test_id("sc-input").get_attribute("placeholder") == "メッセージを入力…"
        assert "お気軽にお尋ねください" in page.locator(".sc-welcome").inner_text()

        # The socket tells the server the storefront's language (docs/i18n.md).
        wait_until(page, "document.querySelector('[data-testid=sc-status]').getAttribute('data-state') === 'open'", timeout=30)
        languages = [parse_qs(urlparse(url).query).get("language") for url in sockets if "/ws/chat/" in url]
        assert languages and all(value == ["ja"] for value in languages), sockets

        page.get_by_test_id("sc-input").fill("こんにちは")
        page.get_by_test_id("sc-send").click()
        page.locator('[data-testid="sc-msg"][data-sender="shopper"][data-status="sent"]').first.wait_for(timeout=20_000)
        bot = page.locator('[data-testid="sc-msg"][data-sender="bot"]').first
        bot.wait_for(timeout=30_000)
        assert bot.inner_text().strip()
        # The widget's own label for the reply's sender is Japanese whatever the reply says.
        assert "アシスタント" in bot.text_content()
        page.screenshot(path=str(artifacts_dir() / "chat-storefront-ja.png"))

        # Back to English: the same switcher, the same page.
        page.select_option("#site-language", "en")
        with page.expect_navigation():
            page.get_by_test_id("language-switcher").get_by_role("button").click()
        assert page.evaluate("document.documentElement.lang") == "en"
        assert not errors, errors
    finally:
        server.close()
