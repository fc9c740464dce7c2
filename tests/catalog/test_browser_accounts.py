"""In headless Chromium at desktop width: a shopper signs in from the header, opens "My orders"
and an order's page, without a console error or a Content-Security-Policy violation."""

import uuid

import pytest

from catalog import services
from tests.factories import OrderFactory, OrderLineFactory, UserFactory
from tests.live import LiveServer, artifacts_dir

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

PASSWORD = "plum-harbour-4417"


def test_sign_in_then_my_orders_then_the_order_page(browser, monkeypatch):
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    user = UserFactory(username="owner@example.com", email="owner@example.com", password=PASSWORD)
    order = OrderFactory(number="20078", customer=None, email="owner@example.com", shipped=True)
    OrderLineFactory(order=order, quantity=2)
    OrderFactory(number="20090", customer=None, email="someone.else@example.com", paid=True)
    services.customer_link_account(user=user, email="owner@example.com")
    server = LiveServer(CELERY_TASK_ALWAYS_EAGER="1", CHANNELS_PREFIX=f"asgi-accounts-{uuid.uuid4().hex[:8]}")
    try:
        page = browser.new_context(viewport={"width": 1400, "height": 900}).new_page()
        problems = []
        # The factory's categories have no pictures (the home page asks for them): not this test's subject.
        missing_picture = "/static/img/products/"
        page.on("pageerror", lambda e: problems.append(f"pageerror: {e}"))
        page.on(
            "console",
            lambda m: problems.append(f"console: {m.text} {(m.location or {}).get('url')}")
            if m.type == "error" and missing_picture not in (m.location or {}).get("url", "")
            else None,
        )
        page.on("response", lambda r: problems.append(f"{r.status} {r.url}") if r.status >= 400 and missing_picture not in r.url else None)

        page.goto(server.url + "/")
        page.locator(".site-header").get_by_role("link", name="Sign in").click()
        page.wait_for_url("**/account/sign-in/")
        page.get_by_label("E-mail address").fill("owner@example.com")
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_url("**/account/orders/")

        rows = page.locator(".order-table tbody tr")
        assert rows.count() == 1 and "20078" in rows.first.inner_text() and "Shipped" in rows.first.inner_text()
        assert page.locator(".site-header").get_by_role("button", name="Sign out").is_visible()
        page.get_by_role("link", name="20078").click()
        page.wait_for_url("**/account/orders/20078/")
        facts = page.locator(".order-facts").inner_text()
        assert "DHL" in facts and order.tracking_number in facts
        assert "still on its way" in page.locator("main").inner_text()  # why it cannot be returned yet
        page.screenshot(path=str(artifacts_dir() / "account-order-detail.png"), full_page=True)

        page.get_by_role("link", name="Invoice").click()
        page.wait_for_url("**/account/orders/20078/invoice/")
        assert "Invoice" in page.locator("h1").inner_text()
        page.go_back()
        page.locator(".site-header").get_by_role("button", name="Sign out").click()
        page.wait_for_url(server.url + "/")
        assert page.locator(".site-header").get_by_role("link", name="Sign in").is_visible()
        page.wait_for_timeout(300)  # late console messages (the chat widget, CSP reports)
        assert problems == []
    finally:
        server.close()
