"""The desk's e-mails: the follow-up confirmation (after hours), the claim reminder to an agent,
the transcript after a resolution. Each goes out at most once, through `mail_send_once`."""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils import translation
from django.utils.translation import gettext as _

from bot.conversations import transcript

from . import selectors
from .desk import conversation_language
from .models import Escalation, FollowUpTicket


def mail_send_once(*, model, pk: int, stamp: str, compose: Callable) -> bool:
    """Send one e-mail about a row at most once; `stamp` is the row's "sent at" field.

    `compose(row)` reads the row (locked) and returns (subject, body, recipient), or None when
    nothing is to be sent. The row is stamped and the lock released before the mail server is
    called, so no transaction waits on it and two workers never both send; a failed send takes
    the stamp back and raises, and the task's retry sends it then. Returns whether a mail went out.
    """
    with transaction.atomic():
        row = model.objects.select_for_update(of=("self",)).filter(pk=pk).first()
        if row is None or getattr(row, stamp) is not None:
            return False
        mail = compose(row)
        if mail is None:
            return False
        sent_at = timezone.now()
        model.objects.filter(pk=pk).update(**{stamp: sent_at})
    subject, body, recipient = mail
    try:
        send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, [recipient])
    except Exception:
        model.objects.filter(pk=pk, **{stamp: sent_at}).update(**{stamp: None})
        raise
    return True


def followup_confirmation_send(*, ticket_id: int) -> bool:
    """Send the follow-up confirmation once. Returns whether a mail went out.

    Only shop-written text: the ticket number, the support hours, that a person will reply.
    Never the shopper's words: the address was typed in the chat and may be a stranger's.
    """
    from catalog.models import ShopPolicy

    def compose(ticket):
        with translation.override(conversation_language(ticket.conversation)):
            body = render_to_string(
                "support/email/followup_confirmation.txt",
                {"ticket": ticket, "shop_name": settings.SHOP_NAME, "support_hours": ShopPolicy.current().support_hours},
            )
            subject = _("%(shop)s: we have your question (ticket #%(number)s)") % {"shop": settings.SHOP_NAME, "number": ticket.pk}
        return subject, body, ticket.email

    return mail_send_once(model=FollowUpTicket, pk=ticket_id, stamp="confirmation_sent_at", compose=compose)


def escalation_remind_send(*, escalation_id: int) -> bool:
    """E-mail the assigned agent about an escalation they have not claimed. Once per assignment."""

    def compose(escalation):
        if escalation.status != Escalation.Status.ASSIGNED or not escalation.assigned_to.email:
            return None
        body = render_to_string(
            "support/email/claim_reminder.txt",
            {
                "escalation": escalation,
                "agent_name": selectors.agent_name(escalation.assigned_to),
                "workspace_url": settings.SHOP_BASE_URL.rstrip("/") + "/desk/workspace/",
                "shop_name": settings.SHOP_NAME,
            },
        )
        subject = _("[%(shop)s desk] Escalation #%(number)s is waiting for you") % {"shop": settings.SHOP_NAME, "number": escalation.pk}
        return subject, body, escalation.assigned_to.email

    return mail_send_once(model=Escalation, pk=escalation_id, stamp="reminded_at", compose=compose)


def transcript_recipient(*, escalation: Escalation) -> str | None:
    """Where the transcript goes: only an address the shopper proved (a verified order's, or
    the signed-in account's customer record). Never one merely typed in: the transcript holds
    everything written in the chat, and a typed address may be a stranger's."""
    from catalog.selectors import proved_email

    conversation = escalation.conversation
    state = conversation.state or {}
    # The order verified at the hand-off first, then the latest verified in the conversation.
    numbers = [(escalation.context or {}).get("verified_order"), *reversed(state.get("verified") or [])]
    return proved_email(order_numbers=numbers, user=conversation.user)


def transcript_send(*, escalation_id: int) -> bool:
    """E-mail the transcript of a resolved escalation to the shopper, once."""

    def compose(escalation):
        if escalation.status != Escalation.Status.RESOLVED:
            return None
        recipient = transcript_recipient(escalation=escalation)
        if not recipient:
            return None
        with translation.override(conversation_language(escalation.conversation)):
            body = render_to_string(
                "support/email/transcript.txt",
                {"escalation": escalation, "messages": transcript(escalation.conversation), "shop_name": settings.SHOP_NAME},
            )
            subject = _("%(shop)s: your conversation with our support team") % {"shop": settings.SHOP_NAME}
        return subject, body, recipient

    return mail_send_once(model=Escalation, pk=escalation_id, stamp="transcript_sent_at", compose=compose)
