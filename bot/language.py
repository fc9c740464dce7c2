"""Which language a shopper writes in, from the text alone (script detection).

Japanese is told from English by its scripts: any hiragana, katakana (full- or half-width) or
CJK ideograph makes a message Japanese, whatever Latin words, digits or emoji it also holds
("注文のtracking number教えて" is Japanese). A message with none of them and at least one Latin letter
is English. Digits, punctuation and emoji alone say nothing (None): the conversation keeps its
language. More languages plug in as more rows of SCRIPTS (first match wins), checked against
settings.SHOP_LANGUAGES by the caller.
"""

from __future__ import annotations

import re

# (language, pattern of characters that decide it), first match wins.
SCRIPTS: tuple[tuple[str, re.Pattern], ...] = (
    # Hiragana, katakana (+ phonetic extensions), CJK unified ideographs (+ ext. A), the
    # iteration mark 々, half-width katakana.
    ("ja", re.compile(r"[\u3040-\u309f\u30a0-\u30ff\u31f0-\u31ff\u3400-\u4dbf\u4e00-\u9fff\u3005\uff66-\uff9f]")),
    # Latin letters, ASCII and full-width (ＡＢＣ).
    ("en", re.compile(r"[A-Za-z\u00c0-\u024f\uff21-\uff3a\uff41-\uff5a]")),
)


def detect_language(text: str) -> str | None:
    """The language of ``text`` by its script, or None when the text has no letters at all."""
    for language, pattern in SCRIPTS:
        if pattern.search(text or ""):
            return language
    return None
