"""factory_boy factories for the shop's rows.

Simple rows come straight from a factory; orders in a later state (shipped, delivered,
returned) are best reached through the services, as a shop would reach them, or with the
traits below when a test only needs the state and not the path to it.
"""

from datetime import timedelta
from decimal import Decimal

import factory
from django.contrib.auth import get_user_model
from django.utils import timezone
from factory.django import DjangoModelFactory

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
    Variant,
)


class UserFactory(DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.com")
    password = factory.django.Password("correct horse battery staple")


class StaffUserFactory(UserFactory):
    username = factory.Sequence(lambda n: f"staff{n}")
    is_staff = True
    is_superuser = True


class CategoryFactory(DjangoModelFactory):
    class Meta:
        model = Category
        django_get_or_create = ("slug",)

    name = factory.Sequence(lambda n: f"Category {n}")
    slug = factory.Sequence(lambda n: f"category-{n}")


class ProductFactory(DjangoModelFactory):
    class Meta:
        model = Product

    category = factory.SubFactory(CategoryFactory)
    name = factory.Sequence(lambda n: f"Linen shirt {n}")
    slug = factory.Sequence(lambda n: f"linen-shirt-{n}")
    description = "A breathable shirt for warm days."
    materials = "100% linen"
    price = Decimal("49.90")


class VariantFactory(DjangoModelFactory):
    class Meta:
        model = Variant

    product = factory.SubFactory(ProductFactory)
    sku = factory.Sequence(lambda n: f"SKU-{n:05d}")
    colour = "Blue"
    size = factory.Sequence(lambda n: f"S{n}")
    stock = 10


class CustomerFactory(DjangoModelFactory):
    class Meta:
        model = Customer

    email = factory.Sequence(lambda n: f"shopper{n}@example.com")
    name = factory.Sequence(lambda n: f"Shopper {n}")


class ShippingMethodFactory(DjangoModelFactory):
    class Meta:
        model = ShippingMethod
        django_get_or_create = ("code",)

    code = "standard"
    name = "Standard delivery"
    carrier = "DHL"
    countries = factory.LazyFunction(lambda: ["DE", "AT", "NL"])
    price = Decimal("4.90")
    free_over = Decimal("50.00")
    min_days = 2
    max_days = 4


class OrderFactory(DjangoModelFactory):
    class Meta:
        model = Order

    class Params:
        # State shortcuts for tests that only need the state, not the path to it.
        paid = factory.Trait(status=Order.Status.PAID, paid_at=factory.LazyFunction(timezone.now))
        processing = factory.Trait(status=Order.Status.PROCESSING, paid_at=factory.LazyFunction(timezone.now))
        shipped = factory.Trait(
            status=Order.Status.SHIPPED,
            paid_at=factory.LazyFunction(lambda: timezone.now() - timedelta(days=3)),
            shipped_at=factory.LazyFunction(lambda: timezone.now() - timedelta(days=2)),
            carrier="DHL",
            tracking_number="JJD000390007",
        )
        delivered = factory.Trait(
            status=Order.Status.DELIVERED,
            paid_at=factory.LazyFunction(lambda: timezone.now() - timedelta(days=5)),
            shipped_at=factory.LazyFunction(lambda: timezone.now() - timedelta(days=4)),
            delivered_at=factory.LazyFunction(lambda: timezone.now() - timedelta(days=2)),
            carrier="DHL",
            tracking_number="JJD000390008",
        )

    number = factory.Sequence(lambda n: f"{10000 + n}")
    customer = factory.SubFactory(CustomerFactory)
    email = factory.LazyAttribute(lambda o: o.customer.email if o.customer else "guest@example.com")
    status = Order.Status.PENDING
    currency = "EUR"
    subtotal = Decimal("0.00")
    shipping_price = Decimal("4.90")
    total = Decimal("4.90")
    payment_method = "card"
    placed_at = factory.LazyFunction(lambda: timezone.now() - timedelta(days=6))
    shipping_method = factory.SubFactory(ShippingMethodFactory)
    ship_name = factory.LazyAttribute(lambda o: o.customer.name if o.customer else "Guest Shopper")
    ship_line1 = "Hauptstraße 5"
    ship_city = "Berlin"
    ship_postcode = "10115"
    ship_country = "DE"


class OrderLineFactory(DjangoModelFactory):
    """A line snapshotting its variant; the order's totals are kept in step."""

    class Meta:
        model = OrderLine
        skip_postgeneration_save = True

    order = factory.SubFactory(OrderFactory)
    variant = factory.SubFactory(VariantFactory)
    product_name = factory.LazyAttribute(lambda o: o.variant.product.name if o.variant else "Discontinued item")
    variant_label = factory.LazyAttribute(lambda o: o.variant.label if o.variant else "")
    sku = factory.LazyAttribute(lambda o: o.variant.sku if o.variant else "OLD-0001")
    category_slug = factory.LazyAttribute(lambda o: o.variant.product.category.slug if o.variant else "")
    unit_price = factory.LazyAttribute(lambda o: o.variant.price if o.variant else Decimal("10.00"))
    quantity = 1

    @factory.post_generation
    def update_order_totals(obj, create, extracted, **kwargs):
        if not create:
            return
        order = obj.order
        order.subtotal = sum((line.line_total for line in order.lines.all()), Decimal("0.00"))
        order.total = order.subtotal + order.shipping_price
        order.save(update_fields=["subtotal", "total"])


class ReturnRequestFactory(DjangoModelFactory):
    class Meta:
        model = ReturnRequest

    order = factory.SubFactory(OrderFactory, delivered=True)
    rma_number = factory.Sequence(lambda n: f"RMA-{900000 + n}")
    reason = ReturnRequest.Reason.TOO_SMALL


class ReturnLineFactory(DjangoModelFactory):
    class Meta:
        model = ReturnLine

    return_request = factory.SubFactory(ReturnRequestFactory)
    order_line = factory.SubFactory(OrderLineFactory, order=factory.SelfAttribute("..return_request.order"))
    quantity = 1


class OrderEventFactory(DjangoModelFactory):
    class Meta:
        model = OrderEvent

    order = factory.SubFactory(OrderFactory)
    type = OrderEvent.Type.NOTE
    actor = "system"
    message = "A note"


class ArticleFactory(DjangoModelFactory):
    class Meta:
        model = Article

    title = factory.Sequence(lambda n: f"How returns work {n}")
    slug = factory.Sequence(lambda n: f"how-returns-work-{n}")
    topic = Article.Topic.RETURNS
    tags = "returns, refund"
    body = "You can return most items within 30 days of delivery.\n\nStart a return in the chat."
