"""Text the database refuses: a NUL character (PostgreSQL cannot store it) or a lone surrogate
(U+D800-U+DFFF alone is not Unicode, so it cannot be encoded as UTF-8). Both sockets (chat and
agent) refuse such text with an error frame before it reaches a query."""

from __future__ import annotations

import re

# NUL (PostgreSQL refuses it in text) and any UTF-16 surrogate code point: a Python str holds
# one only when it came unpaired (JSON "\udcff"), and it cannot be encoded as UTF-8 at all.
_REFUSABLE = re.compile("[\x00\ud800-\udfff]")


def refusable_text(text: str) -> bool:
    """True if `text` holds a NUL or a lone surrogate. (A str from valid JSON never holds a
    surrogate *pair*: json.loads joins the pair into one code point above U+FFFF.)"""
    return _REFUSABLE.search(text) is not None


# Sentences that end in a full-width stop (Japanese, Chinese) are written without a space between.
_UNSPACED_END = ("。", "！", "？", "」", "）")


def sentences_join(sentences) -> str:
    """Whole sentences (each translated on its own) as one text: a space after a sentence that
    ends in a Latin stop, none after one that ends in a full-width stop."""
    text = ""
    for sentence in sentences:
        sentence = sentence.strip()
        if not sentence:
            continue
        text += sentence if not text or text.endswith(_UNSPACED_END) else " " + sentence
    return text
