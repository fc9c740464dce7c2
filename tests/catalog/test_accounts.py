"""Shopper accounts: sign-up and its e-mail confirmation, sign in and out, password reset, and
"My orders" (only the account's own orders, their returns and invoices)."""

import re

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.test import TestCase
from django.urls import reverse

from catalog import services
from catalog.models import Customer, ReturnRequest
from tests.catalog.conftest import make_order
from tests.factories import CategoryFactory, ProductFactory, UserFactory, VariantFactory

PASSWORD = "plum-harbour-4417"
pytestmark = pytest.mark.django_db


def _link(message) -> str:
    return re.search(r"https?://[^/\s]+(/\S+)", message.body).group(1)


def _sign_up(client, email="shopper@example.com"):
    with TestCase.captureOnCommitCallbacks(execute=True):  # the mail goes out after the commit
        return client.post(reverse("catalog:sign_up"), {"email": email, "password1": PASSWORD, "password2": PASSWORD})


def _as_guest(*orders):
    """Placed without an account: no customer record yet, only the order's e-mail."""
    for order in orders:
        order.customer = None
        order.save(update_fields=["customer"])


def _confirmed_account(email="owner@example.com"):
    user = UserFactory(username=email, email=email, password=PASSWORD)
    services.customer_link_account(user=user, email=email)
    return user


def test_sign_up_then_the_mailed_link_brings_the_guest_orders_of_that_address_into_my_orders(client, paid_order):
    _as_guest(paid_order)  # placed as "Shopper@Example.com" (another case)
    response = _sign_up(client, "shopper@example.com")
    assert response.status_code == 302
    assert [m.to for m in mail.outbox] == [["shopper@example.com"]]
    assert "10234" not in client.get(reverse("catalog:my_orders")).content.decode()

    link = _link(mail.outbox[0])
    assert client.get(link).status_code == 200  # asks: a mail scanner opening it confirms nothing
    assert not Customer.objects.filter(user__username="shopper@example.com").exists()
    assert client.post(link).status_code == 200

    page = client.get(reverse("catalog:my_orders")).content.decode()
    assert "10234" in page
    paid_order.refresh_from_db()
    assert paid_order.customer.user.username == "shopper@example.com"


def test_an_unconfirmed_account_sees_no_orders_of_its_address(client, paid_order):
    _sign_up(client, "shopper@example.com")
    page = client.get(reverse("catalog:my_orders")).content.decode()
    assert "10234" not in page
    assert "confirm your e-mail address" in page
    assert client.get(reverse("catalog:my_order", args=["10234"])).status_code == 404


def test_a_confirmation_link_that_was_tampered_with_confirms_nothing(client, paid_order):
    _sign_up(client, "shopper@example.com")
    link = _link(mail.outbox[0])
    assert client.post(link[:-3] + "xyz/").status_code == 400
    assert not Customer.objects.filter(user__isnull=False).exists()


def test_sign_up_with_an_address_that_has_an_account_is_refused(client):
    UserFactory(username="taken@example.com", email="taken@example.com")
    response = _sign_up(client, "Taken@Example.com")
    assert response.status_code == 200
    assert "already an account" in response.content.decode()
    assert get_user_model().objects.filter(email__iexact="taken@example.com").count() == 1


def test_sign_in_and_sign_out(client):
    _confirmed_account("owner@example.com")
    response = client.post(reverse("catalog:sign_in"), {"username": "Owner@example.com", "password": PASSWORD})
    assert response.status_code == 302 and response["Location"] == reverse("catalog:my_orders")
    assert "Sign out" in client.get(reverse("catalog:home")).content.decode()
    assert client.get(reverse("catalog:sign_out")).status_code == 405  # sign-out is a POST (a link can't sign you out)
    client.post(reverse("catalog:sign_out"))
    response = client.get(reverse("catalog:my_orders"))
    assert response.status_code == 302 and response["Location"].startswith(reverse("catalog:sign_in"))


def test_a_wrong_password_does_not_sign_in(client):
    _confirmed_account("owner@example.com")
    response = client.post(reverse("catalog:sign_in"), {"username": "owner@example.com", "password": "wrong-password-1"})
    assert response.status_code == 200
    assert client.get(reverse("catalog:my_orders")).status_code == 302


def test_password_reset_mails_a_link_that_sets_a_new_password(client):
    _confirmed_account("owner@example.com")
    with TestCase.captureOnCommitCallbacks(execute=True):
        client.post(reverse("catalog:password_reset"), {"email": "owner@example.com"})
    assert len(mail.outbox) == 1 and mail.outbox[0].to == ["owner@example.com"]
    link = _link(mail.outbox[0])
    form_url = client.get(link)["Location"]  # Django swaps the token for a session-held one
    response = client.post(form_url, {"new_password1": "new-tulip-garden-93", "new_password2": "new-tulip-garden-93"})
    assert response.status_code == 302
    response = client.post(reverse("catalog:sign_in"), {"username": "owner@example.com", "password": "new-tulip-garden-93"})
    assert response.status_code == 302
    assert client.get(reverse("catalog:my_orders")).status_code == 200


def test_my_orders_shows_only_the_accounts_own_orders(client, paid_order, delivered_order):
    _as_guest(paid_order, delivered_order)
    user = _confirmed_account("buyer@example.com")  # delivered_order's address
    client.force_login(user)
    page = client.get(reverse("catalog:my_orders")).content.decode()
    assert "20234" in page and "10234" not in page
    assert client.get(reverse("catalog:my_order", args=["10234"])).status_code == 404
    assert client.get(reverse("catalog:my_order_invoice", args=["10234"])).status_code == 404
    assert client.post(reverse("catalog:my_order_return", args=["10234"]), {"line": []}).status_code == 404
    detail = client.get(reverse("catalog:my_order", args=["20234"])).content.decode()
    assert "JJD000390008" in detail and "Start a return" in detail
    invoice = client.get(reverse("catalog:my_order_invoice", args=["20234"]))
    assert invoice.status_code == 200 and "Invoice" in invoice.content.decode()


def test_order_detail_shows_no_carrier_before_the_order_has_one(client, paid_order):
    _as_guest(paid_order)
    client.force_login(_confirmed_account("shopper@example.com"))
    detail = client.get(reverse("catalog:my_order", args=["10234"])).content.decode()
    assert "Carrier" not in detail and "Tracking number" not in detail
    assert "has not shipped yet" in detail  # why nothing can be returned


def test_invoice_page_needs_a_signed_in_owner(client, delivered_order):
    response = client.get(reverse("catalog:my_order_invoice", args=["20234"]))
    assert response.status_code == 302 and response["Location"].startswith(reverse("catalog:sign_in"))


def test_start_a_return_from_my_orders_creates_it(client, delivered_order):
    _as_guest(delivered_order)
    client.force_login(_confirmed_account("buyer@example.com"))
    line = delivered_order.lines.order_by("pk").first()
    response = client.post(reverse("catalog:my_order_return", args=["20234"]), {"line": [line.pk], "reason": "too_small"}, follow=True)
    return_request = ReturnRequest.objects.get(order=delivered_order)
    assert [(rl.order_line_id, rl.quantity) for rl in return_request.lines.all()] == [(line.pk, 2)]
    assert return_request.rma_number in response.content.decode()


def test_start_a_return_refuses_a_non_returnable_item_with_the_reason(client, shipping_method, policy):
    swimwear = CategoryFactory(name="Swimwear", slug="swimwear")
    policy.non_returnable_categories.add(swimwear)
    trunks = VariantFactory(product=ProductFactory(category=swimwear, name="Swim trunks"))
    order = make_order(state="delivered", lines=[(trunks, 1)], number="30234", customer=None, email="buyer@example.com")
    client.force_login(_confirmed_account("buyer@example.com"))
    detail = client.get(reverse("catalog:my_order", args=["30234"])).content.decode()
    assert "Swim trunks cannot be returned" in detail
    line = order.lines.get()
    response = client.post(reverse("catalog:my_order_return", args=["30234"]), {"line": [line.pk], "reason": "too_small"}, follow=True)
    assert "Swim trunks cannot be returned: items from “Swimwear” are not returnable" in response.content.decode()
    assert not ReturnRequest.objects.filter(order=order).exists()


def test_a_confirmed_address_already_linked_to_another_account_is_refused(db):
    first = _confirmed_account("owner@example.com")
    other = UserFactory(username="x@example.com", email="owner@example.com")
    with pytest.raises(services.ShopError):
        services.customer_link_account(user=other, email="owner@example.com")
    assert Customer.objects.get(email="owner@example.com").user == first


def test_sign_in_is_paused_after_repeated_wrong_passwords_even_with_the_right_one(client, settings):
    _confirmed_account("owner@example.com")
    for _ in range(settings.AXES_FAILURE_LIMIT):
        client.post(reverse("catalog:sign_in"), {"username": "owner@example.com", "password": "wrong-password-1"})
    response = client.post(reverse("catalog:sign_in"), {"username": "owner@example.com", "password": PASSWORD})
    assert response.status_code == 429
    assert "Signing in is paused" in response.content.decode() and reverse("catalog:password_reset") in response.content.decode()
    assert client.get(reverse("catalog:my_orders")).status_code == 302


def test_password_reset_mails_to_one_address_are_limited_and_staff_get_none(client, settings):
    settings.MAIL_LIMIT_PER_ADDRESS = 2
    _confirmed_account("owner@example.com")
    UserFactory(username="boss", email="boss@example.com", is_staff=True)
    with TestCase.captureOnCommitCallbacks(execute=True):
        for _ in range(4):
            assert client.post(reverse("catalog:password_reset"), {"email": "owner@example.com"}).status_code == 302
        client.post(reverse("catalog:password_reset"), {"email": "boss@example.com"})
    assert [m.to for m in mail.outbox] == [["owner@example.com"], ["owner@example.com"]]


def test_sign_up_with_a_weak_password_says_why_and_creates_nothing(client):
    response = client.post(reverse("catalog:sign_up"), {"email": "new@example.com", "password1": "12345678", "password2": "12345678"})
    page = response.content.decode()
    assert response.status_code == 200 and "too common" in page and "entirely numeric" in page
    assert not get_user_model().objects.filter(username="new@example.com").exists()
    assert mail.outbox == []
