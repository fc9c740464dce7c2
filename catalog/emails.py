"""The plain-text e-mails the shop sends about an order: what happened and what comes next.

``order_email_message`` only composes (subject, body); ``catalog.tasks.send_order_email`` sends
it after the change has been committed.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings

from .models import Order, ReturnRequest, ShopPolicy
from .money import money_format

EMAIL_KINDS = ("cancelled", "address_changed", "return_created", "return_rejected", "refund_issued", "shipped", "verification_code")
# What a verification code confirms, in the shop's words (never the shopper's).
CODE_PURPOSES = {"cancel": "cancel", "return": "start a return for", "change_address": "change the delivery address of"}


@dataclass(frozen=True)
class OrderEmail:
    subject: str
    body: str
    to: str


def _items(order: Order) -> str:
    return "\n".join(
        f"  - {line.quantity} × {line.product_name}" + (f" ({line.variant_label})" if line.variant_label else "")
        for line in order.lines.order_by("pk")
    )


def _return_items(return_request: ReturnRequest) -> str:
    return "\n".join(
        f"  - {rl.quantity} × {rl.order_line.product_name}"
        + (f" ({rl.order_line.variant_label})" if rl.order_line.variant_label else "")
        for rl in return_request.lines.select_related("order_line").order_by("pk")
    )


def _address(order: Order) -> str:
    lines = [order.ship_name, order.ship_line1, order.ship_line2, f"{order.ship_postcode} {order.ship_city}", order.ship_country]
    return "\n".join(f"  {line}" for line in lines if line and line.strip())


def order_email_message(
    *, order: Order, kind: str, return_request: ReturnRequest | None = None, data: dict | None = None
) -> OrderEmail:
    """Compose the e-mail of the given kind about ``order``; ``data`` holds the event's details."""
    if kind not in EMAIL_KINDS:
        raise ValueError(f"unknown order e-mail kind {kind!r}; expected one of {', '.join(EMAIL_KINDS)}")
    if kind in ("return_created", "return_rejected", "refund_issued") and return_request is None:
        raise ValueError(f"the {kind!r} e-mail needs its return request")
    data = data or {}
    shop = settings.SHOP_NAME
    policy = ShopPolicy.current()
    number = order.number

    if kind == "cancelled":
        subject = f"{shop}: order {number} has been cancelled"
        text = [f"Your order {number} has been cancelled, as requested.", "", "Cancelled items:", _items(order)]
        fee = data.get("cancellation_fee")
        if data.get("was_paid"):
            if fee and fee != "0.00":
                text += ["", f"A cancellation fee of {money_format(fee, order.currency)} applies; we will refund the rest of your payment to your original payment method within 5 working days."]
            else:
                text += ["", f"We will refund your payment of {money_format(order.total, order.currency)} to your original payment method within 5 working days."]
        else:
            text += ["", "You have not been charged for this order."]
    elif kind == "address_changed":
        subject = f"{shop}: new shipping address for order {number}"
        text = [f"The shipping address of your order {number} has been changed. We will deliver to:", "", _address(order), "", "If you did not ask for this change, please contact us straight away."]
    elif kind == "verification_code":
        # Only the shop's own words, the order number and the code: nothing the chat's writer
        # typed (not even a new address), so the code e-mail can't carry someone else's text.
        purpose = CODE_PURPOSES.get(data.get("action"), "change")
        code, minutes = str(data.get("code", "")), int(data.get("minutes", 10))
        if not (code.isdigit() and len(code) == 6):
            raise ValueError("the verification_code e-mail needs its 6-digit code")
        subject = f"{shop}: your code for order {number}"
        text = [
            f"Someone asked in our chat to {purpose} your order {number}. To confirm, type this code in the chat:",
            "",
            f"  {code}",
            "",
            f"It is valid for {minutes} minutes. If it wasn't you, ignore this e-mail: nothing changes without the code.",
        ]
    elif kind == "shipped":
        subject = f"{shop}: order {number} is on its way"
        text = [f"Good news: your order {number} has shipped.", "", _items(order), ""]
        if order.carrier:
            text.append(f"Carrier: {order.carrier}")
        if order.tracking_number:
            text.append(f"Tracking number: {order.tracking_number}")
        if order.estimated_delivery:
            text.append(f"Expected delivery: {order.estimated_delivery:%A, %d %B %Y}")
        text += ["", "Delivery address:", _address(order)]
    elif kind == "return_created":
        subject = f"{shop}: return {return_request.rma_number} for order {number}"
        text = [
            f"We have received your return request {return_request.rma_number} for order {number}.",
            "",
            "Items to return:",
            _return_items(return_request),
            "",
            "How to send them back:",
            "  1. Pack the items securely, in their original packaging if you still have it.",
            f"  2. Write the return number {return_request.rma_number} clearly on the parcel.",
            "  3. Send it with the returns label that came with your order (reply to this e-mail if you need a new one).",
            "",
            f"Once the items reach us and are checked, we will refund {money_format(return_request.refund_amount, order.currency)} to your original payment method.",
        ]
    elif kind == "return_rejected":
        subject = f"{shop}: return {return_request.rma_number} could not be accepted"
        text = [f"We are sorry: your return {return_request.rma_number} for order {number} could not be accepted."]
        if return_request.rejected_reason:
            text += ["", f"Reason: {return_request.rejected_reason}"]
        text += ["", "If you think this is a mistake, just reply to this e-mail and we will look at it again."]
    else:  # refund_issued
        subject = f"{shop}: refund for return {return_request.rma_number}"
        text = [
            f"We have refunded {money_format(return_request.refund_amount, order.currency)} for your return {return_request.rma_number} (order {number}).",
            "",
            "Refunded items:",
            _return_items(return_request),
            "",
            "The money goes back to your original payment method; depending on your bank it can take 3–5 working days to appear.",
        ]

    greeting = f"Hello {order.ship_name}," if order.ship_name else "Hello,"
    footer = [
        "",
        f"Questions? Reply to this e-mail or write to {policy.support_email} ({policy.support_hours}).",
        "",
        f"— {shop}",
    ]
    body = "\n".join([greeting, "", *text, *footer]) + "\n"
    return OrderEmail(subject=subject, body=body, to=order.email)
