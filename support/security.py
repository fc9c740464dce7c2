"""Who may open a WebSocket, and the Content-Security-Policy header of every page."""

from __future__ import annotations

from urllib.parse import urlparse

from channels.security.websocket import OriginValidator, WebsocketDenier
from csp.middleware import CSPMiddleware
from django.conf import settings
from django.core.exceptions import DisallowedHost
from django.http.request import split_domain_port, validate_host
from django.shortcuts import render

DEFAULT_PORTS = {"http": 80, "ws": 80, "https": 443, "wss": 443}


def _allowed_hosts() -> list[str]:
    # As Django's HttpRequest.get_host(): with DEBUG and no ALLOWED_HOSTS, the local names.
    if settings.DEBUG and not settings.ALLOWED_HOSTS:
        return [".localhost", "127.0.0.1", "[::1]"]
    return settings.ALLOWED_HOSTS


class SameOriginValidator(OriginValidator):
    """Accepts a socket whose Origin is the site the browser connected to — the same host and
    port as the request's Host header (which must be in ALLOWED_HOSTS), and https when HTTPS=1 —
    or one of settings.WS_ALLOWED_ORIGINS (scheme://host[:port], compared with the port).

    Channels' AllowedHostsOriginValidator compares the host name only: a page on another port
    of the same host (another app, a dev server) could open the shop's sockets with the
    shopper's or the agent's cookies.
    """

    def __init__(self, application):
        super().__init__(application, allowed_origins=[])

    async def __call__(self, scope, receive, send):
        if scope["type"] != "websocket":
            raise ValueError("SameOriginValidator guards WebSocket connections only")
        headers = {name.decode("latin1").lower(): value.decode("latin1") for name, value in scope.get("headers", [])}
        origin = urlparse(headers["origin"]) if "origin" in headers else None
        if self.accepts(origin, headers.get("host", "")):
            return await self.application(scope, receive, send)
        return await WebsocketDenier()(scope, receive, send)

    def accepts(self, origin, host_header: str) -> bool:
        if origin is None or origin.hostname is None:
            return False
        try:
            origin.port  # noqa: B018 -- a port that is not a number raises here
        except ValueError:
            return False
        listed = (p for p in settings.WS_ALLOWED_ORIGINS if "://" in p)
        return self.same_origin(origin, host_header) or any(self.match_allowed_origin(origin, p) for p in listed)

    @staticmethod
    def same_origin(origin, host_header: str) -> bool:
        domain, port = split_domain_port(host_header)
        if not domain or not validate_host(domain, _allowed_hosts()):
            return False
        if settings.HTTPS and origin.scheme != "https":
            return False
        default = DEFAULT_PORTS.get(origin.scheme)
        host_port = int(port) if port else default
        origin_port = origin.port or default
        origin_host = (origin.hostname or "").strip("[]").lower()
        return default is not None and origin_host == domain.strip("[]") and origin_port == host_port


class ContentSecurityPolicyMiddleware(CSPMiddleware):
    """django-csp's middleware; connect-src also names this site's own WebSocket origin
    (ws://host:port, wss:// under TLS): browsers before CSP Level 3 do not count it as 'self'."""

    def get_policy_parts(self, request, response, report_only=False):
        parts = super().get_policy_parts(request, response, report_only)
        if report_only:
            return parts
        try:
            host = request.get_host()
        except DisallowedHost:
            return parts
        scheme = "wss" if request.is_secure() else "ws"
        update = dict(parts.update or {})
        update["connect-src"] = [*_as_list(update.get("connect-src")), f"{scheme}://{host}"]
        parts.update = update
        return parts


def _as_list(value) -> list:
    if value is None:
        return []
    return [value] if isinstance(value, str) else list(value)



def lockout_response(request, *args):
    """django-axes' answer to a locked-out sign-in (AXES_LOCKOUT_CALLABLE): a page that says for
    how long, status 429. (*args: axes passes the original response and the credentials.)"""
    from axes.helpers import get_cool_off

    cool_off = get_cool_off(request)
    context = {
        "username": request.POST.get(settings.AXES_USERNAME_FORM_FIELD, ""),
        "failure_limit": settings.AXES_FAILURE_LIMIT,
        "minutes": max(1, round(cool_off.total_seconds() / 60)) if cool_off else None,
    }
    from django.urls import reverse

    # A shopper locked out on the storefront gets the storefront's page, with the reset link.
    template = "account/locked_out.html" if request.path == reverse("catalog:sign_in") else "admin/locked_out.html"
    return render(request, template, context, status=settings.AXES_HTTP_RESPONSE_CODE)
