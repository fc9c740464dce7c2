"""Reads: everything the shop pages, the chat and the admin need to know about the shop.

Selectors never write (apart from ``ShopPolicy.current()``, which creates the policy row with its
defaults the first time it is asked for). Values meant for the chat (``order_summary``,
``refund_status``, ``shipping_options``) are JSON-ready: money as ``"12.50"`` strings with a
``currency`` beside them, dates and times as ISO 8601 strings.

The shop rules that the services enforce (may this order be cancelled, may its address change,
what may be returned) are worked out here, once, so that the chat can say in advance what the
services will later allow.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal, InvalidOperation

from django.db.models import Count, Exists, Max, OuterRef, Q, QuerySet, Sum
from django.db.models.functions import Coalesce
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from .models import Category, Customer, Order, OrderLine, Product, ReturnLine, ReturnRequest, ShippingMethod, ShopPolicy, Variant
from .models import CategoryTranslation, ProductTranslation
from .money import money_amount

# --- Order numbers and verification -----------------------------------------------------

# Order numbers are stored as digits only ("10234"). Shoppers type them in many ways:
# "#10234", "NW-10234", "order 10 234", "Order no. 10234", "order number: 10234".
_ORDER_NUMBER_PREFIX = re.compile(
    r"^(?:order|ord\.?)?\s*(?:number|num\.?|no\.?|nr\.?)?\s*[:#]?\s*(?:nw)?\s*[-#:]?\s*",
    re.IGNORECASE,
)
_ORDER_NUMBER_BODY = re.compile(r"\d[\d\s\-]*")
ORDER_NUMBER_MIN_DIGITS = 3
ORDER_NUMBER_MAX_DIGITS = 20


def normalise_order_number(raw: str) -> str | None:
    """The canonical order number in what a shopper typed, or None when it is not one."""
    if not isinstance(raw, str):
        return None
    text = raw.strip()
    if not text or len(text) > 60:
        return None
    body = _ORDER_NUMBER_PREFIX.sub("", text, count=1).strip()
    if not _ORDER_NUMBER_BODY.fullmatch(body):
        return None
    digits = re.sub(r"\D", "", body)
    if not ORDER_NUMBER_MIN_DIGITS <= len(digits) <= ORDER_NUMBER_MAX_DIGITS:
        return None
    return digits


# Compared against when no order has the number, so that a missing order costs the same work
# as a wrong e-mail address. ".invalid" can never be a real mailbox (RFC 2606).
_DUMMY_EMAIL = "nobody@order-not-found.invalid"


def _email_digest(value: str) -> bytes:
    # Hashing first gives compare_digest equal-length inputs, so not even the length of the
    # order's e-mail address leaks through timing.
    return hashlib.sha256(value.strip().lower().encode("utf-8")).digest()


def order_get_verified(*, number: str, email: str) -> Order | None:
    """The order, but only when the order number and the order's e-mail address both match.

    Callers must not tell the shopper which of the two was wrong; this function makes that
    impossible to find out from its result or its timing.
    """
    normalised = normalise_order_number(number) if isinstance(number, str) else None
    given = email if isinstance(email, str) else ""
    # The query runs even for a malformed number ("" matches nothing) to keep the work equal.
    order = Order.objects.filter(number=normalised or "").select_related("shipping_method", "customer").first()
    expected = order.email if order is not None else _DUMMY_EMAIL
    emails_match = hmac.compare_digest(_email_digest(expected), _email_digest(given))
    if order is None or not emails_match or not given.strip():
        return None
    return order


def orders_for_user(*, user) -> QuerySet[Order]:
    """The orders a logged-in shopper owns: through the customer record linked to their account.

    Not by the account's e-mail: Django does not verify it, and anyone could register with
    someone else's address.
    """
    if user is None or not getattr(user, "is_authenticated", False):
        return Order.objects.none()
    return Order.objects.filter(customer__user=user).select_related("shipping_method").order_by("-placed_at")


def proved_email(*, order_numbers=(), user=None) -> str | None:
    """An e-mail address the shopper proved is theirs, or None; never one merely typed in.

    Proof is an order verified in the chat (number and its e-mail: the first of
    ``order_numbers`` that exists) or a signed-in account's customer record (as in
    ``orders_for_user``, not the account's own, unverified e-mail field).
    """
    numbers = [str(n) for n in order_numbers if n]
    if numbers:
        emails = dict(Order.objects.filter(number__in=numbers).values_list("number", "email"))
        for number in numbers:
            if emails.get(number):
                return emails[number]
    if user is not None and getattr(user, "is_authenticated", False):
        return Customer.objects.filter(user=user).values_list("email", flat=True).first()
    return None


def newsletter_subscribed(*, email: str) -> bool:
    return Customer.objects.filter(email=email.strip().lower(), newsletter=True).exists()


# --- Rules on orders ---------------------------------------------------------------------


def _policy(policy: ShopPolicy | None) -> ShopPolicy:
    return policy if policy is not None else ShopPolicy.current()


def cancellable_statuses(*, policy: ShopPolicy | None = None) -> tuple[str, ...]:
    policy = _policy(policy)
    if policy.cancellation_window == ShopPolicy.CancellationWindow.BEFORE_PROCESSING:
        return (Order.Status.PENDING, Order.Status.PAID)
    return (Order.Status.PENDING, Order.Status.PAID, Order.Status.PROCESSING)


def order_cancellation_refusal(*, order: Order, policy: ShopPolicy | None = None) -> str | None:
    """Why the order cannot be cancelled (a sentence for the shopper), or None when it can."""
    policy = _policy(policy)
    number = order.number
    status = order.status
    if status in cancellable_statuses(policy=policy):
        return None
    if status == Order.Status.CANCELLED:
        return _("Order %(number)s has already been cancelled.") % {"number": number}
    values = {"number": number, "days": policy.return_window_days}
    if status == Order.Status.PROCESSING:
        return _(
            "Order %(number)s is already being prepared in our warehouse, so it can no longer be cancelled. "
            "Once it arrives you can return it within %(days)d days for a refund."
        ) % values
    if status == Order.Status.SHIPPED:
        return _(
            "Order %(number)s has already shipped, so it can no longer be cancelled. "
            "Once it arrives you can return it within %(days)d days for a refund."
        ) % values
    if status == Order.Status.DELIVERED:
        return _(
            "Order %(number)s has already been delivered, so it can no longer be cancelled. "
            "You can return it within %(days)d days of delivery instead."
        ) % values
    # Returned or partially returned.
    return _("Order %(number)s has already been delivered and returned, so it can no longer be cancelled.") % values


def address_changeable_statuses(*, policy: ShopPolicy | None = None) -> tuple[str, ...]:
    policy = _policy(policy)
    if policy.address_change_allowed_until_shipment:
        return (Order.Status.PENDING, Order.Status.PAID, Order.Status.PROCESSING)
    # The shop does not let the warehouse re-label parcels it has started to pack.
    return (Order.Status.PENDING, Order.Status.PAID)


def order_address_change_refusal(*, order: Order, policy: ShopPolicy | None = None) -> str | None:
    """Why the shipping address cannot be changed (for the shopper), or None when it can."""
    policy = _policy(policy)
    number = order.number
    if order.status in address_changeable_statuses(policy=policy):
        return None
    if order.status == Order.Status.CANCELLED:
        return _("Order %(number)s has been cancelled, so its address cannot be changed.") % {"number": number}
    if order.status == Order.Status.PROCESSING:
        return _(
            "Order %(number)s is already being packed, so its shipping address can no longer be changed. "
            "Once it has shipped you can ask the carrier to redirect the parcel."
        ) % {"number": number}
    if order.status == Order.Status.SHIPPED:
        return _(
            "Order %(number)s has already shipped, so its shipping address can no longer be changed. "
            "You can ask the carrier to redirect the parcel using the tracking number."
        ) % {"number": number}
    return _("Order %(number)s has already been delivered, so its shipping address can no longer be changed.") % {"number": number}


# --- Returns -------------------------------------------------------------------------------

RETURNABLE_ORDER_STATUSES = (Order.Status.DELIVERED, Order.Status.PARTIALLY_RETURNED)


@dataclass(frozen=True)
class LineEligibility:
    line: OrderLine
    returnable_quantity: int
    reason: str | None = None  # for the shopper, set when nothing of the line can be returned
    already_returned: int = 0  # quantity in returns that were not rejected

    @property
    def is_returnable(self) -> bool:
        return self.returnable_quantity > 0


def return_deadline(*, order: Order, policy: ShopPolicy | None = None) -> datetime | None:
    """The last moment a return can be started: the end of the Nth local day after delivery.

    Orders marked delivered without a delivery time count from shipment, then from placement:
    the earlier start gives the shorter, never a longer, window.
    """
    policy = _policy(policy)
    start = order.delivered_at or order.shipped_at or (order.placed_at if order.status in RETURNABLE_ORDER_STATUSES else None)
    if start is None:
        return None
    last_day = timezone.localdate(start) + timedelta(days=policy.return_window_days)
    return timezone.make_aware(datetime.combine(last_day, time.max))


def _format_date(value: date | datetime) -> str:
    """"3 December 2026", "2026年12月3日": the active language's DATE_FORMAT."""
    day = timezone.localdate(value) if isinstance(value, datetime) else value
    return formats.date_format(day, "DATE_FORMAT")


def _non_returnable_categories(policy: ShopPolicy) -> dict[str, str]:
    """slug -> name of every non-returnable category, sub-categories included."""
    blocked_ids = set(policy.non_returnable_categories.values_list("pk", flat=True))
    if not blocked_ids:
        return {}
    categories = list(Category.objects.values_list("pk", "parent_id", "slug", "name"))
    children: dict[int | None, list[int]] = {}
    for pk, parent_id, _slug, _name in categories:
        children.setdefault(parent_id, []).append(pk)
    by_id = {pk: (slug, name) for pk, _parent, slug, name in categories}
    # A sub-category inherits the rule; it is shown with its own name.
    pending, seen = list(blocked_ids), set()
    while pending:
        pk = pending.pop()
        if pk in seen:
            continue
        seen.add(pk)
        pending.extend(children.get(pk, []))
    return {by_id[pk][0]: by_id[pk][1] for pk in seen if pk in by_id}


def _line_category_slug(line: OrderLine) -> str:
    if line.category_slug:
        return line.category_slug
    if line.variant_id and line.variant is not None:
        return line.variant.product.category.slug
    return ""


def _order_return_refusal(order: Order, policy: ShopPolicy, at: datetime) -> str | None:
    number = order.number
    status = order.status
    if status == Order.Status.CANCELLED:
        return _("Order %(number)s was cancelled, so there is nothing to return.") % {"number": number}
    if status in Order.UNSHIPPED:
        if order_cancellation_refusal(order=order, policy=policy) is None:
            return _("Order %(number)s has not shipped yet, so it cannot be returned. You can cancel it instead.") % {"number": number}
        return _("Order %(number)s has not shipped yet, so it cannot be returned.") % {"number": number}
    if status == Order.Status.SHIPPED:
        return _("Order %(number)s is still on its way. You can start a return once it has been delivered.") % {"number": number}
    if status == Order.Status.RETURNED:
        return _("All items of order %(number)s have already been returned.") % {"number": number}
    deadline = return_deadline(order=order, policy=policy)
    if deadline is not None and at > deadline:
        return _(
            "The %(days)d-day return window for order %(number)s ended on %(day)s, so it can no longer be returned. "
            "If an item is faulty, please contact our support team."
        ) % {"days": policy.return_window_days, "number": number, "day": _format_date(deadline)}
    return None


def returned_quantities(*, order: Order) -> dict[int, int]:
    """order line id -> quantity already in returns that were not rejected."""
    rows = (
        ReturnLine.objects.filter(order_line__order=order)
        .exclude(return_request__status=ReturnRequest.Status.REJECTED)
        .values("order_line")
        .annotate(quantity_sum=Sum("quantity"))
        .values_list("order_line", "quantity_sum")
    )
    return {line_id: total or 0 for line_id, total in rows}


def return_eligibility(*, order: Order, at: datetime | None = None) -> list[LineEligibility]:
    """For each line of the order: how much of it may still be returned, and if nothing, why."""
    at = at or timezone.now()
    policy = ShopPolicy.current()
    lines = list(order.lines.select_related("variant__product__category").order_by("pk"))
    already = returned_quantities(order=order)
    order_refusal = _order_return_refusal(order, policy, at)
    blocked = _non_returnable_categories(policy) if order_refusal is None else {}

    results = []
    for line in lines:
        returned = min(already.get(line.pk, 0), line.quantity)
        remaining = line.quantity - returned
        slug = _line_category_slug(line)
        if order_refusal:
            reason = order_refusal
        elif slug in blocked:
            reason = _(
                "%(product)s cannot be returned: items from “%(category)s” are not returnable. "
                "If it is faulty, please contact our support team."
            ) % {"product": line.product_name, "category": blocked[slug]}
        elif remaining <= 0:
            reason = _("%(product)s is already part of a return.") % {"product": line.product_name}
        else:
            reason = None
        results.append(
            LineEligibility(
                line=line,
                returnable_quantity=remaining if reason is None else 0,
                reason=reason,
                already_returned=returned,
            )
        )
    return results


_RETURN_EXPLANATIONS = {
    ReturnRequest.Status.REQUESTED: gettext_lazy(
        "We have your return request and will confirm it shortly. You can already send the items back with the instructions we e-mailed you."
    ),
    ReturnRequest.Status.APPROVED: gettext_lazy(
        "Your return is approved. As soon as the parcel reaches our warehouse we will check it and refund you."
    ),
    ReturnRequest.Status.RECEIVED: gettext_lazy(
        "The returned items have arrived at our warehouse. Your refund will be issued within a few working days."
    ),
    ReturnRequest.Status.REFUNDED: gettext_lazy(
        "Your refund has been issued to your original payment method. Depending on your bank it can take 3–5 working days to appear."
    ),
    ReturnRequest.Status.REJECTED: gettext_lazy("This return was not accepted."),
}


def _iso(value: date | datetime | None) -> str | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return timezone.localtime(value).isoformat()
    return value.isoformat()


def refund_status(*, order: Order) -> list[dict]:
    """Every return of the order, newest first, with its refund and where it stands."""
    returns = (
        ReturnRequest.objects.filter(order=order)
        .prefetch_related("lines__order_line")
        .order_by("-created_at", "-pk")
    )
    return [return_summary(return_request=ret, order=order) for ret in returns]


def return_summary(*, return_request: ReturnRequest, order: Order | None = None) -> dict:
    """One return, its refund and where it stands (the chat's return card and refund texts)."""
    ret = return_request
    order = order if order is not None else ret.order
    explanation = str(_RETURN_EXPLANATIONS[ret.status])
    if ret.status == ReturnRequest.Status.REJECTED and ret.rejected_reason:
        explanation = _("This return was not accepted. Reason: %(reason)s") % {"reason": ret.rejected_reason}
    return {
        "rma_number": ret.rma_number,
        "status": ret.status,
        "status_display": ret.get_status_display(),
        "explanation": explanation,
        "reason": ret.reason,
        "reason_display": ret.get_reason_display(),
        "refund_amount": money_amount(ret.refund_amount),
        "currency": order.currency,
        "requested_at": _iso(ret.created_at),
        "approved_at": _iso(ret.approved_at),
        "received_at": _iso(ret.received_at),
        "refunded_at": _iso(ret.refunded_at),
        "rejected_reason": ret.rejected_reason,
        "lines": [
            {
                "name": rl.order_line.product_name,
                "variant_label": rl.order_line.variant_label,
                "sku": rl.order_line.sku,
                "qty": rl.quantity,
                "unit_price": money_amount(rl.order_line.unit_price),
            }
            for rl in ret.lines.all()
        ],
    }


def order_summary(*, order: Order, policy: ShopPolicy | None = None) -> dict:
    """What a verified shopper may see about their order (never call it before verification)."""
    policy = _policy(policy)
    method = order.shipping_method
    cancelled = order.status == Order.Status.CANCELLED
    return {
        "number": order.number,
        "status": order.status,
        "status_display": order.get_status_display(),
        "placed_at": _iso(order.placed_at),
        "items": [
            {
                "name": line.product_name,
                "variant_label": line.variant_label,
                "sku": line.sku,
                "qty": line.quantity,
                "unit_price": money_amount(line.unit_price),
                "line_total": money_amount(line.line_total),
            }
            # all(): a caller's prefetch_related("lines") is used instead of a second query.
            for line in sorted(order.lines.all(), key=lambda line: line.pk)
        ],
        "subtotal": money_amount(order.subtotal),
        "shipping_price": money_amount(order.shipping_price),
        "total": money_amount(order.total),
        "currency": order.currency,
        "payment_method": order.payment_method,
        "shipping_method": method.name if method else "",
        # What the parcel actually has, never the method's planned carrier; nothing once cancelled.
        "carrier": "" if cancelled else order.carrier,
        "tracking_number": "" if cancelled else order.tracking_number,
        "estimated_delivery": _iso(order.estimated_delivery),
        "shipped_at": _iso(order.shipped_at),
        "delivered_at": _iso(order.delivered_at),
        "cancelled_at": _iso(order.cancelled_at),
        "shipping_address": {
            "name": order.ship_name,
            "line1": order.ship_line1,
            "line2": order.ship_line2,
            "city": order.ship_city,
            "postcode": order.ship_postcode,
            "country": order.ship_country,
            "text": order.shipping_address,
        },
        "can_cancel": order_cancellation_refusal(order=order, policy=policy) is None,
        "can_change_address": order_address_change_refusal(order=order, policy=policy) is None,
        "return_deadline": _iso(return_deadline(order=order, policy=policy))
        if order.status in RETURNABLE_ORDER_STATUSES
        else None,
    }


# --- Shipping --------------------------------------------------------------------------------


def shipping_method_serves(*, method: ShippingMethod, country: str) -> bool:
    """An empty country list means the method ships everywhere."""
    countries = [str(c).strip().upper() for c in (method.countries or [])]
    return not countries or country.strip().upper() in countries


def shipping_options(*, country: str | None = None) -> list[dict]:
    """The active shipping methods, only those serving ``country`` when it is given."""
    code = country.strip().upper() if isinstance(country, str) and country.strip() else None
    options = []
    for method in ShippingMethod.objects.filter(is_active=True).order_by("price", "name"):
        if code and not shipping_method_serves(method=method, country=code):
            continue
        options.append(
            {
                "code": method.code,
                "name": method.name,
                "carrier": method.carrier,
                "countries": [str(c).upper() for c in (method.countries or [])],
                "price": money_amount(method.price),
                "free_over": money_amount(method.free_over),
                "currency": method.currency,
                "min_days": method.min_days,
                "max_days": method.max_days,
                "delivery_days": method.delivery_days,
            }
        )
    return options


# --- Products --------------------------------------------------------------------------------

PRODUCT_FILTER_MAX_LIMIT = 100


def _decimal_or_none(value, name: str) -> Decimal | None:
    if value is None or value == "":
        return None
    try:
        number = Decimal(str(value))
    except (InvalidOperation, ValueError):
        raise ValueError(f"{name} must be a number, not {value!r}") from None
    if not number.is_finite() or number < 0:
        raise ValueError(f"{name} must be a positive number, not {value!r}")
    return number


def _category_ids(category) -> list[int]:
    """The category (an instance, a slug or an id) and all its sub-categories."""
    if isinstance(category, Category):
        root = category.pk
    elif isinstance(category, int):
        root = category
    else:
        root = Category.objects.filter(slug=str(category).strip()).values_list("pk", flat=True).first()
        if root is None:
            return []
    parents = dict(Category.objects.values_list("pk", "parent_id"))
    ids, pending = set(), [root]
    while pending:
        pk = pending.pop()
        if pk in ids:
            continue
        ids.add(pk)
        pending.extend(child for child, parent in parents.items() if parent == pk)
    return list(ids)


def product_filter(
    *,
    query: str = "",
    category=None,
    colour: str | None = None,
    size: str | None = None,
    options=(),
    max_price=None,
    min_price=None,
    in_stock: bool | None = None,
    limit: int = 20,
) -> list[Product]:
    """Active products matching every word of ``query`` and every given option.

    A product matches colour, size, stock and price through one variant that has all of them
    (a red M in stock under 50, not a red S and a blue M). The price is the variant's own
    price where it overrides the product's. ``in_stock=False`` asks for sold-out products.
    A colour matches its synonyms and family ("grey": Charcoal), a size any way it is written.
    ``options``: other options as (name, value) pairs ([("Flavour", "Chocolate"), ("Weight", "1kg")]),
    a value written any way ("1kg" is "1 kg"), an empty name standing for any option.
    """
    if isinstance(limit, bool) or not isinstance(limit, int):
        raise ValueError(f"limit must be a whole number, not {limit!r}")
    limit = max(1, min(limit, PRODUCT_FILTER_MAX_LIMIT))
    low = _decimal_or_none(min_price, "min_price")
    high = _decimal_or_none(max_price, "max_price")

    products = Product.objects.filter(is_active=True)
    for word in (query or "").split():
        products = products.filter(
            Q(name__icontains=word)
            | Q(description__icontains=word)
            | Q(materials__icontains=word)
            | Q(category__name__icontains=word)
            # a translation's text matches too (a Japanese word finds the product)
            | Exists(ProductTranslation.objects.filter(
                Q(name__icontains=word) | Q(description__icontains=word) | Q(materials__icontains=word), product=OuterRef("pk")
            ))
            | Exists(CategoryTranslation.objects.filter(name__icontains=word, category=OuterRef("category")))
        )
    if category is not None and category != "":
        products = products.filter(category_id__in=_category_ids(category))

    variants = Variant.objects.filter(product=OuterRef("pk"))
    if colour:
        variants = variants.filter(colour__in=option_values("colour", colour.strip()))
    if size:
        variants = variants.filter(size__in=option_values("size", size.strip()))
    options = [(str(n or ""), str(v).strip()) for n, v in options or () if v and str(v).strip()]
    if options:
        variants = variants.filter(pk__in=variant_ids_with_options(options))
    if low is not None or high is not None:
        variants = variants.annotate(effective_price=Coalesce("price_override", "product__price"))
        if low is not None:
            variants = variants.filter(effective_price__gte=low)
        if high is not None:
            variants = variants.filter(effective_price__lte=high)

    if in_stock is True:
        products = products.filter(Exists(variants.filter(stock__gt=0)))
    elif in_stock is False:
        products = products.filter(Exists(variants)).exclude(Exists(variants.filter(stock__gt=0)))
    elif colour or size or options:
        products = products.filter(Exists(variants))
    elif low is not None or high is not None:
        # Products sold without variants are priced by the product itself.
        price_q = Q()
        if low is not None:
            price_q &= Q(price__gte=low)
        if high is not None:
            price_q &= Q(price__lte=high)
        has_no_variants = ~Exists(Variant.objects.filter(product=OuterRef("pk")))
        products = products.filter(Q(Exists(variants)) | (Q(has_no_variants) & price_q))

    return list(products.select_related("category").prefetch_related("variants").order_by("name")[:limit])


def option_values(field: str, asked: str) -> list[str]:
    """The catalog's distinct colours (or sizes) a shopper's word stands for: the same word, a
    synonym or a shade of the family ("grey": Charcoal, Slate ...); a size written any way."""
    from .options import colour_rank, size_matches

    def keep(value):
        return colour_rank(asked, value) is not None if field == "colour" else size_matches(asked, value)

    values = Variant.objects.exclude(**{field: ""}).values_list(field, flat=True).distinct()
    return [v for v in values if keep(v)]


def variant_ids_with_options(options) -> list[int]:
    """The active products' variants having every asked (name, value) option, written any way.
    JSON containment is not portable (SQLite has none), so the pairs are compared here."""
    from .options import has_options

    rows = Variant.objects.filter(product__is_active=True).values_list("pk", "options")
    return [pk for pk, variant_options in rows if has_options(variant_options, options)]


def _options_version():
    found = Product.objects.filter(is_active=True).aggregate(n=Count("pk"), last=Max("updated_at"))
    variants = Variant.objects.aggregate(n=Count("pk"), last=Max("pk"))
    return found["n"], found["last"], variants["n"], variants["last"]


_catalog_options_cache: dict = {"version": object(), "pairs": []}


def catalog_options() -> list[tuple[str, str]]:
    """The distinct (name, value) options of the active products' variants that a shopper may ask
    for by their value ("Flavour", "Chocolate"), in the catalog's own spelling: neither colour nor
    size, no "Title: Default Title", no generic value (catalog.options.telling_option).

    Kept per process and read again when the catalog changes (an import touches the products'
    ``updated_at``; a variant added or removed changes the variants' count)."""
    from .options import telling_option

    version = _options_version()
    if _catalog_options_cache["version"] != version:
        pairs = set()
        for variant_options in Variant.objects.filter(product__is_active=True).values_list("options", flat=True).distinct():
            for pair in variant_options or ():
                if isinstance(pair, (list, tuple)) and len(pair) == 2 and telling_option(pair[0], pair[1]):
                    pairs.add((str(pair[0]).strip(), str(pair[1]).strip()))
        _catalog_options_cache.update(version=version, pairs=sorted(pairs))
    return list(_catalog_options_cache["pairs"])


def variant_stock(*, product: Product, colour: str | None = None, size: str | None = None, options=()) -> list[Variant]:
    """The product's variants (with their stock), narrowed to a colour, size and/or other options when
    given: a size or option written any way ("30x40cm", "5kg"), a colour as written or else its family
    ("grey" finds Charcoal)."""
    from .options import pick_variants

    variants = Variant.objects.filter(product=product).select_related("product").order_by("colour", "size", "pk")
    return pick_variants(variants, colour=(colour or "").strip(), size=(size or "").strip(), options=options)


def account_email_confirmed(*, user) -> bool:
    """Whether a signed-in shopper confirmed their address, so that its orders are theirs to see."""
    if user is None or not getattr(user, "is_authenticated", False):
        return False
    return Customer.objects.filter(user=user).exists()
