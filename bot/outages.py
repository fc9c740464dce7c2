"""Outages degrade a socket, they do not end it.

Redis (the channel layer) down: Channels runs each consumer's layer receive next to its socket
and lets a failed receive end the consumer (close 1011). `ChannelLayerOutageMixin` keeps the
socket instead: the consumer hears `layer.down` once (the chat tells the shopper that live agents
are unavailable), the layer is probed with backoff by re-joining the consumer's groups (Redis
lost them if it restarted), and `layer.up` follows when that works. Meanwhile everything that
does not need the layer goes on: the bot answers on the socket itself, and pushes to other
sockets fail and are logged (bot.events).

The database down: `DatabaseOutageMixin` turns a database error in a client frame into an
`unavailable` error frame (with the frame's client_id, so the client keeps that message and
sends it again later; nothing was acknowledged) and keeps the socket open. A socket that cannot
open its session closes with 4503 ("try again later") after the same frame, and the client
reconnects. Django drops broken connections after the error (close_old_connections, and
CONN_HEALTH_CHECKS on PostgreSQL), so the next frame after the database returns just works.
"""

from __future__ import annotations

import asyncio
import json
import logging

from django.conf import settings
from django.db import InterfaceError, OperationalError
from django.utils import translation
from django.utils.translation import gettext_lazy as _

logger = logging.getLogger(__name__)

# The database could not be reached (or the connection broke): worth trying again later,
# unlike an IntegrityError or a bug.
DATABASE_DOWN = (OperationalError, InterfaceError)

CLOSE_TRY_AGAIN_LATER = 4503  # "503, try again later" (servers may send only 1000 and 3000-4999)
UNAVAILABLE_DETAIL = _("We can't reach our records right now; your message is kept and sent again shortly.")


def client_id_of(text_data) -> str | None:
    """The client_id of a raw client frame, if it has one (for the error frame)."""
    try:
        frame = json.loads(text_data) if isinstance(text_data, str) else None
    except (ValueError, RecursionError):
        return None
    client_id = frame.get("client_id") if isinstance(frame, dict) else None
    return client_id[:64] if isinstance(client_id, str) and client_id else None


class DatabaseOutageMixin:
    """For a JSON WebSocket consumer whose connect() accepts before it reads the database."""

    def unavailable_detail(self) -> str:
        """The detail in the socket's language: its conversation's, else its own `language`."""
        language = getattr(getattr(self, "conversation", None), "language", None) or getattr(self, "language", None)
        if not language:
            return str(UNAVAILABLE_DETAIL)
        with translation.override(language):
            return str(UNAVAILABLE_DETAIL)

    async def websocket_connect(self, message):
        try:
            await super().websocket_connect(message)
        except DATABASE_DOWN:
            logger.warning("database unavailable while opening a socket", exc_info=True)
            await self.send(text_data=json.dumps({"type": "error", "code": "unavailable", "detail": self.unavailable_detail()}))
            await self.close(code=CLOSE_TRY_AGAIN_LATER)

    async def websocket_receive(self, message):
        try:
            await super().websocket_receive(message)
        except DATABASE_DOWN:
            logger.warning("database unavailable for a client frame", exc_info=True)
            frame = {"type": "error", "code": "unavailable", "detail": self.unavailable_detail()}
            client_id = client_id_of(message.get("text"))
            if client_id:
                frame["client_id"] = client_id
            await self.send(text_data=json.dumps(frame))


class ChannelLayerOutageMixin:
    """For a consumer with a channel layer: a failing layer receive becomes `layer.down`, then
    `layer.up` once `layer_groups()` could be joined again; the consumer defines `layer_down`
    and `layer_up` handlers."""

    layer_is_down = False

    def layer_groups(self) -> list[str]:
        return []

    # Channels' AsyncConsumer.__call__ sets `channel_receive` (the layer's receive for this
    # consumer's channel) right before it starts dispatching; the property hands it this
    # consumer's failure-tolerant receive instead.
    @property
    def channel_receive(self):
        return self._receive_from_layer

    @channel_receive.setter
    def channel_receive(self, receive):
        self._layer_receive = receive

    async def _receive_from_layer(self):
        if not self.layer_is_down:
            try:
                return await self._layer_receive()
            except Exception:  # noqa: BLE001 — Redis gone or broken; the socket lives on
                logger.warning("channel layer receive failed; retrying in the background", exc_info=True)
                self.layer_is_down = True
                return {"type": "layer.down"}
        delay = 0.25
        while True:
            await asyncio.sleep(delay)
            delay = min(delay * 2, settings.REALTIME_RETRY_SECONDS)
            try:
                groups = self.layer_groups()
                if not groups:  # nothing to re-join: the receive itself is the probe
                    message = await self._layer_receive()
                    self.layer_is_down = False
                    return message
                for group in groups:
                    await self.channel_layer.group_add(group, self.channel_name)
            except Exception:  # noqa: BLE001
                logger.debug("channel layer still unavailable", exc_info=True)
                continue
            self.layer_is_down = False
            logger.info("channel layer available again for %s", self.channel_name)
            return {"type": "layer.up"}
