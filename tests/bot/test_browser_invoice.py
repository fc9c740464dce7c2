"""The invoice link on an order card, in a real browser: a link the shopper can open, built
without markup from server text, and a printable invoice page with the order's facts."""

import pytest

from catalog.models import Order
from tests.live import LiveServer, artifacts_dir

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


@pytest.fixture
def shipped(shop_with_kb) -> Order:
    """Read before the browser fixture starts Playwright's loop (no ORM calls inside it)."""
    return Order.objects.get(pk=shop_with_kb["orders"]["shipped"].pk)


def test_the_invoice_link_on_the_order_card_opens_the_printable_invoice(shipped, browser):
    order, total = shipped, shipped.total
    server = LiveServer()
    try:
        page = browser.new_page(viewport={"width": 1280, "height": 860})
        errors = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.on("console", lambda m: errors.append(m.text) if "Content-Security-Policy" in m.text else None)
        page.goto(server.url + "/", wait_until="domcontentloaded")
        page.get_by_test_id("sc-launcher").click()
        page.get_by_test_id("sc-input").fill(f"send me the invoice for order {order.number}, email {order.email}")
        page.get_by_test_id("sc-send").click()
        link = page.get_by_test_id("sc-card-invoice").first
        link.wait_for(timeout=30_000)
        assert link.evaluate("a => a.tagName") == "A" and link.inner_text() == "Open invoice"
        href = link.get_attribute("href")
        assert "/invoice/" in href and link.get_attribute("rel") == "noopener noreferrer"
        page.screenshot(path=str(artifacts_dir() / "chat-invoice-card.png"))
        invoice = browser.new_page()
        invoice.on("console", lambda m: errors.append(m.text) if "Content-Security-Policy" in m.text else None)
        response = invoice.goto(server.url + href if href.startswith("/") else href, wait_until="load")
        assert response.status == 200
        text = invoice.inner_text("body")
        assert f"Order {order.number}" in text and f"{total:.2f}" in text
        assert invoice.get_by_role("button", name="Print").is_visible()
        assert not errors, errors
    finally:
        server.close()
