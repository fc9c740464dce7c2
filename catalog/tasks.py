"""Side effects of the shop's services, run by Celery after the change has been committed.

Tasks take ids and plain values and re-fetch what they need: the row may have changed (or
gone) between the commit and the moment a worker picks the task up.
"""

from __future__ import annotations

import logging

from celery import shared_task
from django.conf import settings
from django.core.mail import send_mail
from django.utils import timezone, translation

from .emails import EMAIL_KINDS, order_email_message
from .models import Order, OrderEvent, ReturnRequest

logger = logging.getLogger(__name__)


def _language(language: str | None) -> str:
    """The language a mail is written in: the one the shopper used (passed by whoever queued
    it), else the shop's default. A code the shop does not serve falls back to the default."""
    return language if language in settings.SHOP_LANGUAGES else settings.LANGUAGE_CODE

# SMTP failures and network trouble are worth retrying (smtplib.SMTPException is an OSError).
MAIL_RETRIES = {
    "autoretry_for": (OSError,),
    "retry_backoff": 15,
    "retry_backoff_max": 15 * 60,
    "retry_jitter": True,
    "max_retries": 6,
    "soft_time_limit": 30,
    "time_limit": 60,
}


@shared_task(
    bind=True,
    # Idempotent when given the event that caused it (see below), so a message redelivered after
    # a worker crash does not e-mail the shopper twice.
    acks_late=True,
    **MAIL_RETRIES,
)
def send_order_email(
    self,
    order_id: int,
    kind: str,
    return_request_id: int | None = None,
    event_id: int | None = None,
    data: dict | None = None,
    language: str | None = None,
) -> str:
    """E-mail the shopper about a change to their order; returns "sent", "already_sent" or "missing".

    With ``event_id`` (the OrderEvent that recorded the change) the task marks the event once the
    e-mail is out and does nothing when it runs again for the same event. ``data`` holds the
    details of an e-mail without an event (a verification code). ``language``: the shopper's
    (the conversation's or the page's) language, else the shop's default.
    """
    if kind not in EMAIL_KINDS:
        raise ValueError(f"unknown order e-mail kind {kind!r}")
    order = Order.objects.filter(pk=order_id).first()
    if order is None:
        logger.warning("send_order_email: order %s no longer exists; %s e-mail not sent", order_id, kind)
        return "missing"
    event = OrderEvent.objects.filter(pk=event_id, order=order).first() if event_id is not None else None
    if event is not None and event.data.get("email_sent_at"):
        return "already_sent"
    return_request = None
    if return_request_id is not None:
        return_request = ReturnRequest.objects.filter(pk=return_request_id, order=order).first()
        if return_request is None:
            logger.warning("send_order_email: return %s of order %s is gone; %s e-mail not sent", return_request_id, order.number, kind)
            return "missing"

    with translation.override(_language(language)):
        message = order_email_message(order=order, kind=kind, return_request=return_request, data=event.data if event else data)
    # No transaction is held while talking to the mail server: with SQLite that would block
    # every other writer for as long as the server takes.
    send_mail(message.subject, message.body, None, [message.to], fail_silently=False)

    if event is not None:
        data = {**event.data, "email_sent_at": timezone.now().isoformat(), "email_kind": kind}
        OrderEvent.objects.filter(pk=event.pk).update(data=data)
    logger.info("send_order_email: %s e-mail for order %s sent", kind, order.number)
    return "sent"


# Not acks_late: nothing records that the mail went out, so a redelivery would send it twice.
@shared_task(**MAIL_RETRIES)
def send_newsletter_email(email: str, kind: str, language: str | None = None) -> str:
    """A newsletter e-mail (confirmation link, unsubscribe link) to ``email``; returns "sent"."""
    from .newsletter import newsletter_email_message

    with translation.override(_language(language)):
        message = newsletter_email_message(email=email, kind=kind)
    message.send(fail_silently=False)
    logger.info("send_newsletter_email: %s e-mail sent", kind)
    return "sent"


@shared_task(**MAIL_RETRIES)
def send_account_email(user_id: int, kind: str, language: str | None = None) -> str:
    """An account e-mail ("verify": the link that confirms its address); "sent" or "missing"."""
    from django.contrib.auth import get_user_model

    from .accounts import verify_email_message

    if kind != "verify":
        raise ValueError(f"unknown account e-mail kind {kind!r}")
    user = get_user_model().objects.filter(pk=user_id, is_active=True).first()
    if user is None or not user.email:
        return "missing"
    with translation.override(_language(language)):
        message = verify_email_message(user=user)
    message.send(fail_silently=False)
    logger.info("send_account_email: %s e-mail sent", kind)
    return "sent"
