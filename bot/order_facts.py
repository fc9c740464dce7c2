"""Facts of orders as the assistant says and shows them: order and return cards, tracking,
refund and invoice texts, and reading a new delivery address typed in the chat."""

from __future__ import annotations

import re
from datetime import date, datetime
from decimal import Decimal

from django.conf import settings
from django.utils import formats, timezone
from django.utils.translation import ngettext

from catalog.models import Order
from catalog.money import money_amount, money_format


# --- Rendering facts -------------------------------------------------------------------------


def _date(value) -> str:
    """A date for shoppers ("3 May 2026") from a date, datetime or ISO string."""
    if not value:
        return ""
    if isinstance(value, str):
        value = datetime.fromisoformat(value) if "T" in value else date.fromisoformat(value)
    if isinstance(value, datetime):
        value = timezone.localtime(value).date() if timezone.is_aware(value) else value.date()
    return formats.date_format(value, "j M Y")


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


def line_list(items: list[dict]) -> str:
    return "; ".join(
        f"{i['quantity']} × {i['name']}" + (f" ({i['variant_label']})" if i.get("variant_label") else "") for i in items
    )


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
    offer = {"rma_number": "", "status": "offer", "status_display": "Not started yet", "refund_amount": money_amount(refund), "currency": order.currency}
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
    head = f"Order {s['number']} (placed {_date(s['placed_at'])}, {items_text(s)}) is {s['status_display'].lower()}."
    status = s["status"]
    if status in ("pending",):
        return head + " We're waiting for the payment to be confirmed."
    if status in ("paid", "processing"):
        eta = f" Expected delivery: {_date(s['estimated_delivery'])}." if s.get("estimated_delivery") else ""
        return head + " It hasn't shipped yet." + eta
    if status == "shipped":
        parts = [head, f"It shipped on {_date(s['shipped_at'])}"]
        if s.get("carrier"):
            parts[-1] += f" with {s['carrier']}"
        parts[-1] += "."
        if s.get("tracking_number"):
            parts.append(f"Tracking number: {s['tracking_number']}.")
        if s.get("estimated_delivery"):
            parts.append(f"Expected delivery: {_date(s['estimated_delivery'])}.")
        return " ".join(parts)
    if status in ("delivered", "partially_returned", "returned"):
        return head + (f" It was delivered on {_date(s['delivered_at'])}." if s.get("delivered_at") else "")
    if status == "cancelled":
        return head
    return head


def refund_text(item: dict) -> str:
    text = f"Return {item['rma_number']}: {item['status_display'].lower()}"
    if item["status"] == "refunded":
        text += f" — {money_format(item['refund_amount'], item['currency'])} was refunded"
        if item.get("refunded_at"):
            text += f" on {_date(item['refunded_at'])}"
        text += " to your original payment method."
    elif item["status"] == "rejected":
        text += "."
    else:
        text += f" — {money_format(item['refund_amount'], item['currency'])} will be refunded once the items are checked."
    return text


def invoice_text(s: dict) -> str:
    lines = "; ".join(
        f"{i['qty']} × {i['name']}" + (f" ({i['variant_label']})" if i.get("variant_label") else "")
        + f" at {money_format(i['unit_price'], s['currency'])}"
        for i in s["items"]
    )
    text = f"Invoice summary for order {s['number']}: {lines}."
    if s.get("shipping_price") is not None:
        text += f" Shipping {money_format(s['shipping_price'], s['currency'])}."
    text += f" Total {money_format(s['total'], s['currency'])}."
    days = max(1, settings.INVOICE_LINK_MAX_AGE_SECONDS // 86400)
    return text + (
        " Open the full invoice with “Open invoice” on the order card (you can print it there); "
        + ngettext("the link works for %(days)d day.", "the link works for %(days)d days.", days) % {"days": days}
    )


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


