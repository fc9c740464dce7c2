"""How much mail the shop sends to an address someone typed into the chat.

Such an address is not proved to be the shopper's, so the chat must not become a way to mail
strangers: every such mail (an after-hours confirmation, a newsletter link) takes one from each
of its counters first, and none goes out when one is spent. Counters live in the shared cache
(Redis in production, so every process counts together) in a window that starts with the first
mail. The asker's counters (client address, conversation) are taken before the recipient's, so
someone refused for asking too much does not use up a stranger's allowance.
"""

from __future__ import annotations

import hashlib

from django.conf import settings
from django.core.cache import cache

KEY_PREFIX = "mail-limit"


def _key(kind: str, what: str, value) -> str:
    # Hashed: no addresses in the cache, and any value makes a valid key.
    digest = hashlib.sha256(str(value).strip().lower().encode()).hexdigest()[:32]
    return f"{KEY_PREFIX}:{kind}:{what}:{digest}"


def _count(key: str, window: int) -> int:
    if cache.add(key, 1, timeout=window):
        return 1
    try:
        return cache.incr(key)
    except ValueError:  # expired between add and incr: a new window
        cache.set(key, 1, timeout=window)
        return 1


def mail_limit_take(*, kind: str, address: str, conversation_id=None, client_address: str | None = None) -> bool:
    """Count one mail of ``kind`` to ``address``; False when a limit is reached (send nothing then)."""
    window = settings.MAIL_LIMIT_WINDOW_SECONDS
    checks = []
    if client_address:
        checks.append(("client", client_address, settings.MAIL_LIMIT_PER_CLIENT))
    if conversation_id is not None:
        checks.append(("conversation", conversation_id, settings.MAIL_LIMIT_PER_CONVERSATION))
    checks.append(("address", address, settings.MAIL_LIMIT_PER_ADDRESS))
    for what, value, limit in checks:
        if _count(_key(kind, what, value), window) > limit:
            return False
    return True
