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


def test_the_verification_code_email_says_what_it_confirms_and_nothing_else(paid_order, mailoutbox):
    data = {"code": "042917", "action": "change_address", "minutes": 10}
    assert send_order_email(paid_order.pk, "verification_code", data=data) == "sent"
    [message] = mailoutbox
    assert message.to == [paid_order.email] and message.subject == "Northwind & Co.: your code for order 10234"
    assert "\n  042917\n" in message.body and "change the delivery address of your order 10234" in message.body
    assert "valid for 10 minutes" in message.body


def test_the_verification_code_email_refuses_to_go_without_its_code(paid_order, mailoutbox):
    with pytest.raises(ValueError, match="6-digit code"):
        send_order_email(paid_order.pk, "verification_code", data={"code": "<a href=x>", "action": "cancel"})
    assert mailoutbox == []


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


@pytest.mark.realstack
@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_a_real_worker_sends_the_cancellation_email_after_commit(require_real_stack, settings, shirt, shipping_method):
    """PostgreSQL + Redis + a Celery worker process: the e-mail task is enqueued only on commit,
    runs in the worker, and marks its event as sent."""
    import time

    from django.db import connection

    from support.celery import app as celery_app
    from tests.catalog.conftest import make_order
    from tests.support import stack

    s = connection.settings_dict
    auth = s["USER"] + (f":{s['PASSWORD']}" if s["PASSWORD"] else "")
    env = stack.stack_env(
        database_url=f"postgres://{auth}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}", redis_url=settings.REDIS_URL
    )
    previous = celery_app.conf.task_default_queue, celery_app.conf.task_always_eager
    celery_app.conf.task_default_queue, celery_app.conf.task_always_eager = env["CELERY_QUEUE"], False
    worker = stack.start_worker(env)
    try:
        order = make_order(state="paid", lines=[(shirt.variants.get(size="M"), 1)], shipping_method=shipping_method)
        services.order_cancel(order=order, actor="shopper")
        event = OrderEvent.objects.get(order=order, type=OrderEvent.Type.CANCELLED)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not event.data.get("email_sent_at"):
            time.sleep(0.2)
            event.refresh_from_db()
        assert event.data.get("email_kind") == "cancelled", stack.tail(worker)
    finally:
        stack.stop(worker)
        celery_app.conf.task_default_queue, celery_app.conf.task_always_eager = previous
