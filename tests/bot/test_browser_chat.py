"""A shopper chats on the storefront in a real browser (Debian's Chromium, driven by Playwright)."""

import pytest

from tests.live import LiveServer, artifacts_dir

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


def test_shopper_asks_on_the_storefront_and_sees_the_answer_with_a_product_card(shop_with_kb, browser):
    server = LiveServer()
    try:
        page = browser.new_page(viewport={"width": 1280, "height": 860})
        errors = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(server.url + "/", wait_until="domcontentloaded")
        page.get_by_test_id("sc-launcher").click()
        page.get_by_test_id("sc-input").fill("do you have a linen shirt in white?")
        page.get_by_test_id("sc-send").click()
        shopper = page.locator('[data-testid="sc-msg"][data-sender="shopper"]').first
        shopper.wait_for(timeout=20_000)
        page.locator('[data-testid="sc-msg"][data-sender="shopper"][data-status="sent"]').first.wait_for(timeout=20_000)
        bot = page.locator('[data-testid="sc-msg"][data-sender="bot"]').first
        bot.wait_for(timeout=30_000)
        card = page.get_by_test_id("sc-card-product").first
        card.wait_for(timeout=10_000)
        assert "Linen Camp Shirt" in card.inner_text()
        assert "59.00" in card.inner_text() or "59,00" in card.inner_text()
        page.screenshot(path=str(artifacts_dir() / "chat-storefront.png"))
        assert not errors, errors
    finally:
        server.close()
