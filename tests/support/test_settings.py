"""The one settings module: embedded default, production stack from the environment."""

import os
import subprocess
import sys
from pathlib import Path

from django.core.management import call_command

ROOT = Path(__file__).resolve().parents[2]


def _settings_in(env: dict) -> dict:
    code = (
        "import json, django; django.setup(); from django.conf import settings as s;"
        "print(json.dumps({'db': s.DATABASES['default']['ENGINE'], 'layer': s.CHANNEL_LAYERS['default']['BACKEND'],"
        "'eager': s.CELERY_TASK_ALWAYS_EAGER, 'broker': s.CELERY_BROKER_URL, 'debug': s.DEBUG}))"
    )
    clean = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL", "CELERY_BROKER_URL", "DEBUG"}}
    out = subprocess.run(
        [sys.executable, "-c", code],
        env={**clean, "DJANGO_SETTINGS_MODULE": "support.settings", **env},
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    import json

    return json.loads(out.stdout.strip().splitlines()[-1])


def test_embedded_default_needs_no_services():
    s = _settings_in({})
    assert s["db"] == "django.db.backends.sqlite3"
    assert s["layer"] == "channels.layers.InMemoryChannelLayer"
    assert s["eager"] is True
    assert s["debug"] is False


def test_production_stack_from_environment():
    s = _settings_in({"DATABASE_URL": "postgres://u@db:5432/shop", "REDIS_URL": "redis://cache:6379/0"})
    assert s["db"] == "django.db.backends.postgresql"
    assert s["layer"] == "support.layers.RedisChannelLayer"
    assert s["eager"] is False
    assert s["broker"] == "redis://cache:6379/0"


def test_no_missing_migrations(db):
    call_command("makemigrations", "--check", "--dry-run", verbosity=0)


def test_check_deploy_passes_with_production_settings():
    clean = {k: v for k, v in os.environ.items() if k not in {"DEBUG"}}
    env = {
        **clean,
        "DJANGO_SETTINGS_MODULE": "support.settings",
        "DATABASE_URL": "postgres://postgres@127.0.0.1:5432/postgres",
        "REDIS_URL": "redis://127.0.0.1:6379/0",
        "DEBUG": "0",
        "HTTPS": "1",
        "SECRET_KEY": "x7Qp2vLr9sTz4wYb8nKm3cJf6hGd1aRe5uVi0oPl-production-like-secret",
        "ALLOWED_HOSTS": "shop.example.com",
    }
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr
