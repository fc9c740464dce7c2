"""The shop's words in the shopper's language: refusals, e-mails, dates and lists follow the
active language (the chat's conversation language, the page's language), English stays as it was."""

from datetime import date

import pytest
from django.core import mail
from django.utils import translation

from catalog import selectors, services
from catalog.errors import InvalidAddress, OrderNotCancellable
from catalog.money import list_format
from catalog.tasks import send_order_email

pytestmark = pytest.mark.django_db


def test_a_cancel_asked_in_japanese_is_confirmed_by_e_mail_in_japanese(paid_order, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True), translation.override("ja"):
        services.order_cancel(order=paid_order, actor="shopper")
    message = mail.outbox[-1]
    assert "ご注文 10234 のキャンセルが完了しました" in message.subject
    assert "ご依頼のとおり、ご注文 10234 をキャンセルいたしました。" in message.body
    assert "cancelled" not in message.body


def test_the_same_cancel_without_a_language_is_in_english(paid_order, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        services.order_cancel(order=paid_order, actor="staff:alice")
    assert "order 10234 has been cancelled" in mail.outbox[-1].subject


def test_a_shipped_e_mail_in_japanese_writes_the_date_the_japanese_way(paid_order):
    paid_order.carrier, paid_order.estimated_delivery = "DHL", date(2026, 12, 3)
    paid_order.save(update_fields=["carrier", "estimated_delivery"])
    assert send_order_email(paid_order.pk, "shipped", language="ja") == "sent"
    body = mail.outbox[-1].body
    assert "お届け予定日：2026年12月3日（木曜日）" in body and "配送業者：DHL" in body
    assert send_order_email(paid_order.pk, "shipped") == "sent"
    assert "Expected delivery: Thursday, 03 December 2026" in mail.outbox[-1].body


def test_a_language_the_shop_does_not_serve_falls_back_to_the_default(paid_order):
    send_order_email(paid_order.pk, "shipped", language="xx")
    assert "is on its way" in mail.outbox[-1].subject


def test_refusals_are_raised_in_the_active_language(delivered_order):
    with translation.override("ja"):
        with pytest.raises(OrderNotCancellable) as refused:
            services.order_cancel(order=delivered_order, actor="shopper")
        assert refused.value.message.startswith("ご注文 ")
        with pytest.raises(InvalidAddress) as invalid:
            services.address_clean(address={"name": "山田 太郎", "line1": "", "city": "", "postcode": "100-0001", "country": "JP"})
        assert "番地、市区町村" in invalid.value.message  # the missing fields, listed the Japanese way
    with pytest.raises(OrderNotCancellable) as refused:
        services.order_cancel(order=delivered_order, actor="shopper")
    assert refused.value.message.startswith("Order ")


def test_lists_follow_the_locale_and_keep_the_shops_british_english():
    assert list_format(["a", "b", "c"]) == "a, b and c"
    with translation.override("ja"):
        assert list_format(["名前", "市区町村"]) == "名前、市区町村"


def test_a_return_refusal_names_its_last_day_in_the_active_language(delivered_order):
    delivered_order.delivered_at = delivered_order.delivered_at.replace(year=2020)
    delivered_order.save(update_fields=["delivered_at"])
    with translation.override("ja"):
        reason = selectors.return_eligibility(order=delivered_order)[0].reason
    assert "2020年" in reason and "日に終了したため" in reason
