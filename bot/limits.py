"""Limits per client address across all sockets and processes, counted in the shared cache.

Fixed one-minute windows: cache.add starts a window's counter, cache.incr counts in it. With
REDIS_URL the cache is Redis, so every Daphne process counts together; the embedded default's
local-memory cache counts per process. settings.RATE_LIMITS (env RATE_LIMITS=off) lifts them.
"""

from __future__ import annotations

import logging
import time

from django.conf import settings
from django.core.cache import cache

logger = logging.getLogger(__name__)

WINDOW_SECONDS = 60
KEY_PREFIX = "ratelimit"  # tests give each test its own


def address_allows(kind: str, address: str, *, per_minute: int) -> bool:
    """Count one `kind` event from `address`; False once this minute's count passes per_minute.

    A cache that cannot be reached lets the event through (logged): a limit must not take the
    chat down with it.
    """
    if not settings.RATE_LIMITS:
        return True
    window = int(time.time() // WINDOW_SECONDS)
    key = f"{KEY_PREFIX}:{kind}:{address}:{window}"
    try:
        if cache.add(key, 1, timeout=WINDOW_SECONDS + 5):
            count = 1
        else:
            try:
                count = cache.incr(key)
            except ValueError:  # the window's key expired between add and incr
                cache.add(key, 1, timeout=WINDOW_SECONDS + 5)
                count = 1
    except Exception:  # noqa: BLE001
        logger.warning("rate-limit cache unavailable; %s from %s let through", kind, address, exc_info=True)
        return True
    return count <= per_minute
