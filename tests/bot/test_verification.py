"""Proving an order is yours: limits that hold across conversations, and the code before a change.

Every turn goes through the real assistant (bot.services.assistant_reply: the shipped SLM, the
policy, the shop's services); each "new conversation" is a new Conversation row, as a new
WebSocket would make. The counters live in Django's cache: locmem here, Redis on the real stack.
"""

import logging
import os
import re
import subprocess
import sys

import pytest

from bot import conversations, replies, verification
from bot.clients import client_address
from bot.models import Conversation
from bot.services import assistant_reply
from catalog.models import Order
from tests.factories import CustomerFactory, OrderFactory, OrderLineFactory, UserFactory

pytestmark = pytest.mark.django_db

LOCKED = replies.TEXTS["verify_locked"]


def say(conversation: Conversation, text: str, *, address: str | None = None):
    message, created, replying = conversations.shopper_message_receive(conversation=conversation, text=text, client_id=None)
    assert created and replying is not None
    reply = assistant_reply(
        conversation_id=conversation.pk, message_id=message.pk, message=message, conversation=replying, client_address=address
    )
    conversation.refresh_from_db()
    return reply


def new_chat(user=None) -> Conversation:
    return conversations.conversation_start(user=user)


def found_an_order(reply) -> bool:
    return any(card.get("kind") == "order" for card in reply.data.get("cards", []))


def code_from(mailoutbox, email: str) -> str:
    [mail] = [m for m in mailoutbox if m.to == [email] and "your code for order" in m.subject]
    mailoutbox.remove(mail)
    return re.search(r"^\s+(\d{6})$", mail.body, re.M).group(1)


# --- Limits across conversations ----------------------------------------------------------


def test_a_guesser_across_25_new_conversations_finds_nothing_after_5_failures(shop_with_kb):
    email = shop_with_kb["email"]
    victim = {o.number for o in shop_with_kb["orders"].values()}  # 20001-20004
    guesses = iter(str(n) for n in range(19996, 19996 + 100))  # the victim's numbers come 6th to 9th
    found, tried = [], 0
    for _ in range(25):
        chat = new_chat()
        for _ in range(4):
            number = next(guesses)
            reply = say(chat, f"where is my order {number}? my email is {email}")
            tried += 1
            if found_an_order(reply):
                found.append(number)
        assert chat.state["verified"] == []
    assert tried == 100 and victim <= {str(n) for n in range(19996, 20096)}
    assert found == []
    # And now even the right pair is refused, in yet another conversation, with the honest text.
    chat = new_chat()
    reply = say(chat, f"where is my order 20002? my email is {email}")
    assert not found_an_order(reply) and str(LOCKED) in reply.text
    assert chat.escalations.get().reason == "verification_locked"  # a person is offered


def test_different_emails_guessing_one_order_number_lock_that_number_only(shop_with_kb):
    email = shop_with_kb["email"]
    for i in range(5):
        reply = say(new_chat(), f"where is my order 20001? my email is guess{i}@example.org")
        assert not found_an_order(reply)
    reply = say(new_chat(), f"where is my order 20001? my email is {email}")
    assert not found_an_order(reply) and str(LOCKED) in reply.text
    # The owner's other orders and e-mail are not locked by what others guessed.
    reply = say(new_chat(), f"where is my order 20002? my email is {email}")
    assert found_an_order(reply) and reply.data["cards"][0]["number"] == "20002"


def test_one_address_hits_its_ceiling_while_others_still_verify(shop_with_kb, settings):
    settings.VERIFY_FAILURES_PER_ADDRESS = 3
    email = shop_with_kb["email"]
    for i in range(3):  # each e-mail and each number once: only the address adds up
        say(new_chat(), f"where is my order {30001 + i}? my email is someone{i}@example.org", address="203.0.113.9")
    reply = say(new_chat(), f"where is my order 20002? my email is {email}", address="203.0.113.9")
    assert not found_an_order(reply) and str(LOCKED) in reply.text
    reply = say(new_chat(), f"where is my order 20002? my email is {email}", address="198.51.100.7")
    assert found_an_order(reply)


def test_failed_checks_are_logged_for_the_shop_without_the_email(shop_with_kb, caplog):
    with caplog.at_level(logging.WARNING, logger="bot.verification"):
        say(new_chat(), "where is my order 20001? my email is mallory.guess@example.org", address="203.0.113.9")
    [record] = [r for r in caplog.records if "order check failed" in r.getMessage()]
    line = record.getMessage()
    assert "order=20001" in line and "address=203.0.113.9" in line and "m***@example.org" in line
    assert "mallory.guess" not in line


def test_the_signed_in_owner_is_not_locked_out_by_guessers(shop_with_kb):
    user = UserFactory()
    mine = OrderFactory(number="20077", customer=CustomerFactory(user=user, email="owner@example.com"), paid=True)
    for i in range(5):
        say(new_chat(), f"where is my order 20077? my email is guess{i}@example.org")
    assert str(LOCKED) in say(new_chat(), "where is my order 20077? my email is owner@example.com").text
    reply = say(new_chat(user=user), "where is my order 20077?")
    assert found_an_order(reply) and reply.data["cards"][0]["number"] == mine.number


@pytest.mark.parametrize(
    "trusted, headers, expected",
    [
        (False, [(b"x-forwarded-for", b"198.51.100.1, 198.51.100.2")], "10.0.0.5"),  # anyone can write the header
        (True, [(b"x-forwarded-for", b"198.51.100.1, 198.51.100.2")], "198.51.100.2"),  # the hop the proxy added
        (True, [(b"X-Forwarded-For", b"198.51.100.1"), (b"x-forwarded-for", b"2001:db8::1")], "2001:db8::1"),
        (True, [(b"x-forwarded-for", b"not-an-address")], "10.0.0.5"),
        (True, [], "10.0.0.5"),
    ],
)
def test_the_client_address_trusts_x_forwarded_for_only_behind_a_trusted_proxy(settings, trusted, headers, expected):
    settings.TRUSTED_PROXY = trusted
    assert client_address({"client": ("10.0.0.5", 51000), "headers": headers}) == expected


def test_a_scope_without_a_client_has_no_address(settings):
    settings.TRUSTED_PROXY = False
    assert client_address({"headers": [(b"x-forwarded-for", b"198.51.100.1")]}) == "unknown"


# --- A code before a guest's change -----------------------------------------------------------


def test_guest_cancel_asks_for_a_code_counts_down_wrong_ones_and_cancels_on_the_right_one(
    shop_with_kb, mailoutbox, django_capture_on_commit_callbacks
):
    order = shop_with_kb["orders"]["unshipped"]
    chat = new_chat()
    said = [f"cancel my order {order.number}, email {order.email}", "yes"]
    reply = say(chat, said[0])
    assert f"Cancel order {order.number}" in reply.text
    with django_capture_on_commit_callbacks(execute=True):
        reply = say(chat, said[1])
    assert "s***@example.com" in reply.text and "code" in reply.text
    [mail] = [m for m in mailoutbox if "your code" in m.subject]
    code = code_from(mailoutbox, order.email)
    assert mail.to == [order.email] and order.number in mail.body
    assert not any(text in mail.body for text in said)  # nothing the chat's writer typed
    assert Order.objects.get(pk=order.pk).status == Order.Status.PAID

    wrong = "000000" if code != "000000" else "111111"
    reply = say(chat, wrong)
    assert "2 tries left" in reply.text
    assert Order.objects.get(pk=order.pk).status == Order.Status.PAID
    reply = say(chat, f"{code[:3]} {code[3:]}")
    assert "cancelled" in reply.text.lower()
    assert Order.objects.get(pk=order.pk).status == Order.Status.CANCELLED


def test_the_code_email_never_carries_the_new_address_the_shopper_typed(shop_with_kb, mailoutbox, django_capture_on_commit_callbacks):
    order = shop_with_kb["orders"]["unshipped"]
    chat = new_chat()
    say(chat, f"I want to change the delivery address of order {order.number}, email {order.email}")
    typed = "Sam Lee, Gartenweg 12, 10115 Berlin, Germany"
    reply = say(chat, typed)
    assert "Change the delivery address" in reply.text, reply.text
    with django_capture_on_commit_callbacks(execute=True):
        say(chat, "yes")
    [mail] = [m for m in mailoutbox if "your code" in m.subject]
    assert "Sam Lee" not in mail.body and "Gartenweg" not in mail.body and "delivery address" in mail.body
    say(chat, code_from(mailoutbox, order.email))
    order.refresh_from_db()
    assert order.ship_name == "Sam Lee" and order.ship_line1 == "Gartenweg 12"


def test_three_wrong_codes_drop_the_cancel_and_offer_a_person(shop_with_kb, mailoutbox, django_capture_on_commit_callbacks):
    order = shop_with_kb["orders"]["unshipped"]
    chat = new_chat()
    say(chat, f"cancel my order {order.number}, email {order.email}")
    with django_capture_on_commit_callbacks(execute=True):
        say(chat, "yes")
    code = code_from(mailoutbox, order.email)
    wrong = "000000" if code != "000000" else "111111"
    for _ in range(3):
        reply = say(chat, wrong)
    assert "haven't cancelled" in reply.text and reply.data["quick_replies"] == ["Talk to a person"]
    reply = say(chat, code)  # too late: nothing waits for it any more
    assert Order.objects.get(pk=order.pk).status == Order.Status.PAID


def test_wrong_codes_count_as_failed_checks_across_conversations(shop_with_kb, mailoutbox, django_capture_on_commit_callbacks):
    order = shop_with_kb["orders"]["unshipped"]
    codes = []
    for tries in (3, 2):
        chat = new_chat()
        say(chat, f"cancel my order {order.number}, email {order.email}")
        with django_capture_on_commit_callbacks(execute=True):
            say(chat, "yes")
        codes.append(code_from(mailoutbox, order.email))
        for _ in range(tries):
            reply = say(chat, "000000" if codes[-1] != "000000" else "111111")
    reply = say(chat, codes[-1])  # the right code, after five wrong ones on this order
    assert str(LOCKED) in reply.text
    assert Order.objects.get(pk=order.pk).status == Order.Status.PAID


def test_the_signed_in_owner_cancels_without_a_code(shop_with_kb, mailoutbox, django_capture_on_commit_callbacks):
    user = UserFactory()
    order = OrderFactory(number="20078", customer=CustomerFactory(user=user, email="owner@example.com"), paid=True)
    OrderLineFactory(order=order, variant=shop_with_kb["shirt"].variants.first(), quantity=1)
    chat = new_chat(user=user)
    reply = say(chat, "please cancel my order 20078")
    assert "Cancel order 20078" in reply.text, reply.text
    with django_capture_on_commit_callbacks(execute=True):
        reply = say(chat, "yes")
    assert "cancelled" in reply.text.lower()
    assert Order.objects.get(pk=order.pk).status == Order.Status.CANCELLED
    assert not [m for m in mailoutbox if "your code" in m.subject]


def test_codes_per_order_are_limited(shop_with_kb, mailoutbox, django_capture_on_commit_callbacks, settings):
    settings.VERIFY_CODES_PER_ORDER = 2
    order = shop_with_kb["orders"]["unshipped"]
    for attempt in range(3):
        chat = new_chat()
        say(chat, f"cancel my order {order.number}, email {order.email}")
        with django_capture_on_commit_callbacks(execute=True):
            reply = say(chat, "yes")
    assert reply.text == str(replies.TEXTS["code_send_limited"])
    assert len([m for m in mailoutbox if "your code" in m.subject]) == 2


def test_every_new_reply_text_renders():
    for key, params in {
        "verify_locked": {},
        "code_sent": {"email": "a***@b.co", "minutes": 10},
        "code_waiting": {"email": "a***@b.co"},
        "code_format": {"digits": 6},
        "code_wrong": {"left": 2},
        "code_expired": {"action": "return", "number": "1"},
        "code_too_many": {"action": "change_address", "number": "1"},
        "code_send_limited": {},
    }.items():
        assert "{" not in replies.render(key, params, shop="Shop")


def test_an_expired_code_is_refused():
    _, kept = verification.code_issue(purpose="1:20001:cancel")
    assert not verification.code_expired(expires_at=kept["expires_at"])
    assert verification.code_expired(expires_at=kept["expires_at"] - 10_000)


def test_a_code_confirms_only_its_own_purpose():
    code, kept = verification.code_issue(purpose="1:20001:cancel")
    assert re.fullmatch(r"\d{6}", code) and code not in kept["digest"]
    assert verification.code_matches(code=code, purpose="1:20001:cancel", digest=kept["digest"])
    assert not verification.code_matches(code=code, purpose="2:20001:cancel", digest=kept["digest"])
    assert not verification.code_matches(code=code, purpose="1:20001:return", digest=kept["digest"])


# --- The real stack: every process sees the same counters -------------------------------------


def test_two_processes_share_the_counters_through_redis(require_real_stack):
    email = "shared.victim@example.com"
    assert not verification.verification_locked(email=email, number="20001", address=None)
    code = (
        "import django; django.setup()\n"
        "from bot import verification\n"
        f"for i in range(5): verification.verification_failed(email={email!r}, number=str(40000 + i), address=None)\n"
    )
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "support.settings"}
    subprocess.run([sys.executable, "-c", code], env=env, check=True, timeout=60, capture_output=True)
    # Another process counted the failures; this one refuses the e-mail now.
    assert verification.verification_locked(email=email, number="20001", address=None)
