from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from catalog.models import Article, Order, ShopPolicy
from tests.factories import (
    ArticleFactory,
    CategoryFactory,
    OrderFactory,
    OrderLineFactory,
    ProductFactory,
    ShippingMethodFactory,
    VariantFactory,
)

SHOPPER = "sam.shopper@example.com"


@pytest.fixture
def shop_with_kb(db):
    """A small shop: products with stock (one sold out), shipping, articles and orders in each state."""
    shirts = CategoryFactory(name="Shirts", slug="shirts")
    swim = CategoryFactory(name="Swimwear", slug="swimwear")
    policy = ShopPolicy.current()
    policy.non_returnable_categories.add(swim)
    ShippingMethodFactory(code="standard", name="Standard (DHL)", countries=["DE", "AT", "NL"], price=Decimal("4.90"))
    ShippingMethodFactory(
        code="express", name="Express (UPS)", carrier="UPS", countries=["DE"], price=Decimal("12.90"), free_over=None, min_days=1, max_days=1
    )
    shirt = ProductFactory(category=shirts, name="Linen Camp Shirt", slug="linen-camp-shirt", price=Decimal("59.00"))
    for colour, size, stock in [("Blue", "M", 3), ("Blue", "L", 0), ("White", "M", 12)]:
        VariantFactory(product=shirt, colour=colour, size=size, stock=stock, sku=f"LCS-{colour[:2].upper()}-{size}")
    trunks = ProductFactory(category=swim, name="Swim Trunks", slug="swim-trunks", price=Decimal("35.00"))
    VariantFactory(product=trunks, colour="Navy", size="M", stock=5, sku="ST-NV-M")
    ArticleFactory(
        title="Payment methods",
        slug="payment-methods",
        topic=Article.Topic.PAYMENTS,
        body="We accept Visa, Mastercard, American Express, PayPal, Apple Pay and Klarna invoice.\n\n"
        "Your card is charged when the order ships.",
    )
    ArticleFactory(
        title="Returns and refunds",
        slug="returns-and-refunds",
        topic=Article.Topic.RETURNS,
        body="You can return unworn items within 30 days of delivery for a full refund.\n\n"
        "Refunds reach your original payment method within 5 business days after we receive the parcel.",
    )
    now = timezone.now()
    orders = {
        "unshipped": OrderFactory(number="20001", email=SHOPPER, paid=True),
        "shipped": OrderFactory(number="20002", email=SHOPPER, shipped=True, estimated_delivery=(now + timedelta(days=2)).date()),
        "delivered_returnable": OrderFactory(number="20003", email=SHOPPER, delivered=True),
        "delivered_old": OrderFactory(
            number="20004",
            email=SHOPPER,
            delivered=True,
            placed_at=now - timedelta(days=80),
            paid_at=now - timedelta(days=80),
            shipped_at=now - timedelta(days=79),
            delivered_at=now - timedelta(days=70),
        ),
    }
    for order in orders.values():
        OrderLineFactory(order=order, variant=shirt.variants.get(colour="White"), quantity=2)
    return {"orders": orders, "email": SHOPPER, "shirt": shirt, "status": Order.Status}
