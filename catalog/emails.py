"""The plain-text e-mails the shop sends about an order: what happened and what comes next.

``order_email_message`` only composes (subject, body); ``catalog.tasks.send_order_email`` sends
it after the change has been committed.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.utils import formats
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from .models import Order, ReturnRequest, ShopPolicy
from .money import money_format

EMAIL_KINDS = ("cancelled", "address_changed", "return_created", "return_rejected", "refund_issued", "shipped", "verification_code")
# What a verification code confirms, in the shop's words (never the shopper's): whole sentences.
CODE_REQUESTS = {
    "cancel": gettext_lazy("Someone asked in our chat to cancel your order %(number)s. To confirm, type this code in the chat:"),
    "return": gettext_lazy("Someone asked in our chat to start a return for your order %(number)s. To confirm, type this code in the chat:"),
    "change_address": gettext_lazy(
        "Someone asked in our chat to change the delivery address of your order %(number)s. To confirm, type this code in the chat:"
    ),
}
CODE_REQUEST_OTHER = gettext_lazy("Someone asked in our chat to change your order %(number)s. To confirm, type this code in the chat:")


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
        subject = _("%(shop)s: order %(number)s has been cancelled") % {"shop": shop, "number": number}
        text = [_("Your order %(number)s has been cancelled, as requested.") % {"number": number}, "", _("Cancelled items:"), _items(order)]
        fee = data.get("cancellation_fee")
        if data.get("was_paid"):
            if fee and fee != "0.00":
                text += ["", _(
                    "A cancellation fee of %(fee)s applies; we will refund the rest of your payment to your original payment method within 5 working days."
                ) % {"fee": money_format(fee, order.currency)}]
            else:
                text += ["", _(
                    "We will refund your payment of %(amount)s to your original payment method within 5 working days."
                ) % {"amount": money_format(order.total, order.currency)}]
        else:
            text += ["", _("You have not been charged for this order.")]
    elif kind == "address_changed":
        subject = _("%(shop)s: new shipping address for order %(number)s") % {"shop": shop, "number": number}
        text = [
            _("The shipping address of your order %(number)s has been changed. We will deliver to:") % {"number": number},
            "",
            _address(order),
            "",
            _("If you did not ask for this change, please contact us straight away."),
        ]
    elif kind == "verification_code":
        # Only the shop's own words, the order number and the code: nothing the chat's writer
        # typed (not even a new address), so the code e-mail can't carry someone else's text.
        request = CODE_REQUESTS.get(data.get("action"), CODE_REQUEST_OTHER)
        code, minutes = str(data.get("code", "")), int(data.get("minutes", 10))
        if not (code.isdigit() and len(code) == 6):
            raise ValueError("the verification_code e-mail needs its 6-digit code")
        subject = _("%(shop)s: your code for order %(number)s") % {"shop": shop, "number": number}
        text = [
            str(request) % {"number": number},
            "",
            f"  {code}",
            "",
            ngettext(
                "It is valid for %(minutes)d minute. If it wasn't you, ignore this e-mail: nothing changes without the code.",
                "It is valid for %(minutes)d minutes. If it wasn't you, ignore this e-mail: nothing changes without the code.",
                minutes,
            ) % {"minutes": minutes},
        ]
    elif kind == "shipped":
        subject = _("%(shop)s: order %(number)s is on its way") % {"shop": shop, "number": number}
        text = [_("Good news: your order %(number)s has shipped.") % {"number": number}, "", _items(order), ""]
        if order.carrier:
            text.append(_("Carrier: %(carrier)s") % {"carrier": order.carrier})
        if order.tracking_number:
            text.append(_("Tracking number: %(tracking)s") % {"tracking": order.tracking_number})
        if order.estimated_delivery:
            day = formats.date_format(order.estimated_delivery, _("l, d F Y"))
            text.append(_("Expected delivery: %(day)s") % {"day": day})
        text += ["", _("Delivery address:"), _address(order)]
    elif kind == "return_created":
        rma = return_request.rma_number
        subject = _("%(shop)s: return %(rma)s for order %(number)s") % {"shop": shop, "rma": rma, "number": number}
        text = [
            _("We have received your return request %(rma)s for order %(number)s.") % {"rma": rma, "number": number},
            "",
            _("Items to return:"),
            _return_items(return_request),
            "",
            _("How to send them back:"),
            "  " + _("1. Pack the items securely, in their original packaging if you still have it."),
            "  " + _("2. Write the return number %(rma)s clearly on the parcel.") % {"rma": rma},
            "  " + _("3. Send it with the returns label that came with your order (reply to this e-mail if you need a new one)."),
            "",
            _(
                "Once the items reach us and are checked, we will refund %(amount)s to your original payment method."
            ) % {"amount": money_format(return_request.refund_amount, order.currency)},
        ]
    elif kind == "return_rejected":
        rma = return_request.rma_number
        subject = _("%(shop)s: return %(rma)s could not be accepted") % {"shop": shop, "rma": rma}
        text = [_("We are sorry: your return %(rma)s for order %(number)s could not be accepted.") % {"rma": rma, "number": number}]
        if return_request.rejected_reason:
            text += ["", _("Reason: %(reason)s") % {"reason": return_request.rejected_reason}]
        text += ["", _("If you think this is a mistake, just reply to this e-mail and we will look at it again.")]
    else:  # refund_issued
        rma = return_request.rma_number
        subject = _("%(shop)s: refund for return %(rma)s") % {"shop": shop, "rma": rma}
        text = [
            _("We have refunded %(amount)s for your return %(rma)s (order %(number)s).")
            % {"amount": money_format(return_request.refund_amount, order.currency), "rma": rma, "number": number},
            "",
            _("Refunded items:"),
            _return_items(return_request),
            "",
            _("The money goes back to your original payment method; depending on your bank it can take 3–5 working days to appear."),
        ]

    greeting = _("Hello %(name)s,") % {"name": order.ship_name} if order.ship_name else _("Hello,")
    footer = [
        "",
        _("Questions? Reply to this e-mail or write to %(email)s (%(hours)s).") % {"email": policy.support_email, "hours": policy.support_hours},
        "",
        f"— {shop}",
    ]
    body = "\n".join([greeting, "", *text, *footer]) + "\n"
    return OrderEmail(subject=subject, body=body, to=order.email)
