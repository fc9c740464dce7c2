from datetime import timedelta
from decimal import Decimal

import pytest
from django.apps import apps
from django.contrib import admin
from django.contrib.messages import get_messages
from django.urls import reverse
from django.utils import timezone

from catalog import services
from catalog.models import Article, Order, OrderEvent, ReturnRequest, ShopPolicy
from tests.factories import ArticleFactory, CustomerFactory, OrderEventFactory

pytestmark = pytest.mark.django_db

CATALOG_MODELS = list(apps.get_app_config("catalog").get_models())


def url(model, view, *args):
    return reverse(f"admin:catalog_{model._meta.model_name}_{view}", args=args)


def messages_of(response):
    return [str(m) for m in get_messages(response.wsgi_request)]


@pytest.fixture
def every_row(delivered_order, paid_order):
    """At least one row of every catalog model."""
    services.return_request_create(order=delivered_order, lines=None, reason="too_small", actor="shopper")
    OrderEventFactory(order=paid_order)
    CustomerFactory()
    article = ArticleFactory()
    ShopPolicy.current()
    from catalog.models import Product
    from catalog.translations import article_translation_save, category_translation_save, product_translation_save

    product = Product.objects.first()
    product_translation_save(product=product, language="ja", name="商品")
    category_translation_save(category=product.category, language="ja", name="カテゴリ")
    article_translation_save(article=article, language="ja", title="記事")


def test_every_catalog_model_is_registered():
    assert {m for m in CATALOG_MODELS if m not in admin.site._registry} == set()


@pytest.mark.parametrize("model", CATALOG_MODELS, ids=lambda m: m.__name__)
def test_changelist_and_change_pages_load(admin_client, every_row, model):
    response = admin_client.get(url(model, "changelist"), follow=True)
    assert response.status_code == 200
    obj = model.objects.first()
    response = admin_client.get(url(model, "change", obj.pk))
    assert response.status_code == 200


@pytest.mark.parametrize("model", CATALOG_MODELS, ids=lambda m: m.__name__)
def test_changelist_search_runs(admin_client, every_row, model):
    model_admin = admin.site._registry[model]
    params = {"q": "10234"} if model_admin.search_fields else {}
    response = admin_client.get(url(model, "changelist"), params, follow=True)
    assert response.status_code == 200
    assert "errornote" not in response.content.decode()


@pytest.mark.parametrize("model_name", ["category", "product", "variant", "customer", "shippingmethod", "order", "article"])
def test_add_pages_load(admin_client, model_name):
    assert admin_client.get(reverse(f"admin:catalog_{model_name}_add")).status_code == 200


def test_order_search_finds_by_number_email_sku_and_rma(admin_client, every_row, delivered_order, paid_order):
    rma = ReturnRequest.objects.get().rma_number
    for term, expected in (("20234", {delivered_order}), ("buyer@example.com", {delivered_order}), (rma, {delivered_order}), ("SHIRT-BLUE-L", {delivered_order, paid_order})):
        response = admin_client.get(url(Order, "changelist"), {"q": term})
        assert set(response.context["cl"].result_list) == expected, term


def test_order_change_page_shows_lines_returns_and_events(admin_client, every_row, delivered_order):
    page = admin_client.get(url(Order, "change", delivered_order.pk)).content.decode()
    assert "SHIRT-BLUE-M" in page
    assert ReturnRequest.objects.get().rma_number in page
    assert "Return requested" in page


# --- Order actions ----------------------------------------------------------------------------------


def post_action(client, model, action, objs, **extra):
    data = {"action": action, "_selected_action": [o.pk for o in objs], **extra}
    return client.post(url(model, "changelist"), data, follow=True)


def test_mark_paid_action_goes_through_the_service(admin_client, admin_user, shipping_method):
    from tests.catalog.conftest import make_order

    order = make_order(shipping_method=shipping_method)
    response = post_action(admin_client, Order, "mark_paid", [order], index=0)
    order.refresh_from_db()
    assert order.status == Order.Status.PAID
    assert OrderEvent.objects.get(order=order).actor == f"staff:{admin_user.username}"
    assert "1 order marked as paid." in messages_of(response)


def test_mark_shipped_asks_for_tracking_then_ships_and_emails(admin_client, paid_order, mailoutbox, django_capture_on_commit_callbacks):
    first = post_action(admin_client, Order, "mark_shipped", [paid_order], index=0)
    assert first.status_code == 200
    assert "tracking_number" in first.content.decode()
    assert Order.objects.get(pk=paid_order.pk).status == Order.Status.PAID  # nothing yet

    eta = (timezone.localdate() + timedelta(days=3)).isoformat()
    with django_capture_on_commit_callbacks(execute=True):
        post_action(admin_client, Order, "mark_shipped", [paid_order], apply="Mark as shipped", carrier="UPS", tracking_number="1Z999", estimated_delivery=eta)
    paid_order.refresh_from_db()
    assert (paid_order.status, paid_order.carrier, paid_order.tracking_number) == ("shipped", "UPS", "1Z999")
    assert paid_order.estimated_delivery.isoformat() == eta
    assert "1Z999" in mailoutbox[0].body


def test_mark_shipped_for_several_orders_refuses_one_tracking_number(admin_client, paid_order, delivered_order):
    response = post_action(admin_client, Order, "mark_shipped", [paid_order, delivered_order], apply="go", tracking_number="1Z999")
    assert "one at a time" in response.content.decode()
    assert Order.objects.get(pk=paid_order.pk).status == Order.Status.PAID


def test_cancel_action_reports_a_broken_rule_and_cancels_the_rest(admin_client, paid_order, delivered_order):
    response = post_action(admin_client, Order, "cancel_orders", [paid_order, delivered_order], apply="Cancel", reason="Customer called")
    assert Order.objects.get(pk=paid_order.pk).status == Order.Status.CANCELLED
    assert Order.objects.get(pk=delivered_order.pk).status == Order.Status.DELIVERED
    texts = messages_of(response)
    assert any("Order 20234: Order 20234 has already been delivered" in t for t in texts)
    assert "1 order cancelled; stock released and the shoppers e-mailed." in texts
    assert OrderEvent.objects.get(order=paid_order).message == "Customer called"


def test_mark_delivered_on_an_unshipped_order_shows_the_error(admin_client, paid_order):
    response = post_action(admin_client, Order, "mark_delivered", [paid_order], index=0)
    assert any("can only be marked as delivered when it is shipped" in t for t in messages_of(response))
    assert Order.objects.get(pk=paid_order.pk).status == Order.Status.PAID


def test_start_returns_action_creates_a_return_for_the_eligible_items(admin_client, delivered_order):
    post_action(admin_client, Order, "start_returns", [delivered_order], apply="Start", reason="damaged", comment="Phoned in")
    ret = ReturnRequest.objects.get(order=delivered_order)
    assert (ret.reason, ret.comment, ret.lines.count()) == ("damaged", "Phoned in", 2)


def test_editing_an_order_in_the_admin_is_validated_and_logged(admin_client, admin_user, paid_order):
    change_url = url(Order, "change", paid_order.pk)
    form = admin_client.get(change_url).context["adminform"].form
    data = {k: ("" if v is None else v) for k, v in form.initial.items() if k in form.fields}
    data.update({"customer": paid_order.customer_id, "tracking_number": "TRACK-1"})
    # Submit the inlines as the page rendered them (lines, returns and events are read-only).
    for formset in admin_client.get(change_url).context["inline_admin_formsets"]:
        mf = formset.formset.management_form
        data.update({f"{mf.prefix}-TOTAL_FORMS": mf.initial["TOTAL_FORMS"], f"{mf.prefix}-INITIAL_FORMS": mf.initial["INITIAL_FORMS"]})
        for sub in formset.formset.forms:
            data[f"{sub.prefix}-id"] = sub.instance.pk
            data[f"{sub.prefix}-{formset.formset.fk.name}"] = paid_order.pk

    bad = admin_client.post(change_url, {**data, "ship_country": "US"})
    assert bad.status_code == 200 and "does not deliver to US" in bad.content.decode()
    assert Order.objects.get(pk=paid_order.pk).ship_country == "DE"

    ok = admin_client.post(change_url, data)
    assert ok.status_code == 302, ok.context["adminform"].form.errors if ok.context else ok
    paid_order.refresh_from_db()
    assert paid_order.tracking_number == "TRACK-1"
    event = OrderEvent.objects.get(order=paid_order)
    assert event.actor == f"staff:{admin_user.username}"
    assert event.data["new"] == {"tracking_number": "TRACK-1"}


def test_status_cannot_be_edited_by_hand(admin_client, paid_order):
    form = admin_client.get(url(Order, "change", paid_order.pk)).context["adminform"].form
    assert "status" not in form.fields and "total" not in form.fields


# --- Return actions ----------------------------------------------------------------------------------


@pytest.fixture
def return_request(delivered_order):
    return services.return_request_create(order=delivered_order, lines=None, reason="too_small", actor="shopper")


def test_return_actions_walk_the_status_machine(admin_client, return_request, delivered_order, mailoutbox, django_capture_on_commit_callbacks):
    post_action(admin_client, ReturnRequest, "approve", [return_request], index=0)
    assert ReturnRequest.objects.get().status == "approved"
    post_action(admin_client, ReturnRequest, "receive", [return_request], index=0)
    assert ReturnRequest.objects.get().status == "received"
    with django_capture_on_commit_callbacks(execute=True):
        post_action(admin_client, ReturnRequest, "refund", [return_request], apply="Refund", amount="")
    assert ReturnRequest.objects.get().status == "refunded"
    assert Order.objects.get(pk=delivered_order.pk).status == Order.Status.RETURNED
    assert "refund" in mailoutbox[-1].subject.lower()


def test_return_action_out_of_order_shows_the_error(admin_client, return_request):
    response = post_action(admin_client, ReturnRequest, "receive", [return_request], index=0)
    assert any("can only be marked as received when it is approved" in t for t in messages_of(response))
    assert ReturnRequest.objects.get().status == "requested"


def test_reject_action_needs_a_reason(admin_client, return_request):
    response = post_action(admin_client, ReturnRequest, "reject", [return_request], apply="Reject", reason="")
    assert "This field is required" in response.content.decode()
    post_action(admin_client, ReturnRequest, "reject", [return_request], apply="Reject", reason="Worn")
    ret = ReturnRequest.objects.get()
    assert (ret.status, ret.rejected_reason) == ("rejected", "Worn")


def test_returns_cannot_be_added_or_edited_by_hand(admin_client, return_request):
    assert admin_client.get(url(ReturnRequest, "add")).status_code == 403
    form = admin_client.get(url(ReturnRequest, "change", return_request.pk)).context["adminform"].form
    assert form.fields == {}


def test_audit_log_is_read_only(admin_client, every_row):
    event = OrderEvent.objects.first()
    assert admin_client.post(url(OrderEvent, "change", event.pk), {"message": "rewritten"}).status_code == 403
    assert admin_client.post(url(OrderEvent, "delete", event.pk), {"post": "yes"}).status_code == 403
    assert OrderEvent.objects.filter(pk=event.pk).exists()


# --- Policy and articles ------------------------------------------------------------------------------


def test_shop_policy_is_a_singleton(admin_client):
    policy = ShopPolicy.current()
    response = admin_client.get(url(ShopPolicy, "changelist"))
    assert response.status_code == 302 and response.url == url(ShopPolicy, "change", policy.pk)
    assert admin_client.get(url(ShopPolicy, "add")).status_code == 403
    assert admin_client.post(url(ShopPolicy, "delete", policy.pk), {"post": "yes"}).status_code == 403


def test_article_admin_publish_actions_and_slug_prepopulation(admin_client):
    article = ArticleFactory(is_published=False)
    post_action(admin_client, Article, "publish", [article], index=0)
    assert Article.objects.get(pk=article.pk).is_published is True
    page = admin_client.get(url(Article, "add")).content.decode()
    assert "prepopulated" in page
    filtered = admin_client.get(url(Article, "changelist"), {"topic__exact": "returns", "is_published__exact": "1"})
    assert list(filtered.context["cl"].result_list) == [article]


def test_an_order_entered_in_the_admin_gets_its_totals_and_a_placed_event(admin_client, admin_user, shirt, shipping_method):
    from tests.factories import CustomerFactory

    customer = CustomerFactory(email="phone@example.com")
    variant = shirt.variants.get(size="L")
    add_url = url(Order, "add")
    data = {
        "number": "55501", "customer": customer.pk, "email": "phone@example.com", "payment_method": "invoice",
        "currency": "EUR", "shipping_price": "4.90", "shipping_method": shipping_method.pk,
        "ship_name": "Pat Phone", "ship_line1": "Alte Gasse 2", "ship_city": "Köln", "ship_postcode": "50667", "ship_country": "de",
        "carrier": "", "tracking_number": "", "estimated_delivery": "", "placed_at_0": "2026-01-05", "placed_at_1": "10:00:00",
    }
    for formset in admin_client.get(add_url).context["inline_admin_formsets"]:
        mf = formset.formset.management_form
        data.update({f"{mf.prefix}-TOTAL_FORMS": 0, f"{mf.prefix}-INITIAL_FORMS": 0})
    data.update({
        "lines-TOTAL_FORMS": 1, "lines-0-variant": variant.pk, "lines-0-product_name": "Linen shirt", "lines-0-variant_label": "Blue / L",
        "lines-0-sku": variant.sku, "lines-0-category_slug": "shirts", "lines-0-unit_price": "54.90", "lines-0-quantity": 2,
    })

    response = admin_client.post(add_url, data)
    assert response.status_code == 302, response.context["adminform"].form.errors if response.context else response

    order = Order.objects.get(number="55501")
    assert (order.subtotal, order.total, order.ship_country) == (Decimal("109.80"), Decimal("114.70"), "DE")
    [event] = OrderEvent.objects.filter(order=order)
    assert (event.type, event.actor) == ("placed", f"staff:{admin_user.username}")
