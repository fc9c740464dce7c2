"""support.emails.mail_send_once: the desk's e-mails go out once, outside any lock, and a failed
send is tried again rather than lost."""

import smtplib

import pytest
from django.core import mail

from support import emails
from support.models import FollowUpTicket
from tests.support.conftest import make_conversation

pytestmark = pytest.mark.django_db


def _ticket():
    return FollowUpTicket.objects.create(conversation=make_conversation("hello?"), email="shopper@example.com")


def test_a_failed_send_takes_the_stamp_back_so_the_retry_sends_once(monkeypatch):
    ticket = _ticket()
    send_mail = emails.send_mail

    def refused(*args, **kwargs):
        raise smtplib.SMTPServerDisconnected("gone")

    monkeypatch.setattr(emails, "send_mail", refused)
    with pytest.raises(smtplib.SMTPServerDisconnected):
        emails.followup_confirmation_send(ticket_id=ticket.pk)
    ticket.refresh_from_db()
    assert ticket.confirmation_sent_at is None and not mail.outbox

    monkeypatch.setattr(emails, "send_mail", send_mail)
    assert emails.followup_confirmation_send(ticket_id=ticket.pk) is True
    assert emails.followup_confirmation_send(ticket_id=ticket.pk) is False
    ticket.refresh_from_db()
    assert ticket.confirmation_sent_at is not None and len(mail.outbox) == 1


def test_the_row_is_stamped_before_the_mail_server_is_called(monkeypatch):
    ticket = _ticket()
    seen = []

    def send_and_look(*args, **kwargs):
        # A second worker at this moment finds the stamp and sends nothing.
        seen.append(FollowUpTicket.objects.get(pk=ticket.pk).confirmation_sent_at)
        seen.append(emails.followup_confirmation_send(ticket_id=ticket.pk))

    monkeypatch.setattr(emails, "send_mail", send_and_look)
    assert emails.followup_confirmation_send(ticket_id=ticket.pk) is True
    assert seen[0] is not None and seen[1] is False
