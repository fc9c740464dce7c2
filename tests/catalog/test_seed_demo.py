"""manage.py seed_demo: the demo shop's size, consistency, scenarios, idempotence and JSON contract.

The shop is seeded once for the module (about 10 s); tests that seed again do so inside their
own transaction, which is rolled back.
"""

import io
import json
import re
import time
from collections import Counter
from datetime import timedelta
from decimal import Decimal

import pytest
from django.contrib.auth import authenticate, get_user_model
from django.core.management import CommandError, call_command
from django.test import RequestFactory, override_settings
from django.utils import timezone

from catalog import selectors
from catalog.management.commands.seed_demo import SCENARIOS, parse_article
from catalog.models import (
    Article,
    Category,
    Customer,
    Order,
    OrderEvent,
    OrderLine,
    Product,
    ReturnLine,
    ReturnRequest,
    ShippingMethod,
    ShopPolicy,
    Variant,
)

FAST_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher", "django.contrib.auth.hashers.PBKDF2PasswordHasher"]
DEMO_EMAIL = "alex.demo@example.com"

pytestmark = pytest.mark.django_db


def run_seed(*args):
    out, err = io.StringIO(), io.StringIO()
    call_command("seed_demo", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


@pytest.fixture(scope="module")
def seeded(django_db_setup, django_db_blocker):
    # DEBUG=1 as bin/run sets it: with DEBUG off seed_demo refuses to run without --force.
    with django_db_blocker.unblock(), override_settings(PASSWORD_HASHERS=FAST_HASHERS, DEBUG=True):
        started = time.monotonic()
        stdout, stderr = run_seed("--json")
        elapsed = time.monotonic() - started
        yield {"stdout": stdout, "stderr": stderr, "data": json.loads(stdout), "elapsed": elapsed}
        call_command("flush", interactive=False, verbosity=0)


@pytest.fixture(autouse=True)
def fast_hashers(settings):
    settings.PASSWORD_HASHERS = FAST_HASHERS
    settings.DEBUG = True  # the demo's own setting (bin/run); the refusals below switch it off


@pytest.fixture
def demo(seeded):
    return {item["scenario"]: item for item in seeded["data"]["demo_orders"]}


def state_fingerprint():
    return {
        "products": sorted(Product.objects.values_list("name", "slug", "price")),
        "skus": sorted(Variant.objects.values_list("sku", "stock")),
        "orders": sorted(Order.objects.values_list("number", "email", "status", "total")),
        "returns": sorted(ReturnRequest.objects.values_list("rma_number", "status", "refund_amount")),
        "counts": {m.__name__: m.objects.count() for m in (Customer, OrderLine, OrderEvent, ReturnLine, Article)},
    }


# --- The JSON contract ----------------------------------------------------------------------------


def test_json_output_is_exactly_one_object_with_the_promised_shape(seeded):
    data = json.loads(seeded["stdout"])  # raises if anything else is on stdout
    assert seeded["stdout"].strip().startswith("{") and seeded["stdout"].strip().endswith("}")
    assert set(data) == {"counts", "demo_orders", "agents", "shopper"}
    assert set(data["counts"]) == {"products", "orders", "articles"}
    assert data["counts"] == {
        "products": Product.objects.count(),
        "orders": Order.objects.count(),
        "articles": Article.objects.count(),
    }
    assert [item["scenario"] for item in data["demo_orders"]] == list(SCENARIOS)
    for item in data["demo_orders"]:
        assert set(item) == {"scenario", "number", "email", "status", "tracking_number"}
        assert isinstance(item["number"], str) and isinstance(item["email"], str)
        assert item["tracking_number"] is None or isinstance(item["tracking_number"], str)
        order = Order.objects.get(number=item["number"])
        assert (order.email, order.status, order.tracking_number or None) == (item["email"], item["status"], item["tracking_number"])
    assert [a["username"] for a in data["agents"]] == ["anna", "ben", "chloe"]
    assert "Creating the demo shop" in seeded["stderr"]  # progress goes to stderr


def test_seeding_is_fast_enough(seeded):
    assert seeded["elapsed"] < 60, f"seed_demo took {seeded['elapsed']:.1f} s"


# --- Size and coverage ----------------------------------------------------------------------------


def test_the_shop_is_big_enough(seeded):
    assert Product.objects.filter(is_active=True).count() >= 150
    assert Product.objects.filter(is_active=False).exists()
    assert Category.objects.count() >= 10
    assert Order.objects.count() >= 500
    assert Article.objects.filter(is_published=True).count() >= 25
    assert 250 <= Customer.objects.count() <= 350
    assert not Product.objects.filter(variants__isnull=True).exists()


def test_stock_has_sold_out_low_and_plenty(seeded):
    assert Variant.objects.filter(stock=0).exists()
    assert Variant.objects.filter(stock__gte=1, stock__lte=3).exists()
    assert Variant.objects.filter(stock__gt=3).count() > Variant.objects.count() / 2
    sold_out_products = [p for p in Product.objects.filter(is_active=True).prefetch_related("variants") if all(v.stock == 0 for v in p.variants.all())]
    assert sold_out_products


def test_variants_use_the_shops_size_runs(seeded):
    sizes = set(Variant.objects.values_list("size", flat=True))
    assert {"XS", "S", "M", "L", "XL"} <= sizes
    assert {str(n) for n in range(36, 47)} <= sizes
    assert "One size" in sizes


def test_every_order_status_and_return_status_is_present(seeded):
    assert set(Order.objects.values_list("status", flat=True)) == set(Order.Status.values)
    assert set(ReturnRequest.objects.values_list("status", flat=True)) == set(ReturnRequest.Status.values)


def test_policy_and_shipping_methods(seeded):
    policy = ShopPolicy.current()
    assert policy.return_window_days == 30
    assert policy.cancellation_fee == Decimal("0.00")
    assert policy.cancellation_window == ShopPolicy.CancellationWindow.BEFORE_SHIPMENT
    assert set(policy.non_returnable_categories.values_list("slug", flat=True)) == {"underwear-swimwear", "gift-cards"}
    methods = {m.code: m for m in ShippingMethod.objects.all()}
    assert set(methods) == {"de-standard", "de-express", "eu-standard", "uk-ch", "international"}
    assert methods["de-standard"].countries == ["DE"] and methods["de-express"].countries == ["DE"]
    assert {"FR", "AT", "NL"} <= set(methods["eu-standard"].countries)
    assert set(methods["uk-ch"].countries) == {"GB", "CH"}
    assert "NO" in methods["international"].countries
    for method in methods.values():
        assert all(re.fullmatch(r"[A-Z]{2}", c) for c in method.countries), method.code
        assert method.min_days <= method.max_days


def test_the_shipping_article_quotes_the_seeded_shipping_methods(seeded):
    body = Article.objects.get(slug="shipping-countries-and-costs").body
    for method in ShippingMethod.objects.all():
        assert f"€{method.price}" in body, method.code
        if method.free_over is not None:
            assert f"€{method.free_over}" in body, method.code
        assert f"{method.delivery_days} working day" in body or (method.min_days == 1 and "next working day" in body), method.code


def test_articles_cover_the_shops_questions_in_paragraphs(seeded):
    slugs = set(Article.objects.values_list("slug", flat=True))
    for needed in (
        "shipping-countries-and-costs", "delivery-times", "returns-and-refunds", "how-to-start-a-return",
        "refund-timing", "exchanges", "non-returnable-items", "payment-methods", "invoices",
        "cancelling-an-order", "cancellation-fees", "changing-an-order", "changing-the-delivery-address",
        "resetting-your-password", "deleting-your-account", "switching-accounts", "newsletter",
        "discount-codes-and-promotions", "contact-us", "size-guide", "product-care", "gift-cards",
        "damaged-or-faulty-items", "lost-or-delayed-parcels", "customs-uk-and-switzerland", "sustainability",
    ):
        assert needed in slugs, needed
    assert set(Article.objects.values_list("topic", flat=True)) == set(Article.Topic.values)
    for article in Article.objects.all():
        paragraphs = article.body.split("\n\n")
        assert len(paragraphs) >= 2, article.slug
        assert all(p.strip() == p and p for p in paragraphs), article.slug
        assert article.tag_list, article.slug
    assert "30 days" in Article.objects.get(slug="returns-and-refunds").body
    assert "€0.00" in Article.objects.get(slug="cancellation-fees").body


# --- Consistency ------------------------------------------------------------------------------------


def test_orders_are_internally_consistent(seeded):
    now = timezone.now()
    numbers = sorted(int(n) for n in Order.objects.values_list("number", flat=True))
    assert numbers == list(range(10001, 10001 + len(numbers)))
    assert all(re.fullmatch(r"\d{5}", n) for n in Order.objects.values_list("number", flat=True))
    orders = Order.objects.prefetch_related("lines__variant__product__category", "events").select_related("shipping_method")
    for order in orders:
        label = f"order {order.number} ({order.status})"
        stamps = [t for t in (order.placed_at, order.paid_at, order.shipped_at, order.delivered_at) if t]
        assert stamps == sorted(stamps) and stamps[-1] <= now, label
        assert now - order.placed_at <= timedelta(days=120), label
        assert re.search(r"@example\.(com|org)$", order.email), label
        assert order.ship_country in order.shipping_method.countries, label
        lines = list(order.lines.all())
        assert lines, label
        assert order.subtotal == sum(line.unit_price * line.quantity for line in lines), label
        assert order.total == order.subtotal + order.shipping_price, label
        for line in lines:
            assert line.variant is not None
            assert (line.product_name, line.sku, line.variant_label, line.category_slug) == (
                line.variant.product.name, line.variant.sku, line.variant.label, line.variant.product.category.slug
            ), label
            assert line.unit_price == line.variant.price, label
        shipped = order.status in (Order.Status.SHIPPED, Order.Status.DELIVERED, Order.Status.PARTIALLY_RETURNED, Order.Status.RETURNED)
        assert bool(order.shipped_at) == shipped, label
        assert bool(order.tracking_number and order.carrier) == shipped, label
        assert bool(order.delivered_at) == (shipped and order.status != Order.Status.SHIPPED), label
        if order.status == Order.Status.PENDING:
            assert order.paid_at is None, label
        elif order.status != Order.Status.CANCELLED:
            assert order.paid_at is not None, label
        if order.status == Order.Status.CANCELLED:
            assert order.cancelled_at and order.cancelled_at >= order.placed_at, label
        else:
            assert order.cancelled_at is None, label
        if order.status == Order.Status.PENDING:
            assert now - order.placed_at < timedelta(hours=48), label  # unpaid orders are cancelled after 48 h
        events = list(order.events.all())
        assert events[0].type == OrderEvent.Type.PLACED, label
        assert [e.created_at for e in events] == sorted(e.created_at for e in events), label
        types = {e.type for e in events}
        assert (OrderEvent.Type.SHIPPED in types) == shipped, label
        assert (OrderEvent.Type.CANCELLED in types) == (order.status == Order.Status.CANCELLED), label
    assert len(set(Order.objects.exclude(tracking_number="").values_list("tracking_number", flat=True))) == Order.objects.exclude(tracking_number="").count()


def test_returns_agree_with_their_orders(seeded):
    non_returnable = set(ShopPolicy.current().non_returnable_categories.values_list("slug", flat=True))
    assert all(re.fullmatch(r"RMA-\d{6}", r) for r in ReturnRequest.objects.values_list("rma_number", flat=True))
    for ret in ReturnRequest.objects.select_related("order").prefetch_related("lines__order_line", "events"):
        order, label = ret.order, ret.rma_number
        lines = list(ret.lines.all())
        assert lines, label
        assert all(rl.order_line.order_id == order.pk and 1 <= rl.quantity <= rl.order_line.quantity for rl in lines), label
        assert all(rl.order_line.category_slug not in non_returnable for rl in lines), label
        assert order.delivered_at and ret.created_at > order.delivered_at, label
        value = sum(rl.order_line.unit_price * rl.quantity for rl in lines)
        expected = Decimal("0.00") if ret.status == ReturnRequest.Status.REJECTED else value
        assert ret.refund_amount == expected, label
        stamps = [t for t in (ret.created_at, ret.approved_at, ret.received_at, ret.refunded_at) if t]
        assert stamps == sorted(stamps), label
        assert bool(ret.refunded_at) == (ret.status == ReturnRequest.Status.REFUNDED), label
        assert (ret.status == ReturnRequest.Status.REJECTED) == bool(ret.rejected_reason), label
        if ret.status != ReturnRequest.Status.REJECTED:
            assert ret.created_at - order.delivered_at <= timedelta(days=30), label
        assert ret.events.filter(type=OrderEvent.Type.RETURN_REQUESTED).exists(), label
    # Refunded returns decide whether an order is returned in full or in part.
    for order in Order.objects.filter(status__in=[Order.Status.RETURNED, Order.Status.PARTIALLY_RETURNED]).prefetch_related("lines", "returns__lines"):
        refunded = Counter()
        for ret in order.returns.all():
            if ret.status == ReturnRequest.Status.REFUNDED:
                for rl in ret.lines.all():
                    refunded[rl.order_line_id] += rl.quantity
        assert refunded, order.number
        everything = all(refunded[line.pk] >= line.quantity for line in order.lines.all())
        assert everything == (order.status == Order.Status.RETURNED), order.number


# --- The demo scenarios hold in the database ------------------------------------------------------


def test_seeded_events_record_what_the_services_record(seeded):
    from catalog.services import ORDER_EVENT_DATA_KEYS

    kinds = Counter()
    for event in OrderEvent.objects.exclude(type=OrderEvent.Type.NOTE):
        assert set(event.data) == set(ORDER_EVENT_DATA_KEYS[event.type]), (event.type, event.data)
        kinds[event.type] += 1
    assert kinds[OrderEvent.Type.CANCELLED] and kinds[OrderEvent.Type.RETURN_REFUNDED]


def test_the_cancellation_e_mail_reads_a_seeded_cancellation(seeded):
    from catalog.emails import order_email_message

    event = OrderEvent.objects.filter(type=OrderEvent.Type.CANCELLED, order__paid_at__isnull=False).select_related("order").first()
    assert event.data["cancellation_fee"] == "0.00" and event.data["was_paid"] is True
    body = order_email_message(order=event.order, kind="cancelled", data=event.data).body
    assert "We will refund your payment of" in body and "You have not been charged" not in body


def test_demo_orders_belong_to_the_fixed_demo_customer(demo):
    assert {item["email"] for item in demo.values()} == {DEMO_EMAIL}
    assert len({item["number"] for item in demo.values()}) == len(SCENARIOS)
    assert Customer.objects.filter(email=DEMO_EMAIL).exists()


def test_scenario_unshipped_can_be_cancelled(demo):
    order = Order.objects.get(number=demo["unshipped"]["number"])
    assert order.status in (Order.Status.PAID, Order.Status.PROCESSING)
    assert not order.tracking_number
    assert selectors.order_cancellation_refusal(order=order) is None
    assert selectors.order_address_change_refusal(order=order) is None


def test_scenario_shipped_has_tracking(demo):
    order = Order.objects.get(number=demo["shipped"]["number"])
    assert order.status == Order.Status.SHIPPED
    assert order.tracking_number and order.tracking_number == demo["shipped"]["tracking_number"]
    assert order.carrier and order.estimated_delivery and order.estimated_delivery >= timezone.localdate()


def test_scenario_delivered_returnable_is_inside_the_window_with_returnable_lines(demo):
    order = Order.objects.get(number=demo["delivered_returnable"]["number"])
    assert order.status == Order.Status.DELIVERED
    assert timezone.now() - order.delivered_at < timedelta(days=ShopPolicy.current().return_window_days)
    assert not order.returns.exists()
    eligibility = selectors.return_eligibility(order=order)
    assert sum(1 for e in eligibility if e.is_returnable) >= 2
    # It also holds one line that can never go back (swimwear), for the "why not" answer.
    assert any(not e.is_returnable for e in eligibility)


def test_scenario_delivered_not_returnable_is_outside_the_window(demo):
    order = Order.objects.get(number=demo["delivered_not_returnable"]["number"])
    assert order.status == Order.Status.DELIVERED
    assert timezone.now() - order.delivered_at > timedelta(days=ShopPolicy.current().return_window_days)
    assert not any(e.is_returnable for e in selectors.return_eligibility(order=order))


def test_scenario_cancelled(demo):
    order = Order.objects.get(number=demo["cancelled"]["number"])
    assert order.status == Order.Status.CANCELLED and order.cancelled_at and not order.shipped_at


def test_scenario_return_in_progress_has_an_open_return(demo):
    order = Order.objects.get(number=demo["return_in_progress"]["number"])
    open_returns = order.returns.filter(status__in=[ReturnRequest.Status.REQUESTED, ReturnRequest.Status.APPROVED])
    assert open_returns.count() == 1
    ret = open_returns.get()
    assert ret.refund_amount == sum(rl.order_line.unit_price * rl.quantity for rl in ret.lines.all()) > 0


# --- Staff logins ---------------------------------------------------------------------------------


def test_admin_and_agents_can_log_in_with_the_printed_passwords(seeded):
    User = get_user_model()
    request = RequestFactory().post("/admin/login/")  # the sign-in throttling (django-axes) needs the request
    admin = authenticate(request, username="admin", password="admin-demo-2026")
    assert admin is not None and admin.is_superuser and admin.is_staff
    for login in seeded["data"]["agents"]:
        user = authenticate(request, username=login["username"], password=login["password"])
        assert user is not None, login["username"]
        assert user.is_staff and user.is_active and not user.is_superuser
        assert user.groups.filter(name="Support agents").exists()
    assert User.objects.filter(groups__name="Support agents").count() == 3


def test_the_demo_customer_signs_in_with_the_printed_password_and_has_the_demo_orders(seeded):
    shopper = seeded["data"]["shopper"]
    assert shopper == {"email": DEMO_EMAIL, "password": "alex-demo-2026"}
    user = authenticate(RequestFactory().post("/account/sign-in/"), username=DEMO_EMAIL, password=shopper["password"])
    assert user is not None and not user.is_staff
    demo_numbers = {item["number"] for item in seeded["data"]["demo_orders"]}
    assert demo_numbers <= set(selectors.orders_for_user(user=user).values_list("number", flat=True))


# --- Running it again -------------------------------------------------------------------------------


def test_a_second_run_keeps_the_current_demo_shop(seeded):
    before = state_fingerprint()
    stdout, stderr = run_seed("--json")
    assert json.loads(stdout) == seeded["data"]
    assert "Keeping the existing demo shop" in stderr
    assert state_fingerprint() == before


def test_reset_recreates_the_same_shop(seeded):
    before = state_fingerprint()
    stdout, stderr = run_seed("--json", "--reset")
    assert "Creating the demo shop" in stderr
    assert json.loads(stdout) == seeded["data"]
    assert state_fingerprint() == before


def test_a_broken_scenario_makes_the_next_run_recreate_the_shop(demo):
    # An agent cancelled the unshipped demo order during a demo: the next run restores it.
    Order.objects.filter(number=demo["unshipped"]["number"]).update(status=Order.Status.CANCELLED)
    stdout, stderr = run_seed("--json")
    assert "no longer hold: unshipped" in stderr
    restored = {item["scenario"]: item for item in json.loads(stdout)["demo_orders"]}
    assert restored["unshipped"]["number"] == demo["unshipped"]["number"]
    assert Order.objects.get(number=demo["unshipped"]["number"]).status == Order.Status.PAID


def test_it_refuses_to_wipe_data_that_is_not_demo_data(seeded):
    Customer.objects.create(email="someone@realmail.de", name="A Real Shopper")
    orders = Order.objects.count()
    with pytest.raises(CommandError, match="not demo data"):
        run_seed("--reset")
    assert Order.objects.count() == orders
    assert Customer.objects.filter(email="someone@realmail.de").exists()


@pytest.mark.parametrize(
    "make_row, named",
    [
        (lambda: get_user_model().objects.create_user("owner", password="x" * 20), "users owner"),
        (lambda: Product.objects.create(category=Category.objects.first(), name="Real Coat", slug="real-coat", price=Decimal("99")), "products real-coat"),
        (lambda: Article.objects.create(slug="our-own-faq", title="FAQ", topic=Article.objects.first().topic, body="Text."), "help articles our-own-faq"),
    ],
    ids=["user", "product", "article"],
)
def test_it_refuses_to_recreate_the_shop_over_rows_it_did_not_make(seeded, make_row, named):
    make_row()
    before = state_fingerprint()
    with pytest.raises(CommandError, match=f"not demo data.*{named}"):
        run_seed("--reset")
    assert state_fingerprint() == before


def test_with_debug_off_it_refuses_to_run_at_all_unless_forced(seeded, settings):
    settings.DEBUG = False
    get_user_model().objects.filter(username="admin").update(password="!")  # a production admin
    with pytest.raises(CommandError, match="DEBUG is off"):
        run_seed()
    assert get_user_model().objects.get(username="admin").password == "!"  # no demo password set
    stdout, stderr = run_seed("--json", "--force")
    assert "Keeping the existing demo shop" in stderr
    assert authenticate(RequestFactory().post("/admin/login/"), username="admin", password="admin-demo-2026") is not None


def test_force_recreates_the_shop_over_other_rows(seeded):
    Product.objects.create(category=Category.objects.first(), name="Real Coat", slug="real-coat", price=Decimal("99"))
    stdout, stderr = run_seed("--json", "--reset", "--force")
    assert json.loads(stdout) == seeded["data"]
    assert not Product.objects.filter(slug="real-coat").exists()


def test_the_human_summary_lists_demo_orders_and_logins(demo):
    stdout, _ = run_seed()
    for item in demo.values():
        assert f"#{item['number']}" in stdout
    assert "admin / admin-demo-2026" in stdout
    assert "anna / anna-demo-2026" in stdout
    assert DEMO_EMAIL in stdout


# --- Bad article files --------------------------------------------------------------------------


def test_bad_article_files_get_a_clear_error(tmp_path):
    cases = {
        "no-front-matter.md": "Just text.",
        "bad-topic.md": "---\ntitle: X\ntopic: gossip\n---\nBody.",
        "no-title.md": "---\ntopic: returns\n---\nBody.",
        "Bad_Name.md": "---\ntitle: X\ntopic: returns\n---\nBody.",
        "empty-body.md": "---\ntitle: X\ntopic: returns\n---\n\n",
    }
    for name, text in cases.items():
        path = tmp_path / name
        path.write_text(text, encoding="utf-8")
        with pytest.raises(CommandError, match=re.escape(name)):
            parse_article(path)
    good = tmp_path / "good-one.md"
    good.write_text("---\ntitle: Good\ntopic: returns\ntags: [a, b]\n---\nFirst\nline.\n\n- one\n- two\n", encoding="utf-8")
    assert parse_article(good) == {
        "slug": "good-one", "title": "Good", "topic": "returns", "tags": "a, b", "body": "First line.\n\n- one\n- two",
    }


def test_the_demo_shop_is_in_japanese_too(seeded):
    from catalog.models import ArticleTranslation, CategoryTranslation, ProductTranslation
    from catalog.translations import article_text, localize

    assert ProductTranslation.objects.filter(language="ja").count() == Product.objects.count()
    assert CategoryTranslation.objects.filter(language="ja").count() == Category.objects.count()
    assert ArticleTranslation.objects.filter(language="ja").count() == Article.objects.count()
    # every product name and article title is Japanese text, not the English copied over
    kana_or_kanji = re.compile(r"[\u3040-\u30ff\u4e00-\u9fff]")
    assert all(kana_or_kanji.search(t.name) for t in ProductTranslation.objects.all())
    assert all(kana_or_kanji.search(t.title) and kana_or_kanji.search(t.body) for t in ArticleTranslation.objects.all())
    jumper = localize(Product.objects.filter(name="Merino Crew-Neck Jumper").select_related("category"), "ja")[0]
    assert (jumper.name, jumper.category.name) == ("メリノ クルーネックセーター", "ニット")
    assert article_text(Article.objects.get(slug="delivery-times"), "ja")["title"] == "商品はいつ届きますか？"


def test_a_translation_of_something_not_in_the_demo_gets_a_clear_error(tmp_path):
    import shutil

    from catalog.management.commands.seed_demo import DEMO_DIR, load_demo_data

    demo = tmp_path / "demo"
    shutil.copytree(DEMO_DIR, demo)
    (demo / "translations" / "ja" / "articles" / "no-such-article.md").write_text("---\ntitle: ない\n---\n本文。\n", encoding="utf-8")
    with pytest.raises(CommandError, match="no-such-article"):
        load_demo_data(demo)
