"""Money, country names and lists for shoppers, from the locale (Babel's CLDR data).

The one place that writes an amount for people: the assistant's texts, the chat's cards (sent
preformatted, so text and card always match), e-mails and templates (the ``money`` filter).
Amounts in data (JSON for the chat, event logs) are ``money_amount`` strings ("12.50"), and
amounts read in (forms, seed files) become cents-exact Decimals through ``money_quantize``.
"""

from decimal import Decimal, InvalidOperation

from babel import Locale, UnknownLocaleError
from babel.lists import format_list
from babel.numbers import format_currency
from django.conf import settings
from django.utils import translation


def _locale() -> Locale:
    try:
        return Locale.parse(translation.to_locale(translation.get_language() or settings.LANGUAGE_CODE))
    except (UnknownLocaleError, ValueError):
        return Locale.parse("en")


CENT = Decimal("0.01")


def money_quantize(value) -> Decimal:
    """12.5, "12.5" or Decimal("12.499") -> Decimal("12.50"); raises InvalidOperation (or
    ValueError/TypeError) when ``value`` is not a number."""
    return Decimal(str(value)).quantize(CENT)


def money_amount(value) -> str | None:
    """An amount as data: Decimal("12.5") -> "12.50"; None stays None."""
    return None if value is None else f"{money_quantize(value)}"


def money_format(amount, currency: str | None = None) -> str:
    """128 -> "€128.00" in the active locale and ``currency`` (default ``settings.SHOP_CURRENCY``).

    An amount that is not a number gives "" (nothing is better than a wrong price)."""
    if amount is None or amount == "":
        return ""
    try:
        value = money_quantize(amount)
    except (InvalidOperation, ValueError, TypeError):
        return ""
    code = (currency or settings.SHOP_CURRENCY).strip().upper()
    return format_currency(value, code, locale=_locale())


def country_name(code: str | None) -> str:
    """"CH" -> "Switzerland" in the active locale; an unknown code is returned as given."""
    text = (code or "").strip()
    return _locale().territories.get(text.upper(), text) if len(text) == 2 else text


def list_format(items) -> str:
    """["a", "b", "c"] -> "a, b and c" (English), "a、b、c" (Japanese): CLDR's list pattern.

    English lists use the British pattern, without the serial comma, as the shop writes English."""
    words = [str(item) for item in items]
    if not words:
        return ""
    locale = _locale()
    if locale.language == "en":
        locale = Locale.parse("en_GB")
    return format_list(words, style="standard", locale=locale)
