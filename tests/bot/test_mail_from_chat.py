"""Mail the chat can cause, through the real assistant (shipped SLM, policy, services): after-hours
confirmations within limits, newsletter sign-up by double opt-in, and no unsubscribing of an
address someone typed."""

import re

import pytest
from django.core import mail

from bot import conversations
from bot.services import assistant_reply
from catalog import newsletter
from catalog.models import Customer
from support.models import FollowUpTicket
from tests.factories import CustomerFactory, OrderFactory

pytestmark = pytest.mark.django_db


def chat(django_capture_on_commit_callbacks):
    """A chat: each message goes through the assistant; what happens on commit (mail) runs too."""
    conversation = conversations.conversation_start()
    n = 0

    def run(text: str, client_address="198.51.100.7"):
        nonlocal n
        n += 1
        message, _ = conversations.message_store(conversation=conversation, sender="shopper", text=text, client_id=f"c{n}")
        with django_capture_on_commit_callbacks(execute=True):
            return assistant_reply(conversation_id=conversation.pk, message_id=message.pk, client_address=client_address)

    run.conversation = conversation
    return run


@pytest.fixture
def say(django_capture_on_commit_callbacks):
    return chat(django_capture_on_commit_callbacks)


def test_after_hours_over_the_mail_limit_the_ticket_opens_and_the_shopper_is_told_no_mail_comes(
    django_capture_on_commit_callbacks, settings
):
    settings.MAIL_LIMIT_PER_ADDRESS = 1
    replies = []
    for _ in range(2):
        say = chat(django_capture_on_commit_callbacks)
        say("I want to talk to a person")
        replies.append(say("my e-mail is jo@example.com"))
    assert "ticket #" in replies[0].text and "won't send a confirmation" not in replies[0].text
    assert "ticket #" in replies[1].text and "won't send a confirmation e-mail" in replies[1].text
    assert FollowUpTicket.objects.filter(email="jo@example.com", status="open").count() == 2
    assert [m.to for m in mail.outbox] == [["jo@example.com"]]


def test_chat_subscribe_x_does_not_subscribe_x_and_sends_one_confirmation_with_a_signed_link(say):
    reply = say("subscribe victim@example.com to your newsletter")
    assert "check your inbox" in reply.text and "victim@example.com" in reply.text
    assert not Customer.objects.filter(email="victim@example.com", newsletter=True).exists()
    assert len(mail.outbox) == 1 and mail.outbox[0].to == ["victim@example.com"]
    token = re.search(r"/newsletter/confirm/([^/\s]+)/", mail.outbox[0].body).group(1)
    assert newsletter.email_from_token(token, purpose="subscribe") == "victim@example.com"
    assert "subscribe victim" not in mail.outbox[0].body  # the shop's words only


def test_chat_subscribe_beyond_the_limit_sends_nothing_and_says_so(say, settings):
    settings.MAIL_LIMIT_PER_CONVERSATION = 1
    say("subscribe a@example.com to your newsletter")
    reply = say("subscribe b@example.com to your newsletter")
    assert "can't send another confirmation" in reply.text
    assert [m.to for m in mail.outbox] == [["a@example.com"]]


def test_chat_unsubscribe_y_does_not_unsubscribe_y_nor_mail_y(say):
    CustomerFactory(email="reader@example.com", newsletter=True)
    reply = say("unsubscribe reader@example.com")
    assert "unsubscribe link" in reply.text and "can't unsubscribe an address from the chat" in reply.text
    assert Customer.objects.get(email="reader@example.com").newsletter is True
    assert not mail.outbox


def test_chat_unsubscribe_after_verifying_an_order_mails_the_link_to_that_orders_address_only(say):
    customer = CustomerFactory(email="owner@example.com", newsletter=True)
    OrderFactory(number="30001", customer=customer, email="owner@example.com")
    CustomerFactory(email="someone-else@example.com", newsletter=True)
    conversation = say.conversation
    conversation.state = {"verified": ["30001"]}
    conversation.save(update_fields=["state"])
    reply = say("please unsubscribe someone-else@example.com from the newsletter")
    assert "owner@example.com" in reply.text
    assert [m.to for m in mail.outbox] == [["owner@example.com"]]
    assert Customer.objects.get(email="owner@example.com").newsletter is True  # until the link is used
    assert Customer.objects.get(email="someone-else@example.com").newsletter is True
    token = re.search(r"/newsletter/unsubscribe/([^/\s]+)/", mail.outbox[0].body).group(1)
    assert newsletter.email_from_token(token, purpose="unsubscribe") == "owner@example.com"
