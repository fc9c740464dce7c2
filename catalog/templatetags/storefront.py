"""Template filters of the storefront: money, stock labels and article paragraphs."""

from django import template
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from catalog.money import money_format

register = template.Library()

# The same words and threshold as the chat's product cards (bot/products.py stock_label).
LOW_STOCK = 3


@register.filter
def money(value, currency=None):
    """12.5 -> "€12.50": catalog.money.money_format, the one money format of the shop."""
    return money_format(value, currency)


def stock_level(stock) -> str:
    try:
        stock = int(stock)
    except (TypeError, ValueError):
        stock = 0
    if stock <= 0:
        return "out"
    if stock <= LOW_STOCK:
        return "low"
    return "in"


@register.filter(name="stock_level")
def stock_level_filter(stock):
    """'in', 'low' or 'out': for CSS classes."""
    return stock_level(stock)


@register.filter
def stock_label(stock):
    """What a shopper reads: "In stock", "Only 2 left" or "Sold out"."""
    level = stock_level(stock)
    if level == "out":
        return _("Sold out")
    if level == "low":
        return ngettext("Only %(count)d left", "Only %(count)d left", int(stock)) % {"count": int(stock)}
    return _("In stock")


@register.filter
def paragraphs(body):
    """An article body as blocks: blank lines separate paragraphs; a block of "- " lines is a list."""
    blocks = []
    for chunk in (body or "").replace("\r\n", "\n").split("\n\n"):
        lines = [line.strip() for line in chunk.strip().splitlines() if line.strip()]
        if not lines:
            continue
        if all(line.startswith("- ") for line in lines):
            blocks.append({"kind": "list", "items": [line[2:].strip() for line in lines]})
        else:
            blocks.append({"kind": "paragraph", "text": " ".join(lines)})
    return blocks


@register.filter
def tone(value):
    """A stable background tone (0–5) for a product card, so a grid of one category isn't uniform."""
    try:
        return int(value) % 6
    except (TypeError, ValueError):
        return 0


@register.filter
def attribute_name(key):
    """"fill power" -> "Fill power"; keys in the catalog are plain words."""
    text = str(key).replace("_", " ").strip()
    return text[:1].upper() + text[1:]
