"""Production refuses unsafe settings: the secret key check, sign-in throttling, the WebSocket
origin check (with the port) and the Content-Security-Policy, in a real browser too."""

import os
import uuid
from datetime import timedelta
from urllib.parse import urlparse

import pytest
from axes.models import AccessAttempt
from channels.testing import WebsocketCommunicator
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import SystemCheckError
from django.test import Client
from django.utils import timezone

from support.asgi import application
from support.security import SameOriginValidator
from tests.live import LiveServer, artifacts_dir
from tests.support import stack
from tests.support.conftest import make_agent

REAL_KEY = "x7Qp2vLr9sTz4wYb8nKm3cJf6hGd1aRe5uVi0oPl-production-like-secret"
FAST_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


# --- SECRET_KEY -----------------------------------------------------------------------------------


@pytest.mark.parametrize("key", ["development", "short-key", "django-insecure-" + "k" * 60])
def test_check_reports_an_unsafe_secret_key_with_debug_off(settings, key):
    settings.DEBUG = False
    settings.SECRET_KEY = settings.DEVELOPMENT_SECRET_KEY if key == "development" else key
    with pytest.raises(SystemCheckError, match="support.E001"):
        call_command("check", "--deploy")


def test_check_accepts_a_real_key_or_debug_mode(settings):
    settings.DEBUG = False
    settings.SECRET_KEY = REAL_KEY
    call_command("check", "--tag", "security")  # no SystemCheckError
    settings.DEBUG = True
    settings.SECRET_KEY = settings.DEVELOPMENT_SECRET_KEY
    call_command("check", "--tag", "security")


def _server_env(**extra) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_") and k not in {"SECRET_KEY", "DEBUG"}}
    return {**env, "DJANGO_SETTINGS_MODULE": "support.settings", "PYTHONPATH": str(stack.ROOT), "LOG_LEVEL": "WARNING", **extra}


def test_the_server_refuses_to_start_with_debug_off_and_no_secret_key():
    with pytest.raises(RuntimeError, match="support.E001"):
        proc, _ = stack.start_daphne(_server_env(DEBUG="0"))
        stack.stop(proc)  # only reached if it started: the test fails above


def test_the_server_starts_with_debug_off_and_a_real_key():
    proc, port = stack.start_daphne(_server_env(DEBUG="0", SECRET_KEY=REAL_KEY))
    try:
        assert proc.poll() is None
    finally:
        stack.stop(proc)


# --- Sign-in throttling (django-axes) ------------------------------------------------------------------


@pytest.fixture
def boss(db, settings):
    settings.PASSWORD_HASHERS = FAST_HASHERS
    return get_user_model().objects.create_superuser("boss", "boss@shop.example", "the-right-password-2026")


def sign_in(client, password, username="boss"):
    return client.post("/admin/login/?next=/admin/", {"username": username, "password": password})


def signed_in(client) -> bool:
    return "_auth_user_id" in client.session


def test_fifty_wrong_passwords_then_the_right_one_does_not_sign_in(boss, settings):
    client = Client(REMOTE_ADDR="203.0.113.9")
    for _ in range(50):
        sign_in(client, "guess")
    response = sign_in(client, "the-right-password-2026")
    assert response.status_code == 429
    page = response.content.decode()
    assert "Too many failed sign-ins" in page and "boss" in page and f"{settings.AXES_FAILURE_LIMIT} in a row" in page
    assert "paused for 15 minutes" in page
    assert not signed_in(client)


def test_the_limit_is_per_username_and_address(boss, settings):
    attacker = Client(REMOTE_ADDR="203.0.113.9")
    for _ in range(settings.AXES_FAILURE_LIMIT):
        sign_in(attacker, "guess")
    assert sign_in(attacker, "the-right-password-2026").status_code == 429
    owner = Client(REMOTE_ADDR="198.51.100.7")  # the real owner, elsewhere, is not locked out
    assert sign_in(owner, "the-right-password-2026").status_code == 302
    assert signed_in(owner)


def test_a_few_mistakes_then_the_right_password_signs_in_and_the_lock_ends_after_the_cool_off(boss, settings):
    client = Client(REMOTE_ADDR="203.0.113.9")
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        assert sign_in(client, "typo").status_code == 200  # the login form again, with its error
    response = sign_in(client, "the-right-password-2026")
    assert response.status_code == 302 and signed_in(client)

    client = Client(REMOTE_ADDR="203.0.113.10")
    for _ in range(settings.AXES_FAILURE_LIMIT):
        sign_in(client, "guess")
    assert sign_in(client, "the-right-password-2026").status_code == 429
    AccessAttempt.objects.update(attempt_time=timezone.now() - settings.AXES_COOLOFF_TIME - timedelta(seconds=1))
    assert sign_in(client, "the-right-password-2026").status_code == 302 and signed_in(client)


# --- The WebSocket origin check compares the port --------------------------------------------------


def parsed(origin):
    return urlparse(origin)


@pytest.mark.parametrize(
    "origin, host, accepted",
    [
        ("http://127.0.0.1:8000", "127.0.0.1:8000", True),
        ("http://127.0.0.1:8001", "127.0.0.1:8000", False),  # same host, another port
        ("http://127.0.0.1", "127.0.0.1:8000", False),
        ("http://localhost", "localhost", True),  # default ports on both sides
        ("http://localhost:80", "localhost", True),
        ("https://localhost", "localhost", True),
        ("https://localhost:8443", "localhost", False),
        ("http://[::1]:8000", "[::1]:8000", True),
        ("http://evil.example:8000", "127.0.0.1:8000", False),
        ("http://evil.example", "evil.example", False),  # DNS rebinding: the host is not allowed
        ("http://127.0.0.1:8000", "", False),  # no Host header
        ("http://127.0.0.1:notaport", "127.0.0.1:8000", False),
        ("null", "127.0.0.1:8000", False),
    ],
)
def test_same_origin_means_same_host_and_port(origin, host, accepted):
    assert SameOriginValidator(None).accepts(parsed(origin), host) is accepted


def test_with_https_only_an_https_origin_is_the_same_origin(settings):
    settings.HTTPS = True
    assert SameOriginValidator(None).accepts(parsed("https://localhost"), "localhost")
    assert not SameOriginValidator(None).accepts(parsed("http://localhost"), "localhost")


def test_listed_origins_are_compared_with_their_port(settings):
    settings.WS_ALLOWED_ORIGINS = ["https://widget.partner.example:8443", "partner.example"]  # no scheme: ignored
    validator = SameOriginValidator(None)
    assert validator.accepts(parsed("https://widget.partner.example:8443"), "127.0.0.1:8000")
    assert not validator.accepts(parsed("https://widget.partner.example"), "127.0.0.1:8000")
    assert not validator.accepts(parsed("http://partner.example"), "127.0.0.1:8000")


async def _chat_socket(origin: bytes, host: bytes):
    comm = WebsocketCommunicator(application, "/ws/chat/", headers=[(b"origin", origin), (b"host", host)])
    connected, _ = await comm.connect(timeout=10)
    if connected:
        session = await comm.receive_json_from(timeout=10)
        assert session["type"] == "session"
    await comm.disconnect()
    return connected


@pytest.mark.django_db(transaction=True)
async def test_the_chat_socket_refuses_a_page_on_another_port_of_the_same_host():
    assert await _chat_socket(b"http://localhost:8000", b"localhost:8000")
    assert not await _chat_socket(b"http://localhost:9999", b"localhost:8000")


# --- Content-Security-Policy ------------------------------------------------------------------------


@pytest.mark.django_db
def test_pages_carry_the_content_security_policy(client):
    policy = client.get("/", HTTP_HOST="localhost:8000")["Content-Security-Policy"]
    directives = dict(d.strip().split(" ", 1) for d in policy.split(";"))
    assert directives["script-src"] == "'self'" and directives["style-src"] == "'self'"
    assert directives["connect-src"] == "'self' ws://localhost:8000"
    assert directives["frame-ancestors"] == "'none'" and directives["object-src"] == "'none'"
    assert "unsafe-inline" not in policy


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_storefront_widget_workspace_and_admin_work_under_the_policy_in_chromium(browser, monkeypatch, settings):
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    make_agent("ada")
    get_user_model().objects.filter(username="ada").update(is_superuser=True)
    server = LiveServer(CELERY_TASK_ALWAYS_EAGER="1", CHANNELS_PREFIX=f"asgi-csp-{uuid.uuid4().hex[:8]}")
    violations, errors = [], []

    def watch(page):
        page.on("console", lambda m: ("Content Security Policy" in m.text or "Refused to" in m.text) and violations.append(m.text))
        page.on("pageerror", lambda e: errors.append(str(e)))
        return page

    try:
        shop = watch(browser.new_page(viewport={"width": 1100, "height": 860}))
        response = shop.goto(server.url + "/", wait_until="domcontentloaded")
        assert "script-src 'self'" in response.headers["content-security-policy"]
        shop.get_by_test_id("sc-launcher").click()
        shop.get_by_test_id("sc-input").fill("hello")
        shop.get_by_test_id("sc-send").click()
        shop.locator('[data-testid="sc-msg"][data-sender="bot"]').first.wait_for(timeout=30_000)

        desk = watch(browser.new_context(viewport={"width": 1400, "height": 900}).new_page())
        desk.goto(server.url + "/admin/login/?next=/desk/workspace/")
        desk.fill("#id_username", "ada")
        desk.fill("#id_password", "pw-correct-horse")
        desk.click("input[type=submit]")
        desk.wait_for_url("**/desk/workspace/")
        desk.locator('[data-testid="connection"][data-state="open"]').wait_for(timeout=20_000)
        for path in ("/admin/", "/admin/support/escalation/", "/admin/catalog/product/add/", "/admin/auth/user/"):
            assert desk.goto(server.url + path).status == 200, path
        desk.screenshot(path=str(artifacts_dir() / "csp-admin.png"))

        # Through Daphne (Django's async path): after the limit even the right password gets the lockout page.
        other = watch(browser.new_context().new_page())
        for password in ["wrong"] * settings.AXES_FAILURE_LIMIT + ["pw-correct-horse"]:
            other.goto(server.url + "/admin/login/?next=/admin/")
            other.fill("#id_username", "ada")
            other.fill("#id_password", password)
            with other.expect_navigation() as navigation:
                other.click("input[type=submit]")
        assert navigation.value.status == 429
        assert "Too many failed sign-ins" in other.get_by_test_id("locked-out").inner_text()
        assert not violations, violations
        assert not errors, errors
    finally:
        server.close()
