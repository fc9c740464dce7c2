import re
import threading
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection, transaction
from django.utils import timezone

from catalog import services
from catalog.errors import (
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
from catalog.models import Customer, Order, OrderEvent, ReturnRequest, ShopPolicy, Variant
from tests.catalog.conftest import make_order
from tests.factories import CategoryFactory, ProductFactory, ReturnRequestFactory, VariantFactory

pytestmark = pytest.mark.django_db

NEW_ADDRESS = {"name": "Jo Example", "line1": "Ringstraße 1", "city": "Wien", "postcode": "1010", "country": "at"}


def stock(sku: str) -> int:
    return Variant.objects.get(sku=sku).stock


def events(order, type=None):
    qs = OrderEvent.objects.filter(order=order)
    return list(qs.filter(type=type) if type else qs)


# --- Cancel ------------------------------------------------------------------------------------


def test_cancel_paid_order_marks_it_cancelled_and_records_who_did_it(paid_order):
    order = services.order_cancel(order=paid_order, actor="shopper", reason="Ordered twice")

    order.refresh_from_db()
    assert order.status == Order.Status.CANCELLED
    assert order.cancelled_at is not None
    [event] = events(order, OrderEvent.Type.CANCELLED)
    assert event.actor == "shopper"
    assert event.message == "Ordered twice"
    assert event.data["previous_status"] == "paid"


def test_cancel_releases_stock_exactly_once(paid_order):
    assert (stock("SHIRT-BLUE-M"), stock("SHIRT-BLUE-L")) == (10, 4)

    services.order_cancel(order=paid_order, actor="shopper")
    assert (stock("SHIRT-BLUE-M"), stock("SHIRT-BLUE-L")) == (12, 5)

    with pytest.raises(OrderNotCancellable):
        services.order_cancel(order=paid_order, actor="shopper")
    assert (stock("SHIRT-BLUE-M"), stock("SHIRT-BLUE-L")) == (12, 5)
    assert len(events(paid_order, OrderEvent.Type.CANCELLED)) == 1


def test_cancel_with_a_stale_copy_of_the_order_is_refused(paid_order):
    # Two requests loaded the same paid order; the second must see the first one's cancel.
    first_copy = Order.objects.get(pk=paid_order.pk)
    second_copy = Order.objects.get(pk=paid_order.pk)
    services.order_cancel(order=first_copy, actor="shopper")
    assert second_copy.status == Order.Status.PAID  # stale in memory

    with pytest.raises(OrderNotCancellable) as excinfo:
        services.order_cancel(order=second_copy, actor="agent:bob")
    assert "already been cancelled" in excinfo.value.message
    assert stock("SHIRT-BLUE-M") == 12


def test_cancel_stock_release_adds_to_the_current_stock_not_a_stale_value(paid_order):
    # A sale of the same variant happened after the order was loaded.
    Variant.objects.filter(sku="SHIRT-BLUE-M").update(stock=7)
    services.order_cancel(order=paid_order, actor="shopper")
    assert stock("SHIRT-BLUE-M") == 9


def test_cancel_refused_after_shipment_says_why_and_what_to_do(paid_order):
    Order.objects.filter(pk=paid_order.pk).update(status=Order.Status.SHIPPED)

    with pytest.raises(OrderNotCancellable) as excinfo:
        services.order_cancel(order=paid_order, actor="shopper")

    error = excinfo.value
    assert error.code == "order_not_cancellable"
    assert "10234 has already shipped" in error.message
    assert "return it within 30 days" in error.message
    paid_order.refresh_from_db()
    assert paid_order.status == Order.Status.SHIPPED
    assert events(paid_order) == []
    assert stock("SHIRT-BLUE-M") == 10


@pytest.mark.parametrize(
    "status", [Order.Status.DELIVERED, Order.Status.CANCELLED, Order.Status.RETURNED, Order.Status.PARTIALLY_RETURNED]
)
def test_cancel_refused_once_the_order_is_past_shipment(paid_order, status):
    Order.objects.filter(pk=paid_order.pk).update(status=status)
    with pytest.raises(OrderNotCancellable):
        services.order_cancel(order=paid_order, actor="shopper")
    assert Order.objects.get(pk=paid_order.pk).status == status


def test_cancel_while_processing_follows_the_policy_window(paid_order, policy):
    Order.objects.filter(pk=paid_order.pk).update(status=Order.Status.PROCESSING)

    policy.cancellation_window = ShopPolicy.CancellationWindow.BEFORE_PROCESSING
    policy.save()
    with pytest.raises(OrderNotCancellable) as excinfo:
        services.order_cancel(order=paid_order, actor="shopper")
    assert "being prepared" in excinfo.value.message

    policy.cancellation_window = ShopPolicy.CancellationWindow.BEFORE_SHIPMENT
    policy.save()
    assert services.order_cancel(order=paid_order, actor="shopper").status == Order.Status.CANCELLED


def test_cancel_pending_order_is_allowed_under_both_windows(shirt, policy):
    policy.cancellation_window = ShopPolicy.CancellationWindow.BEFORE_PROCESSING
    policy.save()
    order = make_order(lines=[(shirt.variants.get(size="M"), 1)])
    assert services.order_cancel(order=order, actor="shopper").status == Order.Status.CANCELLED


def test_cancel_email_goes_out_only_after_commit(paid_order, mailoutbox, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        services.order_cancel(order=paid_order, actor="shopper")
    assert mailoutbox == []  # nothing sent while the transaction was open
    assert len(callbacks) == 1

    callbacks[0]()
    [mail] = mailoutbox
    assert mail.to == ["Shopper@Example.com"]
    assert "Northwind & Co." in mail.subject and "10234" in mail.subject
    assert "has been cancelled" in mail.body
    assert "2 × Linen shirt (Blue / M)" in mail.body


def test_cancel_email_mentions_the_cancellation_fee_of_a_paid_order(paid_order, policy, mailoutbox, django_capture_on_commit_callbacks):
    policy.cancellation_fee = Decimal("5.00")
    policy.save()
    with django_capture_on_commit_callbacks(execute=True):
        order = services.order_cancel(order=paid_order, actor="shopper")
    [event] = events(order, OrderEvent.Type.CANCELLED)
    assert event.data["cancellation_fee"] == "5.00"
    assert event.data["refund_due"] == f"{order.total - Decimal('5.00'):.2f}"
    assert "cancellation fee of €5.00" in mailoutbox[0].body


def test_nothing_is_sent_or_changed_when_the_surrounding_transaction_rolls_back(
    paid_order, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        with pytest.raises(RuntimeError):
            with transaction.atomic():
                services.order_cancel(order=paid_order, actor="shopper")
                raise RuntimeError("something later in the same request failed")
    assert callbacks == []
    assert mailoutbox == []
    paid_order.refresh_from_db()
    assert paid_order.status == Order.Status.PAID
    assert stock("SHIRT-BLUE-M") == 10
    assert events(paid_order) == []


def test_actor_is_required(paid_order):
    with pytest.raises(ValueError):
        services.order_cancel(order=paid_order, actor="")


@pytest.mark.realstack
@pytest.mark.django_db(transaction=True)
def test_concurrent_cancels_only_one_succeeds(require_real_stack, shirt, shipping_method):
    order = make_order(state="paid", lines=[(shirt.variants.get(size="M"), 3)], shipping_method=shipping_method)
    barrier = threading.Barrier(4)
    outcomes = []

    def cancel():
        try:
            barrier.wait()
            services.order_cancel(order=Order.objects.get(pk=order.pk), actor="shopper")
            outcomes.append("cancelled")
        except OrderNotCancellable:
            outcomes.append("refused")
        finally:
            connection.close()

    threads = [threading.Thread(target=cancel) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    assert sorted(outcomes) == ["cancelled", "refused", "refused", "refused"]
    assert stock("SHIRT-BLUE-M") == 13
    assert OrderEvent.objects.filter(order=order, type=OrderEvent.Type.CANCELLED).count() == 1


# --- Shipping address ----------------------------------------------------------------------------


def test_change_address_before_shipment_updates_it_and_confirms_by_email(
    paid_order, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        order = services.order_change_shipping_address(order=paid_order, address=NEW_ADDRESS, actor="assistant")

    order.refresh_from_db()
    assert (order.ship_name, order.ship_line1, order.ship_city, order.ship_postcode, order.ship_country) == (
        "Jo Example",
        "Ringstraße 1",
        "Wien",
        "1010",
        "AT",
    )
    [event] = events(order, OrderEvent.Type.ADDRESS_CHANGED)
    assert event.actor == "assistant"
    assert event.data["old"]["ship_city"] == "Berlin"
    assert event.data["new"]["ship_city"] == "Wien"
    [mail] = mailoutbox
    assert "new shipping address" in mail.subject
    assert "Ringstraße 1" in mail.body and "1010 Wien" in mail.body


@pytest.mark.parametrize("status", [Order.Status.SHIPPED, Order.Status.DELIVERED, Order.Status.CANCELLED])
def test_change_address_refused_after_shipment(paid_order, status, mailoutbox, django_capture_on_commit_callbacks):
    Order.objects.filter(pk=paid_order.pk).update(status=status)
    with django_capture_on_commit_callbacks(execute=True):
        with pytest.raises(AddressChangeNotAllowed) as excinfo:
            services.order_change_shipping_address(order=paid_order, address=NEW_ADDRESS, actor="shopper")
    assert "10234" in excinfo.value.message
    assert Order.objects.get(pk=paid_order.pk).ship_city == "Berlin"
    assert events(paid_order) == []
    assert mailoutbox == []


def test_change_address_while_processing_follows_the_policy(paid_order, policy):
    Order.objects.filter(pk=paid_order.pk).update(status=Order.Status.PROCESSING)
    policy.address_change_allowed_until_shipment = False
    policy.save()
    with pytest.raises(AddressChangeNotAllowed):
        services.order_change_shipping_address(order=paid_order, address=NEW_ADDRESS, actor="shopper")

    policy.address_change_allowed_until_shipment = True
    policy.save()
    order = services.order_change_shipping_address(order=paid_order, address=NEW_ADDRESS, actor="shopper")
    assert order.ship_city == "Wien"


def test_change_address_to_a_country_the_shipping_method_does_not_serve_is_refused(paid_order):
    with pytest.raises(InvalidAddress) as excinfo:
        services.order_change_shipping_address(order=paid_order, address={**NEW_ADDRESS, "country": "FR"}, actor="shopper")
    assert "does not deliver to FR" in excinfo.value.message
    assert "DE, AT, NL" in excinfo.value.message
    assert Order.objects.get(pk=paid_order.pk).ship_country == "DE"


@pytest.mark.parametrize("country", ["Germany", "D", "12", ""])
def test_change_address_with_a_malformed_country_is_refused(paid_order, country):
    with pytest.raises(InvalidAddress):
        services.order_change_shipping_address(order=paid_order, address={**NEW_ADDRESS, "country": country}, actor="shopper")


def test_change_address_lists_every_missing_field(paid_order):
    with pytest.raises(InvalidAddress) as excinfo:
        services.order_change_shipping_address(order=paid_order, address={"name": "Jo", "line1": " ", "country": "DE"}, actor="shopper")
    assert excinfo.value.data["missing"] == ["line1", "city", "postcode"]
    assert "the street and house number, the city and the postcode" in excinfo.value.message


def test_change_address_rejects_a_postcode_that_is_not_one(paid_order):
    with pytest.raises(InvalidAddress):
        services.order_change_shipping_address(order=paid_order, address={**NEW_ADDRESS, "postcode": "!!"}, actor="shopper")


def test_change_address_to_the_same_address_records_and_sends_nothing(paid_order, mailoutbox, django_capture_on_commit_callbacks):
    same = {"name": paid_order.ship_name, "line1": "Hauptstraße 5", "city": "Berlin", "postcode": "10115", "country": "de"}
    with django_capture_on_commit_callbacks(execute=True):
        services.order_change_shipping_address(order=paid_order, address=same, actor="shopper")
    assert events(paid_order) == []
    assert mailoutbox == []


def test_change_address_rejects_unknown_keys_as_a_programming_error(paid_order):
    with pytest.raises(ValueError):
        services.order_change_shipping_address(order=paid_order, address={**NEW_ADDRESS, "planet": "Mars"}, actor="shopper")


# --- Return requests -------------------------------------------------------------------------------


def test_return_everything_eligible_creates_an_rma_with_the_refund_amount(
    delivered_order, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        ret = services.return_request_create(order=delivered_order, lines=None, reason="too_small", actor="assistant")

    assert re.fullmatch(r"RMA-\d{6}", ret.rma_number)
    assert ret.status == ReturnRequest.Status.REQUESTED
    assert ret.reason == ReturnRequest.Reason.TOO_SMALL
    assert ret.refund_amount == Decimal("2") * Decimal("49.90") + Decimal("54.90")
    assert sorted((rl.order_line.sku, rl.quantity) for rl in ret.lines.all()) == [("SHIRT-BLUE-L", 1), ("SHIRT-BLUE-M", 2)]
    [event] = events(delivered_order, OrderEvent.Type.RETURN_REQUESTED)
    assert event.return_request == ret and event.actor == "assistant"
    [mail] = mailoutbox
    assert ret.rma_number in mail.subject and ret.rma_number in mail.body
    assert "20234" in mail.body and "€154.70" in mail.body


def test_partial_returns_count_against_the_remaining_quantity(delivered_order):
    line_m = delivered_order.lines.get(sku="SHIRT-BLUE-M")
    services.return_request_create(order=delivered_order, lines=[(line_m, 1)], reason="too_small", actor="shopper")

    with pytest.raises(InvalidReturnQuantity) as excinfo:
        services.return_request_create(order=delivered_order, lines=[(line_m, 2)], reason="too_small", actor="shopper")
    assert "at most 1 × Linen shirt (1 already in a return)" in excinfo.value.message

    second = services.return_request_create(order=delivered_order, lines=[(line_m, 1)], reason="too_small", actor="shopper")
    assert second.refund_amount == Decimal("49.90")


def test_return_of_more_than_was_bought_is_refused(delivered_order):
    line_l = delivered_order.lines.get(sku="SHIRT-BLUE-L")
    with pytest.raises(InvalidReturnQuantity):
        services.return_request_create(order=delivered_order, lines=[(line_l, 2)], reason="too_small", actor="shopper")
    assert ReturnRequest.objects.count() == 0


def test_the_same_line_twice_in_one_request_counts_once_in_total(delivered_order):
    line_l = delivered_order.lines.get(sku="SHIRT-BLUE-L")
    with pytest.raises(InvalidReturnQuantity):
        services.return_request_create(order=delivered_order, lines=[(line_l, 1), (line_l, 1)], reason="other", actor="shopper")


def test_a_line_already_returned_is_refused(delivered_order):
    services.return_request_create(order=delivered_order, lines=None, reason="too_small", actor="shopper")

    line_l = delivered_order.lines.get(sku="SHIRT-BLUE-L")
    with pytest.raises(ReturnNotAllowed) as excinfo:
        services.return_request_create(order=delivered_order, lines=[(line_l, 1)], reason="too_small", actor="shopper")
    assert "already part of a return" in excinfo.value.message
    with pytest.raises(ReturnNotAllowed):
        services.return_request_create(order=delivered_order, lines=None, reason="too_small", actor="shopper")
    assert ReturnRequest.objects.count() == 1


def test_return_outside_the_window_is_refused_with_the_date_it_ended(delivered_order, policy):
    delivered_at = timezone.now() - timedelta(days=policy.return_window_days + 2)
    Order.objects.filter(pk=delivered_order.pk).update(delivered_at=delivered_at)
    delivered_order.refresh_from_db()

    with pytest.raises(ReturnNotAllowed) as excinfo:
        services.return_request_create(order=delivered_order, lines=None, reason="too_small", actor="shopper")
    assert "30-day return window for order 20234 ended on" in excinfo.value.message
    last_day = timezone.localdate(delivered_at) + timedelta(days=30)
    assert f"{last_day.day} {last_day:%B %Y}" in excinfo.value.message


def test_return_on_the_last_day_of_the_window_is_allowed(delivered_order, policy):
    Order.objects.filter(pk=delivered_order.pk).update(delivered_at=timezone.now() - timedelta(days=policy.return_window_days))
    delivered_order.refresh_from_db()
    ret = services.return_request_create(order=delivered_order, lines=None, reason="too_small", actor="shopper")
    assert ret.lines.count() == 2


def test_return_from_a_non_returnable_category_is_refused(delivered_order, shirts, policy):
    policy.non_returnable_categories.add(shirts)
    line_m = delivered_order.lines.get(sku="SHIRT-BLUE-M")
    with pytest.raises(ReturnNotAllowed) as excinfo:
        services.return_request_create(order=delivered_order, lines=[(line_m, 1)], reason="changed_mind", actor="shopper")
    assert "items from “Shirts” are not returnable" in excinfo.value.message
    with pytest.raises(ReturnNotAllowed):
        services.return_request_create(order=delivered_order, lines=None, reason="changed_mind", actor="shopper")


def test_non_returnable_category_covers_its_sub_categories(shipping_method, policy):
    underwear = CategoryFactory(name="Underwear", slug="underwear")
    socks = CategoryFactory(name="Socks", slug="socks", parent=underwear)
    policy.non_returnable_categories.add(underwear)
    variant = VariantFactory(product=ProductFactory(category=socks))
    order = make_order(state="delivered", lines=[(variant, 1)], shipping_method=shipping_method)
    with pytest.raises(ReturnNotAllowed):
        services.return_request_create(order=order, lines=None, reason="other", actor="shopper")


def test_only_the_non_returnable_lines_are_left_out_of_a_whole_order_return(shipping_method, shirt, policy):
    gift_cards = CategoryFactory(name="Gift cards", slug="gift-cards")
    policy.non_returnable_categories.add(gift_cards)
    card = VariantFactory(product=ProductFactory(category=gift_cards, name="Gift card"))
    order = make_order(state="delivered", lines=[(shirt.variants.get(size="M"), 1), (card, 1)], shipping_method=shipping_method)
    ret = services.return_request_create(order=order, lines=None, reason="other", actor="shopper")
    assert [rl.order_line.sku for rl in ret.lines.all()] == ["SHIRT-BLUE-M"]


def test_the_category_snapshot_on_the_line_decides_not_the_current_catalog(delivered_order, shirts, policy):
    # The product moved to a non-returnable category after the sale; the sale's rules apply.
    sale = CategoryFactory(name="Final sale", slug="final-sale")
    policy.non_returnable_categories.add(sale)
    product = delivered_order.lines.first().variant.product
    product.category = sale
    product.save()
    ret = services.return_request_create(order=delivered_order, lines=None, reason="other", actor="shopper")
    assert ret.lines.count() == 2


@pytest.mark.parametrize(
    "status, expected",
    [
        (Order.Status.PAID, "has not shipped yet"),
        (Order.Status.SHIPPED, "still on its way"),
        (Order.Status.CANCELLED, "was cancelled"),
    ],
)
def test_return_of_an_order_that_was_not_delivered_is_refused(delivered_order, status, expected):
    Order.objects.filter(pk=delivered_order.pk).update(status=status)
    delivered_order.refresh_from_db()
    with pytest.raises(ReturnNotAllowed) as excinfo:
        services.return_request_create(order=delivered_order, lines=None, reason="other", actor="shopper")
    assert expected in excinfo.value.message


def test_return_of_a_line_from_another_order_is_refused(delivered_order, paid_order):
    foreign_line = paid_order.lines.first()
    with pytest.raises(InvalidReturnQuantity) as excinfo:
        services.return_request_create(order=delivered_order, lines=[(foreign_line, 1)], reason="other", actor="shopper")
    assert "not part of order 20234" in excinfo.value.message


@pytest.mark.parametrize("quantity", [0, -1, "two", 1.5, True, None])
def test_return_quantity_must_be_a_positive_whole_number(delivered_order, quantity):
    line = delivered_order.lines.first()
    with pytest.raises(InvalidReturnQuantity):
        services.return_request_create(order=delivered_order, lines=[(line, quantity)], reason="other", actor="shopper")


def test_return_with_an_empty_selection_is_refused(delivered_order):
    with pytest.raises(InvalidReturnQuantity):
        services.return_request_create(order=delivered_order, lines=[], reason="other", actor="shopper")


def test_free_text_reason_is_kept_in_the_comment(delivered_order):
    ret = services.return_request_create(
        order=delivered_order, lines=None, reason="The colour looks different", comment="Photo attached", actor="shopper"
    )
    assert ret.reason == ReturnRequest.Reason.OTHER
    assert ret.comment == "The colour looks different\n\nPhoto attached"


def test_reason_given_by_its_label_is_understood(delivered_order):
    ret = services.return_request_create(order=delivered_order, lines=None, reason="Arrived damaged", actor="shopper")
    assert ret.reason == ReturnRequest.Reason.DAMAGED


def test_rma_numbers_are_unique_even_when_the_random_draw_collides(delivered_order, monkeypatch):
    ReturnRequestFactory(rma_number="RMA-000001")
    draws = iter(["000001", "000001", "000002"])
    monkeypatch.setattr(services, "_random_rma_digits", lambda: next(draws))
    ret = services.return_request_create(order=delivered_order, lines=None, reason="other", actor="shopper")
    assert ret.rma_number == "RMA-000002"


# --- Return status machine ---------------------------------------------------------------------------


def _returned(order, lines=None):
    return services.return_request_create(order=order, lines=lines, reason="too_small", actor="shopper")


def test_return_moves_requested_approved_received_refunded_and_the_order_becomes_returned(
    delivered_order, mailoutbox, django_capture_on_commit_callbacks
):
    ret = _returned(delivered_order)
    ret = services.return_request_approve(return_request=ret, actor="staff:alice")
    assert ret.status == ReturnRequest.Status.APPROVED and ret.approved_at
    ret = services.return_request_receive(return_request=ret, actor="staff:alice")
    assert ret.status == ReturnRequest.Status.RECEIVED and ret.received_at
    with django_capture_on_commit_callbacks(execute=True):
        ret = services.return_request_refund(return_request=ret, actor="staff:alice")
    assert ret.status == ReturnRequest.Status.REFUNDED and ret.refunded_at

    delivered_order.refresh_from_db()
    assert delivered_order.status == Order.Status.RETURNED
    types = [e.type for e in events(delivered_order)]
    assert types == ["return_requested", "return_approved", "return_received", "return_refunded"]
    assert all(e.return_request_id == ret.pk for e in events(delivered_order))
    [mail] = mailoutbox
    assert "€154.70" in mail.body and ret.rma_number in mail.subject


def test_refund_of_part_of_the_order_makes_it_partially_returned_and_the_rest_stays_returnable(delivered_order):
    line_l = delivered_order.lines.get(sku="SHIRT-BLUE-L")
    ret = _returned(delivered_order, [(line_l, 1)])
    for step in (services.return_request_approve, services.return_request_receive, services.return_request_refund):
        ret = step(return_request=ret, actor="staff:alice")
    delivered_order.refresh_from_db()
    assert delivered_order.status == Order.Status.PARTIALLY_RETURNED

    # A partially returned order can still return the rest, and then becomes returned.
    rest = _returned(delivered_order)
    assert [(rl.order_line.sku, rl.quantity) for rl in rest.lines.all()] == [("SHIRT-BLUE-M", 2)]
    for step in (services.return_request_approve, services.return_request_receive, services.return_request_refund):
        rest = step(return_request=rest, actor="staff:alice")
    delivered_order.refresh_from_db()
    assert delivered_order.status == Order.Status.RETURNED


def test_refund_of_less_than_requested_is_recorded(delivered_order):
    ret = _returned(delivered_order)
    ret = services.return_request_receive(return_request=services.return_request_approve(return_request=ret, actor="s"), actor="s")
    ret = services.return_request_refund(return_request=ret, actor="staff:alice", amount="100")
    assert ret.refund_amount == Decimal("100.00")
    event = events(delivered_order, OrderEvent.Type.RETURN_REFUNDED)[0]
    assert event.data["requested_amount"] == "154.70" and event.data["refund_amount"] == "100.00"


@pytest.mark.parametrize("amount", ["0", "-5", "200", "lots"])
def test_refund_amount_must_lie_within_the_requested_amount(delivered_order, amount):
    ret = _returned(delivered_order)
    ret = services.return_request_receive(return_request=services.return_request_approve(return_request=ret, actor="s"), actor="s")
    with pytest.raises(ShopError):
        services.return_request_refund(return_request=ret, actor="s", amount=amount)
    assert ReturnRequest.objects.get(pk=ret.pk).status == ReturnRequest.Status.RECEIVED


@pytest.mark.parametrize(
    "reached, step",
    [
        ("requested", "receive"),
        ("requested", "refund"),
        ("approved", "approve"),
        ("approved", "refund"),
        ("received", "approve"),
        ("received", "reject"),
        ("refunded", "refund"),
        ("refunded", "reject"),
        ("rejected", "approve"),
        ("rejected", "receive"),
    ],
)
def test_invalid_return_transitions_are_refused(delivered_order, reached, step):
    ret = _returned(delivered_order)
    path = {
        "requested": [],
        "approved": ["approve"],
        "received": ["approve", "receive"],
        "refunded": ["approve", "receive", "refund"],
        "rejected": ["reject"],
    }[reached]
    for done in path:
        ret = getattr(services, f"return_request_{done}")(return_request=ret, actor="staff:alice")
    before = OrderEvent.objects.count()

    with pytest.raises(InvalidReturnTransition) as excinfo:
        getattr(services, f"return_request_{step}")(return_request=ret, actor="staff:alice")
    assert ret.rma_number in excinfo.value.message
    assert ReturnRequest.objects.get(pk=ret.pk).status == reached
    assert OrderEvent.objects.count() == before


def test_reject_tells_the_shopper_why_and_frees_the_items_for_another_return(
    delivered_order, mailoutbox, django_capture_on_commit_callbacks
):
    ret = _returned(delivered_order)
    with django_capture_on_commit_callbacks(execute=True):
        ret = services.return_request_reject(return_request=ret, actor="staff:alice", reason="Items were worn")
    assert ret.status == ReturnRequest.Status.REJECTED
    assert ret.rejected_reason == "Items were worn"
    assert "Items were worn" in mailoutbox[-1].body
    again = _returned(delivered_order)
    assert again.lines.count() == 2


# --- Staff order workflow -------------------------------------------------------------------------


def test_staff_workflow_pending_paid_processing_shipped_delivered(shirt, shipping_method, mailoutbox, django_capture_on_commit_callbacks):
    order = make_order(lines=[(shirt.variants.get(size="M"), 1)], shipping_method=shipping_method)
    order = services.order_mark_paid(order=order, actor="staff:alice", payment_method="paypal")
    assert order.status == Order.Status.PAID and order.paid_at and order.payment_method == "paypal"
    order = services.order_mark_processing(order=order, actor="staff:alice")
    assert order.status == Order.Status.PROCESSING
    with django_capture_on_commit_callbacks(execute=True):
        order = services.order_mark_shipped(order=order, actor="staff:alice", tracking_number="JJD123")
    assert order.status == Order.Status.SHIPPED
    assert order.carrier == "DHL"  # the shipping method's carrier
    assert order.estimated_delivery == timezone.localdate() + timedelta(days=shipping_method.max_days)
    [mail] = mailoutbox
    assert "on its way" in mail.subject and "JJD123" in mail.body and "DHL" in mail.body
    order = services.order_mark_delivered(order=order, actor="staff:alice")
    assert order.status == Order.Status.DELIVERED and order.delivered_at

    assert [e.type for e in events(order)] == ["paid", "processing", "shipped", "delivered"]
    assert {e.actor for e in events(order)} == {"staff:alice"}


@pytest.mark.parametrize(
    "status, call",
    [
        (Order.Status.PAID, "order_mark_paid"),
        (Order.Status.PENDING, "order_mark_processing"),
        (Order.Status.PENDING, "order_mark_shipped"),
        (Order.Status.CANCELLED, "order_mark_shipped"),
        (Order.Status.PAID, "order_mark_delivered"),
        (Order.Status.DELIVERED, "order_mark_delivered"),
    ],
)
def test_invalid_order_transitions_are_refused(paid_order, status, call):
    Order.objects.filter(pk=paid_order.pk).update(status=status)
    with pytest.raises(InvalidOrderTransition):
        getattr(services, call)(order=paid_order, actor="staff:alice")
    assert Order.objects.get(pk=paid_order.pk).status == status
    assert events(paid_order) == []


def test_ship_refuses_an_estimated_delivery_in_the_past(paid_order):
    with pytest.raises(ShopError):
        services.order_mark_shipped(order=paid_order, actor="s", estimated_delivery=timezone.localdate() - timedelta(days=1))
    with pytest.raises(ShopError):
        services.order_mark_shipped(order=paid_order, actor="s", estimated_delivery="next tuesday")


def test_staff_edits_are_validated_and_logged(paid_order):
    order = services.order_update_details(order=paid_order, changes={"tracking_number": "X1", "ship_city": "Hamburg"}, actor="staff:alice")
    assert order.ship_city == "Hamburg"
    [event] = events(order, OrderEvent.Type.NOTE)
    assert event.data == {"old": {"tracking_number": "", "ship_city": "Berlin"}, "new": {"tracking_number": "X1", "ship_city": "Hamburg"}}
    with pytest.raises(InvalidAddress):
        services.order_update_details(order=order, changes={"ship_country": "US"}, actor="staff:alice")
    with pytest.raises(ValueError):
        services.order_update_details(order=order, changes={"status": "delivered"}, actor="staff:alice")


# --- Every write leaves an event ------------------------------------------------------------------


@pytest.mark.parametrize(
    "write",
    [
        lambda o: services.order_cancel(order=o, actor="x"),
        lambda o: services.order_change_shipping_address(order=o, address=NEW_ADDRESS, actor="x"),
        lambda o: services.order_mark_processing(order=o, actor="x"),
        lambda o: services.order_mark_shipped(order=o, actor="x"),
        lambda o: services.order_note_add(order=o, actor="x", message="Called the shopper"),
        lambda o: services.order_update_details(order=o, changes={"tracking_number": "T"}, actor="x"),
    ],
)
def test_every_order_write_records_exactly_one_event_with_its_actor(paid_order, write):
    write(paid_order)
    [event] = events(paid_order)
    assert event.actor == "x"


# --- Customers and newsletter ------------------------------------------------------------------------


def test_customer_get_or_create_is_case_insensitive_and_keeps_an_existing_name():
    first = services.customer_get_or_create(email="  Ana@Example.COM ", name="Ana")
    again = services.customer_get_or_create(email="ana@example.com", name="Someone else")
    assert first.pk == again.pk
    assert again.email == "ana@example.com" and again.name == "Ana"
    assert Customer.objects.count() == 1


@pytest.mark.parametrize("email", ["", "not-an-email", "a@", None, 42])
def test_invalid_email_is_refused(email):
    with pytest.raises(InvalidEmail):
        services.customer_get_or_create(email=email)


def test_newsletter_subscribe_and_unsubscribe():
    customer = services.newsletter_subscribe(email="News@Example.com")
    assert customer.newsletter is True
    assert services.newsletter_unsubscribe(email="news@example.com").newsletter is False
    assert Customer.objects.get(email="news@example.com").newsletter is False


def test_unsubscribing_an_unknown_address_creates_no_record():
    assert services.newsletter_unsubscribe(email="stranger@example.com") is None
    assert not Customer.objects.filter(email="stranger@example.com").exists()


def test_an_order_event_with_a_key_its_kind_does_not_record_is_refused():
    from catalog.models import OrderEvent

    with pytest.raises(ValueError, match="cancellation_fee"):
        services.order_event_data(OrderEvent.Type.CANCELLED, fee="0.00")
