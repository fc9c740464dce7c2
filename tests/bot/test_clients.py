"""bot.clients.client_address: the address per-address limits count by."""

import pytest

from bot.clients import client_address


def scope(client=("203.0.113.7", 5000), forwarded=None):
    headers = [(b"host", b"shop.example")]
    if forwarded is not None:
        headers.append((b"x-forwarded-for", forwarded.encode()))
    return {"type": "websocket", "client": list(client) if client else None, "headers": headers}


def test_the_peer_address_without_a_trusted_proxy(settings):
    settings.TRUSTED_PROXY = False
    assert client_address(scope(forwarded="198.51.100.1")) == "203.0.113.7"


def test_the_last_forwarded_address_behind_a_trusted_proxy(settings):
    settings.TRUSTED_PROXY = True
    # The client may send its own X-Forwarded-For; the proxy appends the real peer last.
    assert client_address(scope(forwarded="10.9.9.9, 198.51.100.1")) == "198.51.100.1"
    assert client_address(scope(forwarded=" 2001:db8::1 ")) == "2001:db8::1"


@pytest.mark.parametrize("forwarded", ["", "not-an-address", "198.51.100.1, evil"])
def test_a_forwarded_header_that_names_no_address_falls_back_to_the_peer(settings, forwarded):
    settings.TRUSTED_PROXY = True
    assert client_address(scope(forwarded=forwarded)) == "203.0.113.7"


def test_no_peer_at_all_is_unknown(settings):
    settings.TRUSTED_PROXY = False
    assert client_address(scope(client=None)) == "unknown"
    assert client_address({"type": "websocket", "headers": []}) == "unknown"


def test_a_request_address_for_sign_in_throttling_follows_the_same_rule(settings, rf):
    from bot.clients import request_client_address

    settings.TRUSTED_PROXY = False
    request = rf.get("/", HTTP_X_FORWARDED_FOR="198.51.100.1", REMOTE_ADDR="10.0.0.5")
    assert request_client_address(request) == "10.0.0.5"
    settings.TRUSTED_PROXY = True
    assert request_client_address(request) == "198.51.100.1"
    request.META.pop("REMOTE_ADDR")
    request.META.pop("HTTP_X_FORWARDED_FOR")
    assert request_client_address(request) is None  # axes keeps addresses in an IP column
