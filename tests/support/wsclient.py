"""A small JSON WebSocket client for the real-stack tests and the bench (`websockets`)."""

from __future__ import annotations

import asyncio
import json
from urllib.parse import urlparse

from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed


class Socket:
    """await Socket.open(url, cookie=...); await s.send({...}); await s.until("type", **match)."""

    def __init__(self, ws):
        self.ws = ws

    @classmethod
    async def open(cls, url: str, *, origin: str | None = None, cookie: str | None = None, timeout: float = 15):
        parsed = urlparse(url)
        headers = {"Cookie": cookie} if cookie else None
        ws = await connect(
            url,
            origin=origin or f"http://{parsed.hostname}:{parsed.port}",
            additional_headers=headers,
            open_timeout=timeout,
            ping_interval=None,
            max_size=2**22,
        )
        return cls(ws)

    async def send(self, frame) -> None:
        await self.ws.send(json.dumps(frame))

    async def recv(self, timeout: float = 10):
        """The next frame, or None once the server closed the socket."""
        try:
            return json.loads(await asyncio.wait_for(self.ws.recv(), timeout))
        except ConnectionClosed:
            return None

    async def until(self, kind: str, timeout: float = 10, **match) -> dict:
        """The next frame of this type (and these field values); others are skipped."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            left = deadline - loop.time()
            if left <= 0:
                raise TimeoutError(f"no {kind} frame {match} within {timeout}s")
            frame = await self.recv(left)
            if frame is None:
                raise ConnectionError(f"socket closed ({self.close_code}) while waiting for {kind}")
            if frame.get("type") == kind and all(frame.get(k) == v for k, v in match.items()):
                return frame

    @property
    def close_code(self):
        return self.ws.close_code

    async def closed(self, timeout: float = 10) -> int | None:
        await asyncio.wait_for(self.ws.wait_closed(), timeout)
        return self.ws.close_code

    async def close(self) -> None:
        await self.ws.close()
