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
    client = scope.get("client")
    forwarded = ",".join(value.decode("latin-1") for key, value in scope.get("headers") or () if key.lower() == b"x-forwarded-for")
    return _address(str(client[0]) if client and client[0] else "", forwarded)


def request_client_address(request) -> str | None:
    """The same for a Django request (django-axes' AXES_CLIENT_IP_CALLABLE): sign-in throttling
    and the chat's limits count one and the same address. None when there is none (a request
    built in code, e.g. Django's force_login): axes stores addresses in an IP column."""
    address = _address(request.META.get("REMOTE_ADDR") or "", request.META.get("HTTP_X_FORWARDED_FOR") or "")
    return None if address == UNKNOWN else address


def _address(peer: str, forwarded: str) -> str:
    if settings.TRUSTED_PROXY and forwarded:
        address = _valid(forwarded.split(",")[-1])
        if address:
            return address
    return _valid(peer) or UNKNOWN if peer else UNKNOWN


def _valid(raw: str) -> str:
    try:
        return str(ipaddress.ip_address(raw.strip()))
    except ValueError:
        return ""
