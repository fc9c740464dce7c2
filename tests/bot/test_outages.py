"""Outages on the embedded stack: a channel layer that goes down under an open chat socket, and
the 503 page for a database that cannot be reached (real Redis and PostgreSQL outages:
tests/support/test_outages.py)."""

import asyncio

import pytest
from channels.layers import InMemoryChannelLayer
from channels.testing import WebsocketCommunicator
from django.db import OperationalError
from django.test import RequestFactory

from bot import conversations
from bot.conversations import conversation_from_token
from support.asgi import application
from support.middleware import DatabaseUnavailableMiddleware
from tests.bot.test_consumers import ORIGIN, cid, frames_until, session


class SwitchableLayer(InMemoryChannelLayer):
    """The in-memory layer, with a switch that makes every call fail as a dead Redis does."""

    down = False

    def _check(self):
        if SwitchableLayer.down:
            raise ConnectionError("Error connecting to the layer (switched off)")

    async def receive(self, channel):
        while True:
            self._check()
            try:
                return await asyncio.wait_for(super().receive(channel), 0.05)
            except TimeoutError:
                continue

    async def group_add(self, group, channel):
        self._check()
        await super().group_add(group, channel)

    async def group_send(self, group, message):
        self._check()
        await super().group_send(group, message)


@pytest.fixture
def switchable_layer(settings):
    settings.CHANNEL_LAYERS = {"default": {"BACKEND": "tests.bot.test_outages.SwitchableLayer"}}
    settings.REALTIME_RETRY_SECONDS = 0.2
    SwitchableLayer.down = False
    yield SwitchableLayer
    SwitchableLayer.down = False


@pytest.mark.django_db(transaction=True)
async def test_a_chat_socket_outlives_its_channel_layer_and_catches_up_when_it_returns(switchable_layer):
    comm = WebsocketCommunicator(application, "/ws/chat/", headers=ORIGIN)
    assert (await comm.connect(timeout=10))[0]
    try:
        token = (await session(comm))["conversation"]
        switchable_layer.down = True
        status, _ = await frames_until(comm, "status")
        assert status == {"type": "status", "live_agents": False}

        # The bot answers on the socket itself.
        await comm.send_json_to({"type": "message", "text": "do you ship to Switzerland?", "client_id": cid()})
        await frames_until(comm, "ack")
        answer, _ = await frames_until(comm, "message")
        assert answer["sender"] == "bot"

        # An agent's message stored meanwhile: its push fails (logged), nothing reaches the socket.
        conversation = await conversations_for(token)
        agent_message = await store_agent_message(conversation, "Hi, Ada here.")
        assert await comm.receive_nothing(timeout=0.5)

        switchable_layer.down = False
        frames = [(await comm.receive_json_from(timeout=10)) for _ in range(2)]
        assert frames[0] == {"type": "status", "live_agents": True}
        assert (frames[1]["type"], frames[1]["id"], frames[1]["text"]) == ("message", agent_message.pk, "Hi, Ada here.")
        # Already shown messages are not sent again.
        assert await comm.receive_nothing(timeout=0.5)
    finally:
        await comm.disconnect()


async def conversations_for(token):
    from channels.db import database_sync_to_async

    return await database_sync_to_async(conversation_from_token)(token)


async def store_agent_message(conversation, text):
    from channels.db import database_sync_to_async

    message, _ = await database_sync_to_async(conversations.message_store)(
        conversation=conversation, sender="agent", text=text, data={"agent_name": "Ada"}
    )
    return message


def test_a_page_that_cannot_reach_the_database_is_a_503_with_a_plain_page():
    middleware = DatabaseUnavailableMiddleware(lambda request: None)
    request = RequestFactory().get("/p/merino-jumper/")
    response = middleware.process_exception(request, OperationalError("connection refused"))
    assert response.status_code == 503 and response["Retry-After"] == "30"
    assert "back in a moment" in response.content.decode()
    # Other errors stay errors (Django's 500 handling).
    assert middleware.process_exception(request, ValueError("a bug")) is None
