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
import unicodedata

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


# What says nothing about the shopper's language however it is written: an e-mail address or a
# web address typed in a Japanese chat is Latin script, not a switch to English.
_NEUTRAL = re.compile(r"[\w.+\-\uff0b\uff0d\uff0e]+[@\uff20][\w\-\uff0d]+(?:[.\uff0e][\w\-\uff0d]+)+|\bhttps?://\S+|\bwww\.\S+", re.I)


def message_language(text: str) -> str | None:
    """The language a shopper's message switches the conversation to, or None to keep it: its
    script (detect_language) once e-mail and web addresses are left out, if it is a shop language."""
    return shop_language(detect_language(_NEUTRAL.sub(" ", text or "")))


def shop_language(code: str | None) -> str | None:
    """The shop language (a code of settings.SHOP_LANGUAGES) that ``code`` names ("ja", "ja-JP",
    "en-us"), else None. Django's own matching of a code to settings.LANGUAGES decides."""
    from django.conf import settings
    from django.utils.translation import get_supported_language_variant

    if not code or not isinstance(code, str) or len(code) > 20:
        return None
    try:
        variant = get_supported_language_variant(code.strip())
    except LookupError:
        return None
    for language in settings.SHOP_LANGUAGES:
        if variant.lower() == language.lower() or variant.lower().split("-")[0] == language.lower():
            return language
    return None


def default_language() -> str:
    """The shop's language when nothing else says one: settings.LANGUAGE_CODE's, else the first."""
    from django.conf import settings

    return shop_language(settings.LANGUAGE_CODE) or settings.SHOP_LANGUAGES[0]


def storefront_language(*, query: str | None, cookie: str | None, accept_language: str | None) -> str:
    """The storefront's language for a chat socket: the widget's ``?language=`` (the page's
    <html lang>), else Django's language cookie, else the browser's Accept-Language (in its
    order of preference), else the shop's default. Always one of settings.SHOP_LANGUAGES."""
    from django.utils.translation.trans_real import parse_accept_lang_header

    for code in (query, cookie):
        language = shop_language(code)
        if language:
            return language
    for code, _quality in parse_accept_lang_header(accept_language or "")[:10]:
        language = shop_language(code) if code != "*" else None
        if language:
            return language
    return default_language()


# Plain answers to a yes/no question, per language (a new language adds its row). They are read
# before the classifier's intent, so "いいえ" can never confirm a cancel whatever a model reads.
ANSWERS: dict[str, dict[str, frozenset[str]]] = {
    "en": {
        "yes": frozenset({"yes", "y", "yes please", "ok", "okay", "sure", "yep", "yeah", "yes thanks"}),
        "no": frozenset({"no", "n", "nope", "no thanks", "no thank you"}),
    },
    "ja": {
        "yes": frozenset({
            "はい", "うん", "ええ", "お願いします", "おねがいします", "お願い", "はい お願いします", "はい、お願いします",
            "それでお願いします", "そうです", "そう", "了解", "了解です", "オッケー", "おけ", "いいよ", "よろしくお願いします",
            "はい、それで", "それで", "承知しました", "お願いいたします",
        }),
        "no": frozenset({
            "いいえ", "いや", "いえ", "ううん", "結構です", "けっこうです", "いいえ、結構です", "やめて", "やめます",
            "やめておきます", "やっぱりやめます", "不要です", "いらない", "いりません", "しないで", "しません", "だめ",
            "キャンセルしないで", "そのままで", "そのままでお願いします",
        }),
    },
}

_ANSWER_EDGES = re.compile(r"^[\s\W_]+|[\s\W_]+$")
_ANSWER_INSIDE = re.compile(r"[\s、，,。]+")


def _answer_key(text: str) -> str:
    text = unicodedata.normalize("NFKC", text or "").lower()
    return _ANSWER_INSIDE.sub("", _ANSWER_EDGES.sub("", text))


_ANSWER_KEYS = {
    answer: frozenset(_answer_key(word) for row in ANSWERS.values() for word in row[answer]) for answer in ("yes", "no")
}


def yes_no(text: str) -> str | None:
    """"yes" or "no" when the whole message is a plain answer in any shop language ("Yes!",
    "はい、お願いします。", "結構です"), else None."""
    key = _answer_key(text)
    if not key:
        return None
    if key in _ANSWER_KEYS["no"]:
        return "no"
    if key in _ANSWER_KEYS["yes"]:
        return "yes"
    return None
