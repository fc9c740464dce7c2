"""Every WebSocket route of the project, in one place."""

from django.urls import path

from bot.consumers import ChatConsumer

websocket_urlpatterns: list = [
    path("ws/chat/", ChatConsumer.as_asgi()),
]
