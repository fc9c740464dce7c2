"""A signed-in shopper in the chat, over the real WebSocket stack with the session cookie: their
own orders need no number + e-mail check and no e-mailed code; their conversation is theirs only."""

from datetime import timedelta

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.core import mail
from django.test import Client
from django.utils import timezone

from catalog import services as shop
from catalog.models import Order
from support.asgi import application
from tests.bot.test_consumers import frames_until
from tests.factories import OrderFactory, OrderLineFactory, UserFactory

pytestmark = [pytest.mark.django_db(transaction=True)]

ORIGIN = [(b"origin", b"http://testserver"), (b"host", b"testserver")]


@database_sync_to_async
def signed_in_owner():
    """An account with a confirmed address and two orders placed with it as a guest; its session cookie."""
    user = UserFactory(username="owner@example.com", email="owner@example.com")
    now = timezone.now()
    older = OrderFactory(number="20071", customer=None, email="owner@example.com", delivered=True, placed_at=now - timedelta(days=9))
    newer = OrderFactory(number="20078", customer=None, email="owner@example.com", paid=True, placed_at=now - timedelta(days=1))
    OrderLineFactory(order=newer)
    OrderFactory(number="20090", customer=None, email="someone.else@example.com", paid=True)
    shop.customer_link_account(user=user, email="owner@example.com")
    client = Client()
    client.force_login(user)
    return f"sessionid={client.cookies['sessionid'].value}".encode(), older, newer


async def connect(cookie: bytes | None, query: str = ""):
    headers = ORIGIN + ([(b"cookie", cookie)] if cookie else [])
    comm = WebsocketCommunicator(application, "/ws/chat/" + query, headers=headers)
    connected, _ = await comm.connect(timeout=10)
    assert connected
    return comm


async def ask(comm, text):
    await comm.send_json_to({"type": "message", "text": text, "client_id": None})
    while True:  # the shopper's own message is echoed first
        frame, _ = await frames_until(comm, "message")
        if frame["sender"] == "bot":
            return frame


async def test_signed_in_shopper_gets_order_status_without_number_and_email(shop_with_kb):
    cookie, older, newer = await signed_in_owner()
    comm = await connect(cookie)
    try:
        await frames_until(comm, "session")
        reply = await ask(comm, "where is my order?")
        assert reply["quick_replies"] == ["Order 20078", "Order 20071"], reply  # their own, newest first
        assert "e-mail address you used" not in reply["text"]
        reply = await ask(comm, "Order 20078")
        assert [card["number"] for card in reply["cards"] if card.get("kind") == "order"] == ["20078"], reply
        reply = await ask(comm, "and where is order 20090?")  # not theirs: no order shown
        assert not [card for card in reply.get("cards", []) if card.get("kind") == "order"], reply
    finally:
        await comm.disconnect()


async def test_signed_in_owner_cancels_in_the_chat_without_an_emailed_code(shop_with_kb):
    cookie, _older, newer = await signed_in_owner()
    comm = await connect(cookie)
    try:
        await frames_until(comm, "session")
        reply = await ask(comm, "please cancel my order 20078")
        assert "Cancel order 20078" in reply["text"], reply
        reply = await ask(comm, "yes")
        assert "cancelled" in reply["text"].lower(), reply
    finally:
        await comm.disconnect()
    assert (await database_sync_to_async(lambda: Order.objects.get(pk=newer.pk).status)()) == Order.Status.CANCELLED
    assert not [m for m in mail.outbox if "your code" in m.subject]


async def test_a_signed_in_conversation_does_not_reopen_after_signing_out(shop_with_kb):
    cookie, _older, _newer = await signed_in_owner()
    comm = await connect(cookie)
    token = (await frames_until(comm, "session"))[0]["conversation"]
    await ask(comm, "where is my order 20078?")
    await comm.disconnect()

    comm = await connect(None, f"?conversation={token}")  # the same browser, signed out
    try:
        error, frames = await frames_until(comm, "session")
        assert any(f["type"] == "error" and f.get("code") == "bad_token" for f in frames), frames
        assert error["conversation"] != token and error["history"] == []
        reply = await ask(comm, "where is my order 20078?")
        assert "e-mail address you used" in reply["text"] and not reply.get("cards"), reply
    finally:
        await comm.disconnect()
