import smtplib

import pytest
from django.core import mail
from django.core.mail.backends.locmem import EmailBackend

from catalog import services
from catalog.models import OrderEvent
from catalog.tasks import send_order_email

pytestmark = pytest.mark.django_db


class FlakyBackend(EmailBackend):
    """The locmem backend behind a mail server that refuses the first ``failures`` sends."""

    failures = 0
    attempts = 0

    def send_messages(self, messages):
        FlakyBackend.attempts += 1
        if FlakyBackend.attempts <= FlakyBackend.failures:
            raise smtplib.SMTPServerDisconnected("connection unexpectedly closed")
        return super().send_messages(messages)


@pytest.fixture
def flaky_mail(settings):
    settings.EMAIL_BACKEND = "tests.catalog.test_tasks.FlakyBackend"
    FlakyBackend.attempts = 0
    FlakyBackend.failures = 0
    mail.outbox = []
    return FlakyBackend


def test_send_order_email_sends_the_shipped_email(paid_order, mailoutbox):
    assert send_order_email(paid_order.pk, "shipped") == "sent"
    [message] = mailoutbox
    assert message.to == [paid_order.email]
    assert message.subject == "Northwind & Co.: order 10234 is on its way"
    assert message.body.startswith(f"Hello {paid_order.ship_name},")
    assert "support@northwind.example" in message.body


def test_send_order_email_is_idempotent_per_event(paid_order, mailoutbox):
    event = OrderEvent.objects.create(order=paid_order, type=OrderEvent.Type.CANCELLED, actor="shopper", data={"was_paid": True})
    assert send_order_email(paid_order.pk, "cancelled", event_id=event.pk) == "sent"
    # A redelivered message (acks_late after a worker crash) must not e-mail twice.
    assert send_order_email(paid_order.pk, "cancelled", event_id=event.pk) == "already_sent"
    assert len(mailoutbox) == 1
    event.refresh_from_db()
    assert event.data["email_kind"] == "cancelled" and event.data["email_sent_at"]
    assert event.data["was_paid"] is True  # the event's own details are kept


def test_send_order_email_for_a_deleted_order_does_nothing(paid_order, mailoutbox):
    order_id = paid_order.pk
    paid_order.delete()
    assert send_order_email(order_id, "cancelled") == "missing"
    assert mailoutbox == []


def test_send_order_email_refuses_an_unknown_kind(paid_order):
    with pytest.raises(ValueError):
        send_order_email(paid_order.pk, "birthday")


def test_return_emails_need_their_return_request(paid_order):
    with pytest.raises(ValueError):
        send_order_email(paid_order.pk, "return_created")


def test_send_order_email_retries_when_the_mail_server_fails(paid_order, flaky_mail):
    flaky_mail.failures = 2
    result = send_order_email.apply(args=(paid_order.pk, "shipped"))
    assert result.successful(), result.traceback
    assert flaky_mail.attempts == 3
    assert len(mail.outbox) == 1


def test_send_order_email_gives_up_after_its_retries(paid_order, flaky_mail):
    flaky_mail.failures = 100
    result = send_order_email.apply(args=(paid_order.pk, "shipped"))
    assert result.failed()
    assert flaky_mail.attempts == send_order_email.max_retries + 1
    assert mail.outbox == []


def test_a_failing_mail_server_does_not_undo_the_cancellation(paid_order, flaky_mail, django_capture_on_commit_callbacks):
    flaky_mail.failures = 100
    with django_capture_on_commit_callbacks(execute=True):
        order = services.order_cancel(order=paid_order, actor="shopper")
    order.refresh_from_db()
    assert order.status == "cancelled"


def test_task_options_fit_the_team_rules():
    assert send_order_email.acks_late is True
    assert send_order_email.time_limit and send_order_email.soft_time_limit
    assert send_order_email.max_retries >= 3
