"""System checks of this project, and the ones the ASGI server runs before it serves.

`manage.py check` (and migrate, runserver, …) runs them; Daphne does not, so support.asgi calls
refuse_unsafe_start() when the process loads the application.
"""

from django.conf import settings
from django.core.checks import Error, Tags, register, run_checks
from django.core.checks.security.base import SECRET_KEY_INSECURE_PREFIX, SECRET_KEY_MIN_LENGTH, SECRET_KEY_MIN_UNIQUE_CHARACTERS
from django.core.exceptions import ImproperlyConfigured


@register(Tags.security)
def check_secret_key(app_configs, **kwargs):
    """support.E001: with DEBUG off, the key must be a real secret (not the one in this repository)."""
    if settings.DEBUG:
        return []
    key = str(getattr(settings, "SECRET_KEY", "") or "")
    unsafe = (
        key == getattr(settings, "DEVELOPMENT_SECRET_KEY", None)
        or key.startswith(SECRET_KEY_INSECURE_PREFIX)
        or len(key) < SECRET_KEY_MIN_LENGTH
        or len(set(key)) < SECRET_KEY_MIN_UNIQUE_CHARACTERS
    )
    if not unsafe:
        return []
    return [
        Error(
            "SECRET_KEY is the development key in the repository (or a short, guessable one) while DEBUG is off: "
            "anyone could sign conversation tokens, invoice links and sessions.",
            hint=f"Set SECRET_KEY to a random value of at least {SECRET_KEY_MIN_LENGTH} characters, e.g. "
            "python -c 'import secrets; print(secrets.token_urlsafe(50))' (or DEBUG=1 for local development).",
            id="support.E001",
        )
    ]


def refuse_unsafe_start() -> None:
    """Raise ImproperlyConfigured if a security check (deployment ones too, with DEBUG off)
    reports an error: the server must not serve with, say, the public key."""
    messages = run_checks(tags=[Tags.security], include_deployment_checks=not settings.DEBUG)
    errors = [m for m in messages if m.is_serious() and not m.is_silenced()]
    if errors:
        raise ImproperlyConfigured("Refusing to start: " + " ".join(f"{m.id}: {m.msg} {m.hint or ''}".strip() for m in errors))
