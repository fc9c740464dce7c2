"""Facts of orders as the assistant says and shows them: order and return cards, tracking,
refund and invoice texts, and reading a new delivery address typed in the chat."""

from __future__ import annotations

import re
from datetime import date, datetime
from decimal import Decimal

from django.conf import settings
from django.utils import formats, timezone
from django.utils.translation import gettext, ngettext, pgettext

from catalog.models import Order
from catalog.money import money_amount, money_format

from .text import sentences_join


# --- Rendering facts -------------------------------------------------------------------------


def _date(value) -> str:
    """A date for shoppers ("3 May 2026", "2026年5月3日") from a date, datetime or ISO string, in
    the active language's own way of writing it (a translatable date format)."""
    if not value:
        return ""
    if isinstance(value, str):
        value = datetime.fromisoformat(value) if "T" in value else date.fromisoformat(value)
    if isinstance(value, datetime):
        value = timezone.localtime(value).date() if timezone.is_aware(value) else value.date()
    return formats.date_format(value, pgettext("date format for shoppers (Django date format)", "j M Y"))


def items_text(summary: dict) -> str:
    count = sum(i["qty"] for i in summary["items"])
    return ngettext("%(count)d item", "%(count)d items", count) % {"count": count}


def order_card(summary: dict, *, invoice_url: str | None = None) -> dict:
    card = {
        "kind": "order",
        "number": summary["number"],
        "status": summary["status"],
        "status_display": summary["status_display"],
        "items": [
            {"name": i["name"], "variant_label": i.get("variant_label", ""), "quantity": i["qty"]}
            for i in summary["items"]
        ],
        "total": str(summary["total"]),
        "currency": summary["currency"],
        "total_text": money_format(summary["total"], summary["currency"]),
        "carrier": summary.get("carrier") or None,
        "tracking_number": summary.get("tracking_number") or None,
        "estimated_delivery": _date(summary.get("estimated_delivery")) or None,
    }
    if invoice_url:
        card["invoice_url"] = invoice_url
    return card


def _line(quantity, name: str, variant: str = "") -> str:
    """One order line: "2 × Linen Shirt (Blue / M)"."""
    if variant:
        return pgettext("order line", "%(quantity)s × %(name)s (%(variant)s)") % {"quantity": quantity, "name": name, "variant": variant}
    return pgettext("order line", "%(quantity)s × %(name)s") % {"quantity": quantity, "name": name}


def _lines_join(lines) -> str:
    return pgettext("between order lines", "; ").join(lines)


def line_list(items: list[dict]) -> str:
    return _lines_join(_line(i["quantity"], i["name"], i.get("variant_label") or "") for i in items)


def return_offer_card(order: Order, eligibility: list) -> dict:
    """What a return would take back and refund, and each item it can't take with the reason:
    the card's items and refund are exactly those of the offer's sentence."""
    items, kept = [], []
    for e in eligibility:
        line = {"name": e.line.product_name, "variant_label": e.line.variant_label}
        if e.returnable_quantity > 0:
            items.append({**line, "quantity": e.returnable_quantity})
        elif e.reason and e.line.quantity > e.already_returned:  # what's already in a return isn't "kept"
            kept.append({**line, "quantity": e.line.quantity - e.already_returned, "reason": e.reason})
    refund = sum((e.line.unit_price * e.returnable_quantity for e in eligibility), Decimal("0.00"))
    offer = {"rma_number": "", "status": "offer", "status_display": gettext("Not started yet"), "refund_amount": money_amount(refund), "currency": order.currency}
    return {**return_card(offer), "order_number": order.number, "items": items, "not_returnable": kept}


def return_card(item: dict) -> dict:
    """A return as a chat card, from its catalog.selectors.return_summary."""
    return {
        "kind": "return",
        "rma_number": item["rma_number"],
        "status": item["status"],
        "status_display": item["status_display"],
        "refund_amount": item["refund_amount"],
        "currency": item["currency"],
        "refund_text": money_format(item["refund_amount"], item["currency"]),
    }


def tracking_text(s: dict) -> str:
    values = {
        "number": s["number"],
        "placed": _date(s["placed_at"]),
        "items": items_text(s),
        "status": s["status_display"].lower(),
        "shipped": _date(s.get("shipped_at")),
        "carrier": s.get("carrier") or "",
        "tracking": s.get("tracking_number") or "",
        "eta": _date(s.get("estimated_delivery")),
        "delivered": _date(s.get("delivered_at")),
    }
    sentences = [gettext("Order %(number)s (placed %(placed)s, %(items)s) is %(status)s.")]
    status = s["status"]
    if status in ("pending",):
        sentences.append(gettext("We're waiting for the payment to be confirmed."))
    elif status in ("paid", "processing"):
        sentences.append(gettext("It hasn't shipped yet."))
        if values["eta"]:
            sentences.append(gettext("Expected delivery: %(eta)s."))
    elif status == "shipped":
        sentences.append(gettext("It shipped on %(shipped)s with %(carrier)s.") if values["carrier"] else gettext("It shipped on %(shipped)s."))
        if values["tracking"]:
            sentences.append(gettext("Tracking number: %(tracking)s."))
        if values["eta"]:
            sentences.append(gettext("Expected delivery: %(eta)s."))
    elif status in ("delivered", "partially_returned", "returned") and values["delivered"]:
        sentences.append(gettext("It was delivered on %(delivered)s."))
    return sentences_join(t % values for t in sentences)


def refund_text(item: dict) -> str:
    values = {
        "rma": item["rma_number"],
        "status": item["status_display"].lower(),
        "amount": money_format(item["refund_amount"], item["currency"]),
        "date": _date(item.get("refunded_at")),
    }
    if item["status"] == "refunded":
        if values["date"]:
            text = gettext("Return %(rma)s: %(status)s — %(amount)s was refunded on %(date)s to your original payment method.")
        else:
            text = gettext("Return %(rma)s: %(status)s — %(amount)s was refunded to your original payment method.")
    elif item["status"] == "rejected":
        text = gettext("Return %(rma)s: %(status)s.")
    else:
        text = gettext("Return %(rma)s: %(status)s — %(amount)s will be refunded once the items are checked.")
    return text % values


def invoice_text(s: dict) -> str:
    currency = s["currency"]
    lines = _lines_join(
        pgettext("invoice line", "%(line)s at %(price)s")
        % {"line": _line(i["qty"], i["name"], i.get("variant_label") or ""), "price": money_format(i["unit_price"], currency)}
        for i in s["items"]
    )
    days = max(1, settings.INVOICE_LINK_MAX_AGE_SECONDS // 86400)
    sentences = [gettext("Invoice summary for order %(number)s: %(lines)s.") % {"number": s["number"], "lines": lines}]
    if s.get("shipping_price") is not None:
        sentences.append(gettext("Shipping %(amount)s.") % {"amount": money_format(s["shipping_price"], currency)})
    sentences.append(gettext("Total %(amount)s.") % {"amount": money_format(s["total"], currency)})
    sentences.append(
        ngettext(
            "Open the full invoice with “%(button)s” on the order card (you can print it there); the link works for %(days)d day.",
            "Open the full invoice with “%(button)s” on the order card (you can print it there); the link works for %(days)d days.",
            days,
        ) % {"button": gettext("Open invoice"), "days": days}
    )
    return sentences_join(sentences)


# --- Addresses ---------------------------------------------------------------------------------

_POSTCODE_CITY = re.compile(r"^\s*(?P<postcode>[A-Z]{0,2}-?\d{3,5}(?:\s?[A-Z]{2})?)\s+(?P<city>.+?)\s*$", re.I)
_CITY_POSTCODE = re.compile(r"^\s*(?P<city>[^\d]+?)\s+(?P<postcode>[A-Z]{1,2}\d[A-Z\d]?\s?\d[A-Z]{2}|\d{3,6})\s*$", re.I)


# One line without commas: "Gartenweg 12 10115 Berlin" (street and number, postcode, city).
_STREET_POSTCODE_CITY = re.compile(r"^(?P<street>.*?\d+\s?[a-z]?)\s+(?P<postcode>\d{4,5})\s+(?P<city>[^\d]+?)\s*$", re.I)


def _country_of(part: str) -> str:
    """The country a short part names ("Germany", "DE"), else ""."""
    from .slm.entities import extract_entities

    if len(part.split()) > 3:
        return ""
    return next((e.value for e in extract_entities(part) if e.type == "country"), "")


def parse_address(text: str, *, name: str = "", country: str = "") -> dict | None:
    """Read a new address: "Sam Lee, Gartenweg 12, 10115 Berlin, Germany", the same on lines, or
    shorter ("Gartenweg 12, 10115 Berlin", "Gartenweg 12 10115 Berlin"); a name or country left
    out is ``name`` / ``country`` (the order's own). None when it can't."""
    parts = [p.strip() for p in re.split(r"[,\n;]+", text) if p.strip()]
    if len(parts) > 1 and _country_of(parts[-1]):
        country = _country_of(parts.pop())
    if not parts:
        return None
    match = _POSTCODE_CITY.match(parts[-1]) or _CITY_POSTCODE.match(parts[-1])
    if match:
        parts.pop()
    else:
        match = _STREET_POSTCODE_CITY.match(parts[-1])
        if not match:
            return None
        parts[-1] = match.group("street").strip()
    city = match.group("city").strip()
    words = city.split()
    if len(words) > 1 and _country_of(words[-1]):  # "… 10115 Berlin Germany"
        country, city = _country_of(words[-1]), " ".join(words[:-1])
    if parts and not re.search(r"\d", parts[0]) and len(parts) > 1:
        name = parts.pop(0)
    if not parts or not any(re.search(r"\d", p) for p in parts) or not (name and country and city):
        return None
    return {
        "name": name,
        "line1": parts[0],
        "line2": ", ".join(parts[1:]),
        "postcode": match.group("postcode").strip(),
        "city": city,
        "country": country,
    }


