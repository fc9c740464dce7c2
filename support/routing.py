"""Every WebSocket route of the project, in one place."""

websocket_urlpatterns: list = []
