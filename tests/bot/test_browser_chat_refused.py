"""A refused message in the storefront widget (Chromium): marked "Not sent", never resent in a loop."""

import pytest

from tests.live import LiveServer, artifacts_dir, wait_until

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

SHOPPER = '[data-testid="sc-msg"][data-sender="shopper"]'


def test_text_the_database_refuses_is_marked_not_sent_and_the_socket_is_not_reopened(browser):
    server = LiveServer()
    try:
        page = browser.new_page(viewport={"width": 1280, "height": 860})
        errors, sockets = [], []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.on("websocket", lambda ws: sockets.append(ws.url))
        page.goto(server.url + "/", wait_until="domcontentloaded")
        page.get_by_test_id("sc-launcher").click()
        wait_until(page, "window.shopChat.state().sessionReady", timeout=20)
        # A lone surrogate (JSON.stringify sends it as "\udcff") and a NUL, as a script could send them.
        page.evaluate("window.shopChat.send('broken \\udcff text')")
        page.evaluate("window.shopChat.send('nul \\u0000 inside')")
        failed = page.locator(f'{SHOPPER}[data-status="failed"]')
        failed.nth(1).wait_for(timeout=20_000)
        assert failed.count() == 2
        assert "Not sent" in failed.first.inner_text()
        # Nothing is left to resend, and the socket stays up: no reconnect, no second socket.
        page.wait_for_timeout(3000)
        state = page.evaluate("window.shopChat.state()")
        assert state["outbox"] == [] and state["connection"] == "open" and state["reconnectAttempt"] == 0
        assert len(sockets) == 1, sockets
        # The next normal message goes through on the same socket.
        page.get_by_test_id("sc-input").fill("hello")
        page.get_by_test_id("sc-send").click()
        page.locator(f'{SHOPPER}[data-status="sent"]').first.wait_for(timeout=20_000)
        # A reload does not resend the refused ones either.
        page.reload(wait_until="domcontentloaded")
        wait_until(page, "window.shopChat.state().sessionReady", timeout=20)
        page.wait_for_timeout(1000)
        assert page.evaluate("window.shopChat.state().outbox") == []
        page.screenshot(path=str(artifacts_dir() / "chat-refused-text.png"))
        assert not errors, errors
    finally:
        server.close()
