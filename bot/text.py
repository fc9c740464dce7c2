"""Text a shopper sends that no database here can store."""

from __future__ import annotations

import re

# NUL (PostgreSQL refuses it in text) and any UTF-16 surrogate code point: a Python str holds
# one only when it came unpaired (JSON "\udcff"), and it cannot be encoded as UTF-8 at all.
_REFUSABLE = re.compile("[\x00\ud800-\udfff]")


def refusable_text(text: str) -> bool:
    """True when `text` holds a NUL or a lone surrogate: refuse it before it reaches the database."""
    return _REFUSABLE.search(text) is not None
