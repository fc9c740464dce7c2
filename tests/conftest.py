import os
import secrets

import pytest

# The servers and workers the tests start run with DEBUG off, where the repository's key is
# refused (support.E001): this run gets a key of its own, shared by every process it starts.
os.environ.setdefault("SECRET_KEY", secrets.token_urlsafe(50))


def pytest_configure(config):
    # Tests must not write e-mail to the console or depend on a developer's environment.
    from django.conf import settings

    (settings.BASE_DIR / "var").mkdir(exist_ok=True)
    # pytest-django read the settings before this file set the key: sign with the servers' key.
    settings.SECRET_KEY = os.environ["SECRET_KEY"]

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.STORAGES["staticfiles"]["BACKEND"] = "django.contrib.staticfiles.storage.StaticFilesStorage"


def real_stack_available() -> bool:
    from django.conf import settings

    return bool(os.environ.get("DATABASE_URL")) and bool(settings.REDIS_URL)


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    """pytest-django's test databases, and on PostgreSQL a clean drop at the end: the worker
    threads that served async tests keep their own persistent connections (CONN_MAX_AGE), which
    would otherwise keep the test database "in use" when pytest-django drops it."""
    yield
    from django.db import connection

    if connection.vendor == "postgresql":
        with django_db_blocker.unblock(), connection.cursor() as cursor:
            cursor.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )


@pytest.fixture
def require_real_stack():
    """Tests of the production stack: under CI they must run, never skip."""
    if real_stack_available():
        return
    if os.environ.get("CI") == "true" and os.environ.get("REQUIRE_REAL_STACK") == "1":
        pytest.fail("CI asked for the real stack (PostgreSQL + Redis) but DATABASE_URL/REDIS_URL are not set")
    pytest.skip("needs DATABASE_URL (PostgreSQL) and REDIS_URL (Redis)")


@pytest.fixture(autouse=True)
def _fresh_process_caches():
    """Per-process search caches outlive a test's database; start each test without them."""
    from bot import knowledge, products, services

    knowledge.reset_caches()
    products.reset_caches()
    services.reset_caches()
    yield


@pytest.fixture
def on_commit(django_capture_on_commit_callbacks):
    """Call a service and run what it queued for after the commit (tasks, mail), like production."""

    def run(fn, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return fn(**kwargs)

    return run


@pytest.fixture(autouse=True)
def _default_language():
    """Django's active language is per thread and LocaleMiddleware leaves a request's language
    active after the response: a test client request in Japanese would otherwise leave "ja" active
    for whatever the next test runs in the same thread. Each test starts in the shop's default."""
    from django.conf import settings
    from django.utils import translation

    translation.activate(settings.LANGUAGE_CODE)
    yield
    translation.activate(settings.LANGUAGE_CODE)


@pytest.fixture(autouse=True)
def _fresh_mail_limits(monkeypatch):
    """The mail limits count in the shared cache, which outlives a test: give each test its own keys."""
    import uuid

    from catalog import mail_limits

    monkeypatch.setattr(mail_limits, "KEY_PREFIX", f"mail-limit-test-{uuid.uuid4().hex}")


@pytest.fixture(autouse=True)
def _fresh_verification_limits():
    """Failed order checks are counted in the shared cache for an hour (Redis on the real stack):
    each test starts from zero instead of inheriting the locks an earlier test provoked."""
    from bot.verification import verification_limits_reset

    verification_limits_reset()
    yield


@pytest.fixture(autouse=True)
def _fresh_rate_limits(monkeypatch):
    """Per-address counters live in the cache for a minute; each test counts from zero."""
    import uuid

    from bot import limits

    monkeypatch.setattr(limits, "KEY_PREFIX", f"ratelimit-test-{uuid.uuid4().hex[:12]}")


@pytest.fixture(autouse=True)
def eager_tasks():
    """Tasks run in-process right after commit (like the embedded default), even when REDIS_URL
    is set; the real-stack tests switch this off and start a real Celery worker."""
    from support.celery import app

    previous = app.conf.task_always_eager
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = previous


@pytest.fixture
def browser():
    """Debian's Chromium driven by Playwright (its own browser download cannot run here)."""
    from tests.live import CHROMIUM_ARGS, chromium_path

    path = chromium_path()
    if path is None:
        if os.environ.get("CI") == "true":
            pytest.fail("CI needs Chromium at /usr/bin/chromium (bin/test installs it)")
        pytest.skip("no Chromium at /usr/bin/chromium")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=path, args=CHROMIUM_ARGS)
        yield browser
        browser.close()
