"""Every WebSocket route of the project, in one place."""

from django.urls import path

from bot.consumers import ChatConsumer

websocket_urlpatterns: list = [
    path("ws/chat/", ChatConsumer.as_asgi()),
]

# The agent workspace (support desk).
from support.consumers import AgentConsumer  # noqa: E402

websocket_urlpatterns += [path("ws/agent/", AgentConsumer.as_asgi())]
