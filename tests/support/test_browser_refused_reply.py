"""A reply the server refuses (text the database cannot store) is shown as not sent in the
workspace and is not sent again when the socket reconnects; headless Chromium, real server."""

import time
import uuid

import pytest

from bot.models import Conversation, Message
from support import agent_actions, handoff
from tests.live import LiveServer, artifacts_dir
from tests.support.conftest import PACKET, make_agent, open_workspace

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

# Every WebSocket the page opens, and what the page sends on each (the app itself is untouched).
RECORD_SOCKETS = """
(() => {
  const Native = window.WebSocket;
  window.__sockets = [];
  window.WebSocket = function (url, protocols) {
    const socket = protocols === undefined ? new Native(url) : new Native(url, protocols);
    const record = { socket: socket, sent: [] };
    window.__sockets.push(record);
    const send = socket.send.bind(socket);
    socket.send = (data) => { record.sent.push(JSON.parse(data)); return send(data); };
    return socket;
  };
  window.WebSocket.prototype = Native.prototype;
  Object.assign(window.WebSocket, { CONNECTING: 0, OPEN: 1, CLOSING: 2, CLOSED: 3 });
})();
"""


def test_a_refused_reply_is_shown_as_not_sent_and_is_not_resent_after_reconnect(browser, monkeypatch):
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")  # plain ORM checks between browser steps
    ada = make_agent("ada", online=True)
    conversation = Conversation.objects.create()
    Message.objects.create(conversation=conversation, sender="shopper", text="I need a person")
    escalation = handoff.conversation_escalate(conversation=conversation, reason="requested", context=PACKET)
    agent_actions.escalation_claim(escalation_id=escalation.pk, agent=ada)
    server = LiveServer(CELERY_TASK_ALWAYS_EAGER="1", CHANNELS_PREFIX=f"asgi-refused-{uuid.uuid4().hex[:8]}")
    try:
        context = browser.new_context(viewport={"width": 1400, "height": 900})
        context.add_init_script(RECORD_SOCKETS)
        desk = context.new_page()
        errors = open_workspace(desk, server.url, "ada")
        desk.locator('[data-testid="escalation"]').first.click()
        desk.locator('[data-testid="reply-input"]:not([disabled])').wait_for(timeout=15_000)

        # A NUL and a lone surrogate, as a paste or another tool might put them in the box.
        for text in ("hello\\u0000there", "caf\\uDCFF"):
            desk.evaluate(f"document.querySelector('[data-testid=reply-input]').value = '{text}'")
            desk.get_by_test_id("reply-send").click()
        failed = desk.locator('[data-testid="ws-outbox"][data-state="failed"]')
        failed.nth(1).wait_for(timeout=15_000)
        assert failed.count() == 2
        assert "Not sent" in failed.first.inner_text()
        refused_ids = set(desk.evaluate(
            "[...document.querySelectorAll('[data-testid=ws-outbox][data-state=failed]')].map((n) => n.dataset.clientId)"
        ))
        assert len(refused_ids) == 2

        # The connection drops and comes back: the workspace resubscribes but sends neither again.
        desk.evaluate("window.__sockets[window.__sockets.length - 1].socket.close()")
        # Polled with evaluate: wait_for_function evaluates a string, which the page's CSP forbids.
        deadline = time.monotonic() + 20
        while not desk.evaluate("window.__sockets.length === 2 && window.__sockets[1].sent.some((f) => f.type === 'claim')"):
            assert time.monotonic() < deadline, "the workspace did not reconnect and resubscribe"
            time.sleep(0.1)
        desk.locator('[data-testid="connection"][data-state="open"]').wait_for(timeout=20_000)
        desk.wait_for_timeout(1000)
        resent = desk.evaluate("window.__sockets[1].sent.filter((f) => f.type === 'reply').map((f) => f.client_id)")
        assert not set(resent) & refused_ids, resent
        assert desk.locator('[data-testid="ws-outbox"][data-state="failed"]').count() == 2  # still shown
        assert desk.locator('[data-testid="ws-outbox"][data-state="sending"]').count() == 0
        desk.screenshot(path=str(artifacts_dir() / "desk-reply-not-sent.png"))

        # Edit puts the text back in the box; a good reply still goes through.
        desk.locator('[data-testid="edit-not-sent"]').first.click()
        assert desk.get_by_test_id("reply-input").input_value() == "hello\x00there"
        desk.get_by_test_id("reply-input").fill("Hello there")
        desk.get_by_test_id("reply-send").click()
        desk.locator('[data-testid="ws-msg"][data-sender="agent"]').first.wait_for(timeout=15_000)
        assert list(Message.objects.filter(sender="agent").values_list("text", flat=True)) == ["Hello there"]
        assert desk.locator('[data-testid="ws-outbox"]').count() == 1  # the other refused one
        assert not errors, errors
    finally:
        server.close()
