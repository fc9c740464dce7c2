"""Who is on the other end of a connection: the client address for per-address limits."""

from __future__ import annotations

import ipaddress

from django.conf import settings

UNKNOWN = "unknown"


def client_address(scope) -> str:
    """The client's IP address for an ASGI scope (HTTP or WebSocket).

    The socket's peer (`scope["client"]`), unless settings.TRUSTED_PROXY is on: then the last
    address of X-Forwarded-For, the one the shop's own proxy appended (earlier entries come from
    the client and prove nothing). Never trust the header without a proxy that sets it: anyone
    could then pick their own address. "unknown" when there is none (a Unix socket, a test).
    """
    if settings.TRUSTED_PROXY:
        forwarded = _header(scope, b"x-forwarded-for")
        if forwarded:
            address = _valid(forwarded.split(",")[-1])
            if address:
                return address
    client = scope.get("client")
    if client and client[0]:
        return _valid(str(client[0])) or UNKNOWN
    return UNKNOWN


def _header(scope, name: bytes) -> str:
    for key, value in scope.get("headers") or ():
        if key.lower() == name:
            return value.decode("latin-1")
    return ""


def _valid(raw: str) -> str:
    try:
        return str(ipaddress.ip_address(raw.strip()))
    except ValueError:
        return ""
