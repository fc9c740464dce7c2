import hmac
import json
from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from catalog import selectors, services
from catalog.models import Order, ShopPolicy
from tests.catalog.conftest import make_order
from tests.factories import (
    CategoryFactory,
    CustomerFactory,
    OrderFactory,
    ProductFactory,
    ShippingMethodFactory,
    UserFactory,
    VariantFactory,
)

# --- normalise_order_number ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw",
    ["10234", "#10234", "NW-10234", "nw10234", "order 10 234", "Order #10234", "Order no. 10234", "order number: 10234", " 10-234 ", "#NW-10234"],
)
def test_normalise_order_number_accepts_the_ways_shoppers_type_it(raw):
    assert selectors.normalise_order_number(raw) == "10234"


@pytest.mark.parametrize("raw", ["", "   ", "abc", "10234abc", "order", "#", "12", "1" * 21, "10234; drop table", None, 10234, "x" * 100])
def test_normalise_order_number_rejects_what_is_not_an_order_number(raw):
    assert selectors.normalise_order_number(raw) is None


# --- order_get_verified ---------------------------------------------------------------------------


@pytest.fixture
def order(db):
    return OrderFactory(number="10234", email="Shopper@Example.com")


def test_verified_lookup_with_the_right_pair_returns_the_order(order):
    assert selectors.order_get_verified(number="10234", email="Shopper@Example.com") == order


@pytest.mark.parametrize("email", ["shopper@example.com", "SHOPPER@EXAMPLE.COM", "  shopper@example.com\n"])
def test_verified_lookup_ignores_case_and_surrounding_whitespace_of_the_email(order, email):
    assert selectors.order_get_verified(number="#10234", email=email) == order


@pytest.mark.parametrize(
    "number, email",
    [
        ("10234", "other@example.com"),  # wrong e-mail
        ("10235", "shopper@example.com"),  # wrong number
        ("99999", "other@example.com"),  # both wrong
        ("10234", ""),
        ("10234", "shopper@example.co"),
        ("10234", "shopper@example.com.evil"),
        ("", "shopper@example.com"),
        ("not a number", "shopper@example.com"),
        (None, None),
    ],
)
def test_verified_lookup_with_any_wrong_part_returns_none(order, number, email):
    assert selectors.order_get_verified(number=number, email=email) is None


def test_another_orders_email_does_not_verify(order):
    OrderFactory(number="10235", email="someone@example.com")
    assert selectors.order_get_verified(number="10234", email="someone@example.com") is None


@pytest.mark.parametrize(
    "number, email", [("10234", "wrong@example.com"), ("99999", "shopper@example.com"), ("garbage", "shopper@example.com")]
)
def test_verified_lookup_does_the_same_work_whether_or_not_the_order_exists(
    order, number, email, django_assert_num_queries, monkeypatch
):
    comparisons = []
    real = hmac.compare_digest

    def counting(a, b):
        comparisons.append((len(a), len(b)))
        return real(a, b)

    monkeypatch.setattr(selectors.hmac, "compare_digest", counting)
    with django_assert_num_queries(1):
        assert selectors.order_get_verified(number=number, email=email) is None
    # Exactly one constant-time comparison of equal-length digests, found order or not.
    assert comparisons == [(32, 32)]


# --- orders_for_user -------------------------------------------------------------------------------


def test_orders_for_user_finds_orders_by_customer_link_only_never_by_unverified_email(db):
    user = UserFactory(email="Owner@Example.com")
    linked = OrderFactory(customer=CustomerFactory(user=user, email="old-address@example.com"))
    # Same address as the account, but no link: an account's e-mail is not verified.
    OrderFactory(customer=None, email="owner@example.com")
    assert set(selectors.orders_for_user(user=user)) == {linked}


def test_orders_for_user_is_empty_for_anonymous_users_and_users_without_email(db):
    from django.contrib.auth.models import AnonymousUser

    OrderFactory(customer=None, email="")
    assert list(selectors.orders_for_user(user=AnonymousUser())) == []
    assert list(selectors.orders_for_user(user=None)) == []
    assert list(selectors.orders_for_user(user=UserFactory(email=""))) == []


# --- return_eligibility ------------------------------------------------------------------------------


def test_eligibility_of_a_fresh_delivery_is_every_item(delivered_order):
    result = selectors.return_eligibility(order=delivered_order)
    assert [(e.line.sku, e.returnable_quantity, e.reason) for e in result] == [("SHIRT-BLUE-M", 2, None), ("SHIRT-BLUE-L", 1, None)]


def test_eligibility_subtracts_open_returns_but_not_rejected_ones(delivered_order):
    line_m = delivered_order.lines.get(sku="SHIRT-BLUE-M")
    kept = services.return_request_create(order=delivered_order, lines=[(line_m, 1)], reason="other", actor="s")
    rejected = services.return_request_create(order=delivered_order, lines=[(line_m, 1)], reason="other", actor="s")
    services.return_request_reject(return_request=rejected, actor="staff:alice")

    by_sku = {e.line.sku: e for e in selectors.return_eligibility(order=delivered_order)}
    assert (by_sku["SHIRT-BLUE-M"].returnable_quantity, by_sku["SHIRT-BLUE-M"].already_returned) == (1, 1)
    assert kept.lines.get().quantity == 1


def test_eligibility_window_boundary(delivered_order, policy):
    deadline = selectors.return_deadline(order=delivered_order, policy=policy)
    assert selectors.return_eligibility(order=delivered_order, at=deadline)[0].is_returnable
    after = selectors.return_eligibility(order=delivered_order, at=deadline + timedelta(seconds=1))
    assert not any(e.is_returnable for e in after)
    assert "return window" in after[0].reason


def test_eligibility_window_follows_the_policy(delivered_order, policy):
    policy.return_window_days = 1
    policy.save()
    # Delivered two days ago: a one-day window has closed.
    assert not selectors.return_eligibility(order=delivered_order)[0].is_returnable


def test_eligibility_falls_back_to_the_product_category_without_a_snapshot(delivered_order, shirts, policy):
    delivered_order.lines.update(category_slug="")
    policy.non_returnable_categories.add(shirts)
    assert all(e.reason and "not returnable" in e.reason for e in selectors.return_eligibility(order=delivered_order))


def test_eligibility_of_an_unshipped_order_suggests_cancelling(paid_order):
    [first, *_] = selectors.return_eligibility(order=paid_order)
    assert first.returnable_quantity == 0
    assert "You can cancel it instead" in first.reason


# --- Cancel / address rules shown in advance -------------------------------------------------------


def test_cancellable_statuses_follow_the_policy(db):
    policy = ShopPolicy.current()
    assert Order.Status.PROCESSING in selectors.cancellable_statuses(policy=policy)
    policy.cancellation_window = ShopPolicy.CancellationWindow.BEFORE_PROCESSING
    assert Order.Status.PROCESSING not in selectors.cancellable_statuses(policy=policy)
    assert Order.Status.PAID in selectors.cancellable_statuses(policy=policy)


# --- refund_status and order_summary ------------------------------------------------------------------


def test_refund_status_lists_each_return_with_its_amount_and_stage(delivered_order):
    line_l = delivered_order.lines.get(sku="SHIRT-BLUE-L")
    ret = services.return_request_create(order=delivered_order, lines=[(line_l, 1)], reason="too_small", actor="s")
    ret = services.return_request_approve(return_request=ret, actor="s")

    [status] = selectors.refund_status(order=delivered_order)
    assert status["rma_number"] == ret.rma_number
    assert (status["status"], status["status_display"]) == ("approved", "Approved")
    assert (status["refund_amount"], status["currency"]) == ("54.90", "EUR")
    assert status["approved_at"] and status["refunded_at"] is None
    assert status["lines"] == [{"name": "Linen shirt", "variant_label": "Blue / L", "sku": "SHIRT-BLUE-L", "qty": 1, "unit_price": "54.90"}]
    assert "approved" in status["explanation"]
    json.dumps(status)  # JSON-ready for the chat


def test_refund_status_of_an_order_without_returns_is_empty(delivered_order):
    assert selectors.refund_status(order=delivered_order) == []


def test_order_summary_has_what_the_chat_shows_after_verification(shirt, shipping_method):
    order = make_order(
        state="shipped",
        lines=[(shirt.variants.get(size="M"), 2)],
        number="30001",
        shipping_method=shipping_method,
        estimated_delivery=timezone.localdate() + timedelta(days=2),
    )
    summary = selectors.order_summary(order=order)
    json.dumps(summary)
    assert summary["number"] == "30001"
    assert (summary["status"], summary["status_display"]) == ("shipped", "Shipped")
    assert summary["items"] == [
        {"name": "Linen shirt", "variant_label": "Blue / M", "sku": "SHIRT-BLUE-M", "qty": 2, "unit_price": "49.90", "line_total": "99.80"}
    ]
    assert (summary["total"], summary["currency"]) == ("104.70", "EUR")
    assert (summary["shipping_method"], summary["carrier"], summary["tracking_number"]) == ("Standard delivery", "DHL", "JJD000390007")
    assert summary["estimated_delivery"] == order.estimated_delivery.isoformat()
    assert summary["shipping_address"]["city"] == "Berlin"
    assert summary["can_cancel"] is False and summary["can_change_address"] is False
    assert summary["return_deadline"] is None


# --- Shipping ---------------------------------------------------------------------------------------


def test_shipping_options_are_the_active_methods_for_a_country(db):
    ShippingMethodFactory(code="standard", countries=["DE", "AT"], price=Decimal("4.90"))
    ShippingMethodFactory(code="express", name="Express", countries=["DE"], price=Decimal("12.00"), min_days=1, max_days=1)
    ShippingMethodFactory(code="old", name="Retired", countries=["DE", "FR"], is_active=False)

    assert [o["code"] for o in selectors.shipping_options()] == ["standard", "express"]
    assert [o["code"] for o in selectors.shipping_options(country="at")] == ["standard"]
    assert selectors.shipping_options(country="FR") == []
    express = selectors.shipping_options(country="DE")[1]
    assert (express["price"], express["delivery_days"], express["countries"]) == ("12.00", "1", ["DE"])
    json.dumps(express)


# --- Products ---------------------------------------------------------------------------------------


@pytest.fixture
def catalog_rows(db):
    tops = CategoryFactory(name="Tops", slug="tops")
    tees = CategoryFactory(name="T-shirts", slug="tees", parent=tops)
    shoes = CategoryFactory(name="Shoes", slug="shoes")
    tee = ProductFactory(category=tees, name="Organic tee", slug="organic-tee", materials="100% organic cotton", price=Decimal("25.00"))
    VariantFactory(product=tee, colour="Red", size="M", stock=0)
    VariantFactory(product=tee, colour="Red", size="L", stock=3)
    VariantFactory(product=tee, colour="Blue", size="M", stock=5, price_override=Decimal("19.00"))
    boot = ProductFactory(category=shoes, name="Leather boot", slug="leather-boot", description="Waterproof leather boot", price=Decimal("140.00"))
    VariantFactory(product=boot, colour="Brown", size="42", stock=0)
    hidden = ProductFactory(category=shoes, name="Old boot", slug="old-boot", is_active=False)
    VariantFactory(product=hidden, colour="Brown", size="42", stock=9)
    return {"tee": tee, "boot": boot, "tops": tops}


def names(products):
    return [p.name for p in products]


def test_product_filter_matches_every_word_across_name_description_and_materials(catalog_rows):
    assert names(selectors.product_filter(query="organic cotton")) == ["Organic tee"]
    assert names(selectors.product_filter(query="waterproof BOOT")) == ["Leather boot"]
    assert names(selectors.product_filter(query="organic boot")) == []
    assert names(selectors.product_filter()) == ["Leather boot", "Organic tee"]  # inactive left out


def test_product_filter_by_category_includes_sub_categories(catalog_rows):
    assert names(selectors.product_filter(category=catalog_rows["tops"])) == ["Organic tee"]
    assert names(selectors.product_filter(category="tops")) == ["Organic tee"]
    assert names(selectors.product_filter(category="no-such-category")) == []


def test_product_filter_needs_one_variant_with_all_the_options(catalog_rows):
    assert names(selectors.product_filter(colour="red", size="m")) == ["Organic tee"]
    assert names(selectors.product_filter(colour="red", size="m", in_stock=True)) == []  # red M is sold out
    assert names(selectors.product_filter(colour="red", in_stock=True)) == ["Organic tee"]
    assert names(selectors.product_filter(in_stock=False)) == ["Leather boot"]


def test_product_filter_prices_use_the_variant_price_where_it_differs(catalog_rows):
    assert names(selectors.product_filter(max_price=20)) == ["Organic tee"]  # the blue tee costs 19
    assert names(selectors.product_filter(max_price="20", colour="red")) == []
    assert names(selectors.product_filter(min_price=100)) == ["Leather boot"]


def test_product_filter_prices_products_without_variants_by_the_product(db):
    ProductFactory(name="Gift card", slug="gift-card", price=Decimal("10.00"))
    assert names(selectors.product_filter(max_price=15)) == ["Gift card"]
    assert names(selectors.product_filter(min_price=15)) == []


def test_product_filter_limit_and_bad_input(catalog_rows):
    assert len(selectors.product_filter(limit=1)) == 1
    with pytest.raises(ValueError):
        selectors.product_filter(max_price="cheap")
    with pytest.raises(ValueError):
        selectors.product_filter(min_price=-1)
    with pytest.raises(ValueError):
        selectors.product_filter(limit="10")


def test_variant_stock_narrows_by_colour_and_size(catalog_rows):
    tee = catalog_rows["tee"]
    assert [(v.colour, v.size, v.stock) for v in selectors.variant_stock(product=tee, colour="RED")] == [("Red", "L", 3), ("Red", "M", 0)]
    assert [v.stock for v in selectors.variant_stock(product=tee, colour="blue", size="m")] == [5]
    assert len(selectors.variant_stock(product=tee)) == 3
