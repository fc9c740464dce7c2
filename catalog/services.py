"""Writes: every change to an order, a return or a customer goes through here.

Each service is the outermost ``transaction.atomic``: it locks the row it changes, checks the
shop's rule (worked out in ``catalog.selectors``), changes the rows, records an OrderEvent
with the ``actor`` ("shopper", "assistant", "agent:<username>", "staff:<username>", "system")
and queues its side effects (e-mails) to run only after the commit. A broken rule raises a
``catalog.errors.ShopError`` whose message the shopper can read; nothing is written then.

Services return the fresh, locked instance they changed: the instance a caller passed in may
be stale afterwards.
"""

from __future__ import annotations

import re
import secrets
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.db.models import F, Sum
from django.utils import timezone, translation
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from . import selectors
from .errors import (
    AddressChangeNotAllowed,
    InvalidAddress,
    InvalidEmail,
    InvalidOrderTransition,
    InvalidReturnQuantity,
    InvalidReturnTransition,
    OrderNotCancellable,
    ReturnNotAllowed,
    ShopError,
)
from .models import Customer, Order, OrderEvent, OrderLine, ReturnLine, ReturnRequest, ShippingMethod, ShopPolicy, Variant
from .mail_limits import mail_limit_take
from .money import list_format, money_amount, money_format, money_quantize
from .tasks import send_account_email, send_newsletter_email, send_order_email

ACTOR_MAX_LENGTH = OrderEvent._meta.get_field("actor").max_length
EVENT_MESSAGE_MAX_LENGTH = OrderEvent._meta.get_field("message").max_length


# --- Helpers ---------------------------------------------------------------------------------


def _actor(actor: str) -> str:
    if not isinstance(actor, str) or not actor.strip():
        raise ValueError("actor must name who made the change, e.g. 'shopper' or 'staff:alice'")
    return actor.strip()[:ACTOR_MAX_LENGTH]


def _event(
    *, order: Order, type: str, actor: str, message: str = "", data: dict | None = None, return_request=None
) -> OrderEvent:
    return OrderEvent.objects.create(
        order=order,
        return_request=return_request,
        type=type,
        actor=actor,
        message=message[:EVENT_MESSAGE_MAX_LENGTH],
        data=data or {},
    )


# What each kind of order event records in its ``data``: the services and the demo seed both build
# it with ``order_event_data``, so what the e-mails read ("cancellation_fee", "was_paid") is there.
# Notes are free-form.
ORDER_EVENT_DATA_KEYS = {
    OrderEvent.Type.PLACED: ("subtotal", "total", "payment_method"),
    OrderEvent.Type.PAID: ("payment_method",),
    OrderEvent.Type.PROCESSING: (),
    OrderEvent.Type.SHIPPED: ("carrier", "tracking_number", "estimated_delivery"),
    OrderEvent.Type.DELIVERED: ("delivered_at",),
    OrderEvent.Type.CANCELLED: ("previous_status", "reason", "was_paid", "cancellation_fee", "refund_due", "stock_released"),
    OrderEvent.Type.ADDRESS_CHANGED: ("old", "new"),
    OrderEvent.Type.RETURN_REQUESTED: ("rma_number", "reason", "refund_amount", "lines"),
    OrderEvent.Type.RETURN_APPROVED: (),
    OrderEvent.Type.RETURN_RECEIVED: (),
    OrderEvent.Type.RETURN_REFUNDED: ("refund_amount", "requested_amount", "order_status", "previous_order_status"),
    OrderEvent.Type.RETURN_REJECTED: ("reason",),
}


def order_event_data(type: str, **values) -> dict:
    """The ``data`` of an order event of ``type``; a missing or unknown key is a ValueError."""
    expected = set(ORDER_EVENT_DATA_KEYS[type])
    if set(values) != expected:
        raise ValueError(f"a {type} event records {sorted(expected)}, not {sorted(values)}")
    return values


def order_cancelled_data(*, order: Order, previous_status: str, reason: str, fee: Decimal, stock_released: list) -> dict:
    """What a cancellation records: the fee kept and the refund due (a pending order was never paid)."""
    was_paid = previous_status != Order.Status.PENDING
    return order_event_data(
        OrderEvent.Type.CANCELLED,
        previous_status=previous_status,
        reason=reason,
        was_paid=was_paid,
        cancellation_fee=money_amount(fee),
        refund_due=money_amount(order.total - fee) if was_paid else "0.00",
        stock_released=stock_released,
    )


def _lock_order(order: Order) -> Order:
    """Re-read the order under a row lock: the caller's copy may be stale, and two requests
    (a shopper in the chat and an agent in the admin) must not both act on the same state.
    On SQLite the settings' IMMEDIATE transactions give the same guarantee."""
    return Order.objects.select_for_update().get(pk=order.pk)


def _lock_return(return_request: ReturnRequest) -> tuple[Order, ReturnRequest]:
    # Always order first, then return: the same lock order everywhere means no deadlocks.
    order = Order.objects.select_for_update().get(pk=return_request.order_id)
    locked = ReturnRequest.objects.select_for_update().get(pk=return_request.pk)
    return order, locked


# --- Orders: cancel ---------------------------------------------------------------------------


def _release_stock(order: Order) -> list[dict]:
    """Put the order's quantities back on the shelf; returns what was released.

    Done inside the cancelling transaction rather than in a Celery task: the stock comes back
    if and only if the cancellation commits, exactly once (the order row lock makes a second
    cancel see the cancelled status), with no "did it run yet" bookkeeping and no window in
    which a cancelled order's items look sold out. ``F()`` makes the database add to the
    current value, so a concurrent sale of the same variant is never overwritten.
    """
    released = []
    lines = order.lines.filter(variant__isnull=False).order_by("variant_id")  # stable lock order
    for line in lines:
        Variant.objects.filter(pk=line.variant_id).update(stock=F("stock") + line.quantity)
        released.append({"sku": line.sku, "variant_id": line.variant_id, "quantity": line.quantity})
    return released


@transaction.atomic
def order_cancel(*, order: Order, actor: str, reason: str = "") -> Order:
    """Cancel an order that has not gone too far (the policy's cancellation window)."""
    actor = _actor(actor)
    order = _lock_order(order)
    policy = ShopPolicy.current()
    refusal = selectors.order_cancellation_refusal(order=order, policy=policy)
    if refusal:
        raise OrderNotCancellable(refusal)

    previous_status = order.status
    was_paid = previous_status != Order.Status.PENDING
    fee = min(policy.cancellation_fee, order.total) if was_paid else Decimal("0.00")
    released = _release_stock(order)
    order.status = Order.Status.CANCELLED
    order.cancelled_at = timezone.now()
    order.save(update_fields=["status", "cancelled_at"])
    reason = (reason or "").strip()
    event = _event(
        order=order,
        type=OrderEvent.Type.CANCELLED,
        actor=actor,
        message=reason or "Order cancelled",
        data=order_cancelled_data(order=order, previous_status=previous_status, reason=reason, fee=fee, stock_released=released),
    )
    send_order_email.delay_on_commit(order.pk, "cancelled", event_id=event.pk, language=translation.get_language())
    return order


# --- Orders: shipping address -------------------------------------------------------------------

# Shopper-facing key -> (model field, what to call it in a message, max length, required).
ADDRESS_FIELDS = {
    "name": ("ship_name", gettext_lazy("the recipient's name"), 150, True),
    "line1": ("ship_line1", gettext_lazy("the street and house number"), 200, True),
    "line2": ("ship_line2", gettext_lazy("the second address line"), 200, False),
    "city": ("ship_city", gettext_lazy("the city"), 100, True),
    "postcode": ("ship_postcode", gettext_lazy("the postcode"), 20, True),
    "country": ("ship_country", gettext_lazy("the country"), 2, True),
}
_POSTCODE = re.compile(r"^[A-Z0-9][A-Z0-9 \-]{1,11}$", re.IGNORECASE)
_COUNTRY = re.compile(r"^[A-Z]{2}$")


def address_clean(*, address: dict, shipping_method: ShippingMethod | None = None) -> dict:
    """A complete, tidy shipping address as model field values, or InvalidAddress saying why.

    Keys: name, line1, line2 (optional), city, postcode, country (ISO 3166 alpha-2); the model's
    own names (ship_name, …) are accepted too. The country must be one that ``shipping_method``
    delivers to; without a method, one that some active shipping method delivers to.
    """
    if not isinstance(address, dict):
        raise InvalidAddress()
    by_field = {field: key for key, (field, *_rest) in ADDRESS_FIELDS.items()}
    values: dict[str, str] = {}
    for key, raw in address.items():
        short = by_field.get(key, key)
        if short not in ADDRESS_FIELDS:
            raise ValueError(f"unknown address field {key!r}; expected {', '.join(ADDRESS_FIELDS)}")
        if raw is None:
            raw = ""
        if not isinstance(raw, str):
            raw = str(raw)
        values[short] = " ".join(raw.split())  # no line breaks or runs of spaces in one field

    missing = [label for key, (_f, label, _n, required) in ADDRESS_FIELDS.items() if required and not values.get(key)]
    if missing:
        raise InvalidAddress(
            _("The new address is missing %(fields)s. Please give the complete address.") % {"fields": list_format(missing)},
            data={"missing": [k for k, (_f, _l, _n, req) in ADDRESS_FIELDS.items() if req and not values.get(k)]},
        )
    for key, (_field, label, max_length, _required) in ADDRESS_FIELDS.items():
        if key != "country" and len(values.get(key, "")) > max_length:
            raise InvalidAddress(
                _("%(field)s is too long (at most %(max_length)d characters).") % {"field": capfirst(label), "max_length": max_length}
            )

    values["postcode"] = values["postcode"].upper()
    if not _POSTCODE.match(values["postcode"]):
        raise InvalidAddress(_("“%(postcode)s” does not look like a postcode. Please check it.") % {"postcode": values["postcode"]})
    country = values["country"].upper()
    if not _COUNTRY.match(country):
        raise InvalidAddress(_("Please give the country as its two-letter code, for example DE for Germany or FR for France."))
    values["country"] = country

    if shipping_method is not None:
        if not selectors.shipping_method_serves(method=shipping_method, country=country):
            served = ", ".join(str(c).upper() for c in shipping_method.countries)
            raise InvalidAddress(
                _("%(method)s does not deliver to %(country)s; it delivers to %(served)s. Please give an address in one of those countries.")
                % {"method": shipping_method.name, "country": country, "served": served},
                data={"country": country, "served": served},
            )
    elif not selectors.shipping_options(country=country):
        raise InvalidAddress(_("Sorry, we do not deliver to %(country)s yet.") % {"country": country}, data={"country": country})

    return {ADDRESS_FIELDS[key][0]: values.get(key, "") for key in ADDRESS_FIELDS}


@transaction.atomic
def order_change_shipping_address(*, order: Order, address: dict, actor: str) -> Order:
    """Send the order to another address, while the policy still allows it (before shipment)."""
    actor = _actor(actor)
    order = _lock_order(order)
    refusal = selectors.order_address_change_refusal(order=order)
    if refusal:
        raise AddressChangeNotAllowed(refusal)
    new = address_clean(address=address, shipping_method=order.shipping_method)
    old = {field: getattr(order, field) for field in new}
    if new == old:
        return order  # nothing changes, so nothing to record or confirm
    for field, value in new.items():
        setattr(order, field, value)
    order.save(update_fields=list(new))
    event = _event(
        order=order,
        type=OrderEvent.Type.ADDRESS_CHANGED,
        actor=actor,
        message=f"Shipping address changed to {order.shipping_address}",
        data=order_event_data(OrderEvent.Type.ADDRESS_CHANGED, old=old, new=new),
    )
    send_order_email.delay_on_commit(order.pk, "address_changed", event_id=event.pk, language=translation.get_language())
    return order


# --- Orders: staff workflow -----------------------------------------------------------------------


def _require_status(order: Order, allowed: tuple[str, ...], step: str) -> None:
    if order.status not in allowed:
        allowed_display = list_format([str(Order.Status(s).label).lower() for s in allowed])
        raise InvalidOrderTransition(
            _("Order %(number)s is %(status)s; it can only be %(step)s when it is %(allowed)s.")
            % {"number": order.number, "status": order.get_status_display().lower(), "step": _STEP_WORDS[step], "allowed": allowed_display},
            data={"status": order.status, "allowed": list(allowed)},
        )


@transaction.atomic
def order_mark_paid(*, order: Order, actor: str, payment_method: str = "") -> Order:
    actor = _actor(actor)
    order = _lock_order(order)
    _require_status(order, (Order.Status.PENDING,), "marked as paid")
    order.status = Order.Status.PAID
    order.paid_at = timezone.now()
    fields = ["status", "paid_at"]
    if payment_method:
        order.payment_method = payment_method.strip()[:40]
        fields.append("payment_method")
    order.save(update_fields=fields)
    _event(order=order, type=OrderEvent.Type.PAID, actor=actor, message="Payment received", data=order_event_data(OrderEvent.Type.PAID, payment_method=order.payment_method))
    return order


@transaction.atomic
def order_mark_processing(*, order: Order, actor: str) -> Order:
    """The warehouse has started on the order (which may end the cancellation window)."""
    actor = _actor(actor)
    order = _lock_order(order)
    _require_status(order, (Order.Status.PAID,), "sent to the warehouse")
    order.status = Order.Status.PROCESSING
    order.save(update_fields=["status"])
    _event(order=order, type=OrderEvent.Type.PROCESSING, actor=actor, message="Warehouse started processing")
    return order


def _as_date(value, name: str) -> date | None:
    if value in (None, ""):
        return None
    if isinstance(value, datetime):
        return timezone.localdate(value) if timezone.is_aware(value) else value.date()
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value).strip())
    except ValueError:
        raise ShopError(_("The %(name)s must be a date like 2025-03-14.") % {"name": name}, code="invalid_date") from None


@transaction.atomic
def order_mark_shipped(
    *, order: Order, actor: str, carrier: str = "", tracking_number: str = "", estimated_delivery=None
) -> Order:
    """Hand the order to the carrier. Carrier defaults to the shipping method's; the estimated
    delivery to today plus the method's longest delivery time."""
    actor = _actor(actor)
    order = _lock_order(order)
    _require_status(order, (Order.Status.PAID, Order.Status.PROCESSING), "shipped")
    method = order.shipping_method
    carrier = (carrier or "").strip() or (method.carrier if method else "")
    if not carrier:
        raise ShopError(_("Please name the carrier the parcel was handed to."), code="carrier_required")
    tracking_number = (tracking_number or "").strip()
    if len(carrier) > 60 or len(tracking_number) > 60:
        raise ShopError(_("The carrier and the tracking number can be at most 60 characters long."), code="too_long")
    eta = _as_date(estimated_delivery, _("estimated delivery"))
    today = timezone.localdate()
    if eta is None and method is not None:
        eta = today + timedelta(days=method.max_days)
    if eta is not None and eta < today:
        raise ShopError(_("The estimated delivery date cannot be in the past."), code="invalid_date")

    order.status = Order.Status.SHIPPED
    order.shipped_at = timezone.now()
    order.carrier = carrier
    order.tracking_number = tracking_number
    order.estimated_delivery = eta
    order.save(update_fields=["status", "shipped_at", "carrier", "tracking_number", "estimated_delivery"])
    event = _event(
        order=order,
        type=OrderEvent.Type.SHIPPED,
        actor=actor,
        message=f"Shipped with {carrier}" + (f", tracking {tracking_number}" if tracking_number else ""),
        data=order_event_data(
            OrderEvent.Type.SHIPPED, carrier=carrier, tracking_number=tracking_number, estimated_delivery=eta.isoformat() if eta else None
        ),
    )
    send_order_email.delay_on_commit(order.pk, "shipped", event_id=event.pk)
    return order


@transaction.atomic
def order_mark_delivered(*, order: Order, actor: str, delivered_at: datetime | None = None) -> Order:
    """The parcel has arrived; the return window starts now (or at ``delivered_at``)."""
    actor = _actor(actor)
    order = _lock_order(order)
    _require_status(order, (Order.Status.SHIPPED,), "marked as delivered")
    now = timezone.now()
    delivered_at = delivered_at or now
    if delivered_at > now or (order.shipped_at and delivered_at < order.shipped_at):
        raise ShopError(_("The delivery time must lie between shipment and now."), code="invalid_date")
    order.status = Order.Status.DELIVERED
    order.delivered_at = delivered_at
    order.save(update_fields=["status", "delivered_at"])
    _event(order=order, type=OrderEvent.Type.DELIVERED, actor=actor, message="Delivered", data=order_event_data(OrderEvent.Type.DELIVERED, delivered_at=delivered_at.isoformat()))
    return order


# Fields staff may correct on an existing order in the admin; status and money only move
# through the workflow services above.
STAFF_EDITABLE_ORDER_FIELDS = (
    "email",
    "customer",
    "payment_method",
    "ship_name",
    "ship_line1",
    "ship_line2",
    "ship_city",
    "ship_postcode",
    "ship_country",
    "carrier",
    "tracking_number",
    "estimated_delivery",
)


def _plain(value):
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    if hasattr(value, "pk"):
        return value.pk
    return value


@transaction.atomic
def order_update_details(*, order: Order, changes: dict, actor: str) -> Order:
    """Staff corrections (a typo in the address, a tracking number), recorded in the audit log.

    Staff may correct the address at any status (a carrier redirect, a typo found at the
    door), so only its completeness is checked here, not the shopper's time limit.
    """
    actor = _actor(actor)
    unknown = set(changes) - set(STAFF_EDITABLE_ORDER_FIELDS)
    if unknown:
        raise ValueError(f"these order fields cannot be edited: {', '.join(sorted(unknown))}")
    order = _lock_order(order)
    changed = {field: value for field, value in changes.items() if getattr(order, field) != value}
    if not changed:
        return order
    if any(field.startswith("ship_") for field in changed):
        address = {f: changed.get(f, getattr(order, f)) for f in ("ship_name", "ship_line1", "ship_line2", "ship_city", "ship_postcode", "ship_country")}
        cleaned = address_clean(address=address, shipping_method=order.shipping_method)
        changed.update({f: v for f, v in cleaned.items() if f in changed})
    if "email" in changed:
        try:
            validate_email(changed["email"])
        except ValidationError:
            raise InvalidEmail() from None
    old = {field: _plain(getattr(order, field)) for field in changed}
    for field, value in changed.items():
        setattr(order, field, value)
    order.save(update_fields=list(changed))
    _event(
        order=order,
        type=OrderEvent.Type.NOTE,
        actor=actor,
        message="Edited: " + ", ".join(Order._meta.get_field(f).verbose_name for f in changed),
        data={"old": old, "new": {field: _plain(value) for field, value in changed.items()}},
    )
    return order


@transaction.atomic
def order_created_by_staff(*, order: Order, actor: str) -> Order:
    """Finish an order that staff entered in the admin (e.g. taken by phone): totals from its
    lines and the shipping price, and the "placed" entry in its log."""
    actor = _actor(actor)
    order = _lock_order(order)
    order.subtotal = sum((line.line_total for line in order.lines.all()), Decimal("0.00"))
    order.total = order.subtotal + order.shipping_price
    order.save(update_fields=["subtotal", "total"])
    _event(
        order=order,
        type=OrderEvent.Type.PLACED,
        actor=actor,
        message="Order entered in the admin",
        data=order_event_data(
            OrderEvent.Type.PLACED, subtotal=money_amount(order.subtotal), total=money_amount(order.total), payment_method=order.payment_method
        ),
    )
    return order


@transaction.atomic
def order_note_add(*, order: Order, actor: str, message: str) -> OrderEvent:
    """A note in the order's log (e.g. "order created in the admin", an agent's remark)."""
    actor = _actor(actor)
    message = (message or "").strip()
    if not message:
        raise ValueError("a note needs a message")
    return _event(order=order, type=OrderEvent.Type.NOTE, actor=actor, message=message, data={"text": message} if len(message) > EVENT_MESSAGE_MAX_LENGTH else None)


# --- Returns ----------------------------------------------------------------------------------

RMA_PREFIX = "RMA-"
COMMENT_MAX_LENGTH = 2000


def _random_rma_digits() -> str:
    return f"{secrets.randbelow(10**6):06d}"


def _return_request_insert(**fields) -> ReturnRequest:
    """Create the return under a new, unique RMA number (random, so it reveals no volumes)."""
    for _attempt in range(20):
        number = RMA_PREFIX + _random_rma_digits()
        if ReturnRequest.objects.filter(rma_number=number).exists():
            continue
        try:
            with transaction.atomic():  # a savepoint: a racing insert of the same number is retried
                return ReturnRequest.objects.create(rma_number=number, **fields)
        except IntegrityError:
            continue
    raise RuntimeError("could not find a free RMA number after 20 tries")


def _return_reason(reason: str, comment: str) -> tuple[str, str]:
    """A reason code; free text that is not one of the codes becomes part of the comment."""
    text = " ".join(str(reason or "").split())
    comment = (comment or "").strip()
    if text in ReturnRequest.Reason.values:
        return text, comment
    lowered = text.lower()
    for value, label in ReturnRequest.Reason.choices:
        if lowered in (value.replace("_", " "), str(label).lower()):
            return value, comment
    if text:
        comment = f"{text}\n\n{comment}".strip()
    return ReturnRequest.Reason.OTHER, comment


def _as_quantity(value) -> int:
    if isinstance(value, bool):
        raise InvalidReturnQuantity(_("Please give the number of items to return as a whole number."))
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    raise InvalidReturnQuantity(_("Please give the number of items to return as a whole number."))


@transaction.atomic
def return_request_create(
    *,
    order: Order,
    lines: list[tuple[OrderLine, int]] | None,
    reason: str,
    comment: str = "",
    actor: str,
) -> ReturnRequest:
    """Start a return (RMA) for eligible lines; ``lines=None`` returns everything still returnable."""
    actor = _actor(actor)
    order = _lock_order(order)  # two returns for the same order are decided one after the other
    eligibility = selectors.return_eligibility(order=order)
    by_line = {item.line.pk: item for item in eligibility}

    wanted: dict[int, int] = {}
    if lines is None:
        wanted = {item.line.pk: item.returnable_quantity for item in eligibility if item.returnable_quantity > 0}
        if not wanted:
            reasons = list(dict.fromkeys(item.reason for item in eligibility if item.reason))
            raise ReturnNotAllowed(" ".join(reasons) if reasons else _("Order %(number)s has nothing that can be returned.") % {"number": order.number})
    else:
        if not lines:
            raise InvalidReturnQuantity(_("Please choose at least one item to return."))
        for entry in lines:
            try:
                line, quantity = entry
            except (TypeError, ValueError):
                raise ValueError("lines must be (order line, quantity) pairs") from None
            line_id = line.pk if isinstance(line, OrderLine) else line
            if line_id not in by_line:
                raise InvalidReturnQuantity(_("That item is not part of order %(number)s.") % {"number": order.number})
            quantity = _as_quantity(quantity)
            if quantity < 1:
                raise InvalidReturnQuantity(_("Please choose at least one of each item you want to return."))
            wanted[line_id] = wanted.get(line_id, 0) + quantity
        for line_id, quantity in wanted.items():
            item = by_line[line_id]
            if item.returnable_quantity == 0:
                raise ReturnNotAllowed(item.reason)
            if quantity > item.returnable_quantity:
                values = {"count": item.returnable_quantity, "product": item.line.product_name, "already": item.already_returned}
                raise InvalidReturnQuantity(
                    _("You can return at most %(count)d × %(product)s (%(already)d already in a return).") % values
                    if item.already_returned
                    else _("You can return at most %(count)d × %(product)s.") % values,
                    data={"line_id": line_id, "returnable_quantity": item.returnable_quantity},
                )

    reason_code, comment = _return_reason(reason, comment)
    if len(comment) > COMMENT_MAX_LENGTH:
        raise ShopError(_("Please keep the comment under %(count)d characters.") % {"count": COMMENT_MAX_LENGTH}, code="comment_too_long")
    refund_amount = sum((by_line[line_id].line.unit_price * qty for line_id, qty in wanted.items()), Decimal("0.00"))
    return_request = _return_request_insert(order=order, reason=reason_code, comment=comment, refund_amount=refund_amount)
    ReturnLine.objects.bulk_create(
        [ReturnLine(return_request=return_request, order_line_id=line_id, quantity=qty) for line_id, qty in sorted(wanted.items())]
    )
    event = _event(
        order=order,
        return_request=return_request,
        type=OrderEvent.Type.RETURN_REQUESTED,
        actor=actor,
        message=f"Return {return_request.rma_number} requested ({return_request.get_reason_display()})",
        data=order_event_data(
            OrderEvent.Type.RETURN_REQUESTED,
            rma_number=return_request.rma_number,
            reason=reason_code,
            refund_amount=money_amount(refund_amount),
            lines=[{"order_line_id": line_id, "sku": by_line[line_id].line.sku, "quantity": qty} for line_id, qty in sorted(wanted.items())],
        ),
    )
    send_order_email.delay_on_commit(
        order.pk, "return_created", return_request_id=return_request.pk, event_id=event.pk, language=translation.get_language()
    )
    return return_request


# step -> (statuses it may start from, status it leads to)
RETURN_TRANSITIONS = {
    "approve": ((ReturnRequest.Status.REQUESTED,), ReturnRequest.Status.APPROVED),
    "receive": ((ReturnRequest.Status.APPROVED,), ReturnRequest.Status.RECEIVED),
    "refund": ((ReturnRequest.Status.RECEIVED,), ReturnRequest.Status.REFUNDED),
    "reject": ((ReturnRequest.Status.REQUESTED, ReturnRequest.Status.APPROVED), ReturnRequest.Status.REJECTED),
}
# What a step makes of an order or a return, for the messages that refuse it.
_STEP_WORDS = {
    "approve": gettext_lazy("approved"),
    "receive": gettext_lazy("marked as received"),
    "refund": gettext_lazy("refunded"),
    "reject": gettext_lazy("rejected"),
    "shipped": gettext_lazy("shipped"),
    "marked as delivered": gettext_lazy("marked as delivered"),
    "marked as paid": gettext_lazy("marked as paid"),
    "sent to the warehouse": gettext_lazy("sent to the warehouse"),
}


def _return_transition(return_request: ReturnRequest, step: str) -> str:
    allowed, target = RETURN_TRANSITIONS[step]
    if return_request.status not in allowed:
        allowed_display = list_format([str(ReturnRequest.Status(s).label).lower() for s in allowed])
        raise InvalidReturnTransition(
            _("Return %(rma)s is %(status)s; it can only be %(step)s when it is %(allowed)s.")
            % {"rma": return_request.rma_number, "status": return_request.get_status_display().lower(), "step": _STEP_WORDS[step], "allowed": allowed_display},
            data={"status": return_request.status, "step": step},
        )
    return target


@transaction.atomic
def return_request_approve(*, return_request: ReturnRequest, actor: str) -> ReturnRequest:
    actor = _actor(actor)
    order, return_request = _lock_return(return_request)
    return_request.status = _return_transition(return_request, "approve")
    return_request.approved_at = timezone.now()
    return_request.save(update_fields=["status", "approved_at"])
    _event(order=order, return_request=return_request, type=OrderEvent.Type.RETURN_APPROVED, actor=actor, message=f"Return {return_request.rma_number} approved")
    return return_request


@transaction.atomic
def return_request_receive(*, return_request: ReturnRequest, actor: str) -> ReturnRequest:
    """The parcel has reached the warehouse. Restocking is left to staff: returned goods are
    checked first and may not be sellable."""
    actor = _actor(actor)
    order, return_request = _lock_return(return_request)
    return_request.status = _return_transition(return_request, "receive")
    return_request.received_at = timezone.now()
    return_request.save(update_fields=["status", "received_at"])
    _event(order=order, return_request=return_request, type=OrderEvent.Type.RETURN_RECEIVED, actor=actor, message=f"Return {return_request.rma_number} received")
    return return_request


def _order_status_after_refund(order: Order) -> str:
    refunded = dict(
        ReturnLine.objects.filter(order_line__order=order, return_request__status=ReturnRequest.Status.REFUNDED)
        .values("order_line")
        .annotate(total=Sum("quantity"))
        .values_list("order_line", "total")
    )
    everything_back = all(refunded.get(line.pk, 0) >= line.quantity for line in order.lines.all())
    return Order.Status.RETURNED if everything_back else Order.Status.PARTIALLY_RETURNED


@transaction.atomic
def return_request_refund(*, return_request: ReturnRequest, actor: str, amount=None) -> ReturnRequest:
    """Refund a received return: its full ``refund_amount``, or less (``amount``) when staff
    keep part of it back, e.g. for a damaged item. The order becomes returned once every item
    of it has been refunded, otherwise partially returned."""
    actor = _actor(actor)
    order, return_request = _lock_return(return_request)
    target = _return_transition(return_request, "refund")
    requested_amount = return_request.refund_amount
    if amount is not None:
        try:
            amount = money_quantize(amount)
        except (InvalidOperation, ValueError):
            raise ShopError(_("The refund amount must be a number like 19.90."), code="invalid_amount") from None
        if amount <= 0 or amount > requested_amount:
            raise ShopError(
                _("The refund must be more than 0 and at most %(amount)s.") % {"amount": money_format(requested_amount, order.currency)},
                code="invalid_amount",
            )
        return_request.refund_amount = amount
    return_request.status = target
    return_request.refunded_at = timezone.now()
    return_request.save(update_fields=["status", "refunded_at", "refund_amount"])

    previous_order_status = order.status
    if order.status in (Order.Status.DELIVERED, Order.Status.PARTIALLY_RETURNED, Order.Status.RETURNED):
        order.status = _order_status_after_refund(order)
        if order.status != previous_order_status:
            order.save(update_fields=["status"])
    event = _event(
        order=order,
        return_request=return_request,
        type=OrderEvent.Type.RETURN_REFUNDED,
        actor=actor,
        message=f"Refunded {money_amount(return_request.refund_amount)} {order.currency} for {return_request.rma_number}",
        data=order_event_data(
            OrderEvent.Type.RETURN_REFUNDED,
            refund_amount=money_amount(return_request.refund_amount),
            requested_amount=money_amount(requested_amount),
            order_status=order.status,
            previous_order_status=previous_order_status,
        ),
    )
    send_order_email.delay_on_commit(order.pk, "refund_issued", return_request_id=return_request.pk, event_id=event.pk)
    return return_request


@transaction.atomic
def return_request_reject(*, return_request: ReturnRequest, actor: str, reason: str = "") -> ReturnRequest:
    """Turn a return down; its items become returnable again while the window is open."""
    actor = _actor(actor)
    order, return_request = _lock_return(return_request)
    return_request.status = _return_transition(return_request, "reject")
    return_request.rejected_reason = " ".join((reason or "").split())[:300]
    return_request.save(update_fields=["status", "rejected_reason"])
    event = _event(
        order=order,
        return_request=return_request,
        type=OrderEvent.Type.RETURN_REJECTED,
        actor=actor,
        message=f"Return {return_request.rma_number} rejected" + (f": {return_request.rejected_reason}" if return_request.rejected_reason else ""),
        data=order_event_data(OrderEvent.Type.RETURN_REJECTED, reason=return_request.rejected_reason),
    )
    send_order_email.delay_on_commit(order.pk, "return_rejected", return_request_id=return_request.pk, event_id=event.pk)
    return return_request


# --- Customers and the newsletter ---------------------------------------------------------------


def _clean_email(email: str) -> str:
    if not isinstance(email, str):
        raise InvalidEmail()
    email = email.strip().lower()
    try:
        validate_email(email)
    except ValidationError:
        raise InvalidEmail() from None
    return email


@transaction.atomic
def customer_get_or_create(*, email: str, name: str = "") -> Customer:
    """The customer with this e-mail (case-insensitive), created on first use. A name fills
    in a missing one but never overwrites the one the customer gave before."""
    email = _clean_email(email)
    name = " ".join((name or "").split())[:150]
    customer, created = Customer.objects.get_or_create(email=email, defaults={"name": name})
    if not created and name and not customer.name:
        customer.name = name
        customer.save(update_fields=["name"])
    return customer


def newsletter_confirmation_request(*, email: str, conversation_id=None, client_address: str | None = None) -> bool:
    """Double opt-in, step one: mail ``email`` a signed link to confirm; nothing is subscribed yet.

    Returns False, and sends nothing, when the mail limits are reached (``catalog.mail_limits``).
    Whether the address is already subscribed is not revealed: it gets the same mail.
    """
    email = _clean_email(email)
    if not mail_limit_take(kind="newsletter", address=email, conversation_id=conversation_id, client_address=client_address):
        return False
    send_newsletter_email.delay_on_commit(email, "confirm", language=translation.get_language())
    return True


def newsletter_unsubscribe_link_request(*, email: str, conversation_id=None, client_address: str | None = None) -> bool:
    """Mail ``email`` (an address the shopper proved) a signed unsubscribe link, within the mail limits."""
    email = _clean_email(email)
    if not mail_limit_take(kind="newsletter", address=email, conversation_id=conversation_id, client_address=client_address):
        return False
    send_newsletter_email.delay_on_commit(email, "unsubscribe_link", language=translation.get_language())
    return True


@transaction.atomic
def newsletter_subscribe(*, email: str) -> Customer:
    """Subscribe ``email``: only for an address that confirmed through its signed link."""
    customer = customer_get_or_create(email=email)
    if not customer.newsletter:
        customer.newsletter = True
        customer.save(update_fields=["newsletter"])
    return customer


@transaction.atomic
def newsletter_unsubscribe(*, email: str) -> Customer | None:
    """Unsubscribe ``email`` (from its signed link or by staff), never from a typed address.
    Unsubscribing never creates a customer record for an address we do not know."""
    email = _clean_email(email)
    customer = Customer.objects.filter(email=email).first()
    if customer is not None and customer.newsletter:
        customer.newsletter = False
        customer.save(update_fields=["newsletter"])
    return customer


# --- Shopper accounts ---------------------------------------------------------------------------


@transaction.atomic
def account_sign_up(*, email: str, password: str, client_address: str | None = None):
    """A shopper account named by its e-mail address, and the mail with the link that confirms it.

    The account sees no orders until that link is opened (customer_link_account): anyone can
    sign up with someone else's address. ``password`` has passed the password validators.
    """
    from django.contrib.auth import get_user_model

    email = _clean_email(email)
    User = get_user_model()
    if User.objects.filter(username__iexact=email).exists() or User.objects.filter(email__iexact=email).exists():
        raise ShopError(
            _("There is already an account with this e-mail address. Sign in, or reset the password if you forgot it."),
            code="account_exists",
        )
    user = User.objects.create_user(username=email, email=email, password=password)
    account_verification_request(user=user, client_address=client_address)
    return user


def account_verification_request(*, user, client_address: str | None = None) -> bool:
    """Mail the account's address its confirmation link, within the mail limits (False: not sent)."""
    if not mail_limit_take(kind="account_verify", address=user.email, client_address=client_address):
        return False
    send_account_email.delay_on_commit(user.pk, "verify", language=translation.get_language())
    return True


@transaction.atomic
def customer_link_account(*, user, email: str) -> Customer:
    """Link the customer record of a confirmed address, and its guest orders, to the account.

    Only for an address its owner confirmed (the signed link of catalog.accounts): from then on
    ``selectors.orders_for_user`` shows the orders placed with it.
    """
    email = _clean_email(email)
    if (user.email or "").strip().lower() != email:
        raise ShopError(_("This link was made for another e-mail address. Please sign up again."), code="account_email_changed")
    customer = Customer.objects.select_for_update().get(pk=customer_get_or_create(email=email).pk)
    if customer.user_id not in (None, user.pk):
        raise ShopError(
            _("This e-mail address is already confirmed for another account. Please contact our support team."),
            code="account_email_taken",
        )
    Customer.objects.filter(user=user).exclude(pk=customer.pk).update(user=None)  # one customer per account
    if customer.user_id != user.pk:
        customer.user = user
        customer.save(update_fields=["user"])
    Order.objects.filter(email__iexact=email, customer__isnull=True).update(customer=customer)
    return customer
