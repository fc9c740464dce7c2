from decimal import Decimal

import pytest

from catalog.models import Order, ShopPolicy
from tests.factories import (
    CategoryFactory,
    OrderFactory,
    OrderLineFactory,
    ProductFactory,
    ShippingMethodFactory,
    StaffUserFactory,
    VariantFactory,
)


@pytest.fixture
def policy(db):
    return ShopPolicy.current()


@pytest.fixture
def shipping_method(db):
    return ShippingMethodFactory()


@pytest.fixture
def shirts(db):
    return CategoryFactory(name="Shirts", slug="shirts")


@pytest.fixture
def shirt(shirts):
    """A shirt in two sizes: 10 of M, 4 of L; L costs more."""
    product = ProductFactory(category=shirts, name="Linen shirt", slug="linen-shirt", price=Decimal("49.90"))
    VariantFactory(product=product, sku="SHIRT-BLUE-M", colour="Blue", size="M", stock=10)
    VariantFactory(product=product, sku="SHIRT-BLUE-L", colour="Blue", size="L", stock=4, price_override=Decimal("54.90"))
    return product


def make_order(*, state=None, lines=(), **kwargs) -> Order:
    """An order in ``state`` (a factory trait) with (variant, quantity) lines."""
    traits = {state: True} if state else {}
    order = OrderFactory(**traits, **kwargs)
    for variant, quantity in lines:
        OrderLineFactory(order=order, variant=variant, quantity=quantity)
    order.refresh_from_db()
    return order


@pytest.fixture
def paid_order(shirt, shipping_method):
    """Paid, unshipped: 2 × shirt M and 1 × shirt L, placed by shopper@example.com."""
    m, l = shirt.variants.get(size="M"), shirt.variants.get(size="L")
    return make_order(state="paid", lines=[(m, 2), (l, 1)], number="10234", email="Shopper@Example.com", shipping_method=shipping_method)


@pytest.fixture
def delivered_order(shirt, shipping_method):
    """Delivered two days ago: 2 × shirt M and 1 × shirt L."""
    m, l = shirt.variants.get(size="M"), shirt.variants.get(size="L")
    return make_order(state="delivered", lines=[(m, 2), (l, 1)], number="20234", email="buyer@example.com", shipping_method=shipping_method)


@pytest.fixture
def staff_user(db):
    return StaffUserFactory(username="alice")
