"""Limits on proving that an order is yours, shared by every process, and one-time codes.

A failed order check (an order number and e-mail address that don't match, or a wrong code) is
counted in Django's cache — Redis in production, so every ASGI process sees the same counts, and
a new conversation starts from them, not from zero — per e-mail address, per order number and
per client address, for ``VERIFY_WINDOW_SECONDS`` from the first failure. At a limit the check
is refused outright, even for the right pair, until the window ends.

Keys hold no e-mail address: e-mails and numbers are keyed hashes (HMAC with SECRET_KEY).
If the cache is unreachable these functions raise: the assistant then hands the chat to a
person rather than checking without limits.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
import time

from django.conf import settings
from django.core.cache import cache

from .clients import UNKNOWN

logger = logging.getLogger(__name__)

CODE_DIGITS = 6
_GENERATION = "verify:generation"


def mask_email(email: str) -> str:
    """a***@example.com: enough for a shopper to recognise, not enough to learn an address."""
    local, _, domain = (email or "").strip().partition("@")
    return f"{local[:1]}***@{domain}" if domain else "***"


def _tag(value: str) -> str:
    return hmac.new(settings.SECRET_KEY.encode(), value.encode(), hashlib.sha256).hexdigest()[:32]


def _counters(*, email: str | None, number: str | None, address: str | None, kind: str = "fail") -> list[tuple[str, int]]:
    """(cache key, limit) of each counter a check touches."""
    from catalog.selectors import normalise_order_number

    generation = cache.get(_GENERATION, 0)
    counters = []
    if email and email.strip():
        counters.append((f"verify:{generation}:{kind}:email:{_tag(email.strip().lower())}", settings.VERIFY_FAILURES_PER_EMAIL))
    if number and number.strip():
        canonical = normalise_order_number(number) or number.strip()[:60]
        limit = settings.VERIFY_CODES_PER_ORDER if kind == "code" else settings.VERIFY_FAILURES_PER_ORDER
        counters.append((f"verify:{generation}:{kind}:order:{_tag(canonical)}", limit))
    if address and address != UNKNOWN and settings.VERIFY_FAILURES_PER_ADDRESS > 0:
        counters.append((f"verify:{generation}:{kind}:address:{_tag(address)}", settings.VERIFY_FAILURES_PER_ADDRESS))
    return counters


def _left(counters: list[tuple[str, int]]) -> int | None:
    if not counters:
        return None
    counts = cache.get_many([key for key, _ in counters])
    return min(limit - int(counts.get(key, 0)) for key, limit in counters)


def _count(counters: list[tuple[str, int]]) -> int | None:
    """Add one to each counter (the window starts at the first); returns the tries left."""
    left = None
    for key, limit in counters:
        cache.add(key, 0, timeout=settings.VERIFY_WINDOW_SECONDS)
        try:
            count = cache.incr(key)
        except ValueError:  # expired between add and incr: this failure starts a new window
            cache.set(key, 1, timeout=settings.VERIFY_WINDOW_SECONDS)
            count = 1
        left = limit - count if left is None else min(left, limit - count)
    return left


def verification_locked(*, email: str | None, number: str | None, address: str | None) -> bool:
    """True while any of the check's counters is at its limit: the check must not run."""
    left = _left(_counters(email=email, number=number, address=address))
    if left is not None and left <= 0:
        logger.warning(
            "order check refused while locked: order=%s email=%s address=%s", (number or "")[:60], mask_email(email or ""), address or "-"
        )
        return True
    return False


def verification_failed(*, email: str | None, number: str | None, address: str | None, what: str = "number and e-mail") -> int | None:
    """Count a failed check; returns the tries left before the lock (None when nothing was counted)."""
    left = _count(_counters(email=email, number=number, address=address))
    logger.warning(
        "order check failed (%s): order=%s email=%s address=%s tries_left=%s",
        what, (number or "")[:60], mask_email(email or ""), address or "-", left,
    )
    return left


def verification_limits_reset() -> None:
    """Forget every counter at once (after an incident; tests start each case from zero).
    The old keys are no longer read and expire on their own."""
    cache.add(_GENERATION, 0, timeout=None)
    cache.incr(_GENERATION)


# --- One-time codes --------------------------------------------------------------------------


def code_send_allowed(*, number: str) -> bool:
    """Count one code e-mail for the order; False once VERIFY_CODES_PER_ORDER were sent this window."""
    counters = _counters(email=None, number=number, address=None, kind="code")
    left = _left(counters)
    if left is not None and left <= 0:
        logger.warning("verification code refused: order=%s had %s codes this window", number, settings.VERIFY_CODES_PER_ORDER)
        return False
    _count(counters)
    return True


def code_issue(*, purpose: str) -> tuple[str, dict]:
    """A new 6-digit code and what to keep of it: its keyed hash and when it expires."""
    code = f"{secrets.randbelow(10**CODE_DIGITS):0{CODE_DIGITS}d}"
    return code, {"digest": _code_digest(code, purpose), "expires_at": time.time() + settings.VERIFY_CODE_TTL_SECONDS}


def code_matches(*, code: str, purpose: str, digest: str) -> bool:
    return hmac.compare_digest(_code_digest(code, purpose), digest or "")


def code_expired(*, expires_at: float) -> bool:
    return time.time() > float(expires_at or 0)


def _code_digest(code: str, purpose: str) -> str:
    # Bound to its purpose (conversation, order, change): a code never confirms anything else.
    return hmac.new(settings.SECRET_KEY.encode(), f"code:{purpose}:{code}".encode(), hashlib.sha256).hexdigest()
