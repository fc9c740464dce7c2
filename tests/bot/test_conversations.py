"""Scripted multi-turn conversations on the demo shop (seed_demo --json scenarios).

Each turn goes through the real assistant: the shipped SLM, the pure policy, the shop's
services and the knowledge base. Assertions check facts against the database.
"""

import io
import json
import re

import pytest
from django.core.management import call_command

from bot import conversations
from bot.models import Conversation, Message
from bot.services import assistant_reply
from catalog.models import Order, ReturnRequest, Variant


@pytest.fixture(scope="module")
def demo(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock():
        out = io.StringIO()
        call_command("seed_demo", "--json", "--force", stdout=out)  # --force: tests run with DEBUG off
        data = json.loads(out.getvalue())
        yield {s["scenario"]: s for s in data["demo_orders"]}
        call_command("flush", interactive=False, verbosity=0)


class Chat:
    def __init__(self):
        self.conversation = conversations.conversation_start()
        self.n = 0

    def say(self, text: str) -> Message:
        self.n += 1
        message, _ = conversations.message_store(
            conversation=self.conversation, sender="shopper", text=text, client_id=f"c{self.n}"
        )
        reply = assistant_reply(conversation_id=self.conversation.pk, message_id=message.pk)
        self.conversation.refresh_from_db()
        return reply

    @property
    def state(self):
        return self.conversation.state


def emailed_code(mailoutbox, order: dict) -> str:
    """The one-time code the assistant just e-mailed to the order's address."""
    sent = [m for m in mailoutbox if m.to == [order["email"]] and "your code for order" in m.subject]
    assert sent, [m.subject for m in mailoutbox]
    return re.search(r"^\s+(\d{6})$", sent[-1].body, re.M).group(1)


pytestmark = pytest.mark.django_db


def test_track_with_verification(demo):
    order = demo["shipped"]
    chat = Chat()
    reply = chat.say("where is my order??")
    assert "order number" in reply.text.lower()
    assert order["tracking_number"] not in reply.text
    reply = chat.say(f"its #{order['number']}")
    assert "e-mail" in reply.text.lower()
    assert order["tracking_number"] not in reply.text  # nothing before verification
    reply = chat.say(order["email"].upper())
    assert order["tracking_number"] in reply.text
    db_order = Order.objects.get(number=order["number"])
    assert db_order.carrier in reply.text
    assert reply.data["cards"][0]["kind"] == "order"
    assert reply.data["cards"][0]["number"] == order["number"]


def test_track_in_one_message(demo):
    order = demo["shipped"]
    reply = Chat().say(f"hi where is order {order['number']}, email {order['email']}")
    assert order["tracking_number"] in reply.text


def test_a_verified_look_up_reads_the_order_once(demo):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    order = demo["shipped"]
    chat = Chat()
    with CaptureQueriesContext(connection) as queries:
        reply = chat.say(f"where is order {order['number']}, email {order['email']}")
    assert order["tracking_number"] in reply.text
    order_reads = [q["sql"] for q in queries if q["sql"].startswith("SELECT") and 'FROM "catalog_order"' in q["sql"]]
    assert len(order_reads) == 1, order_reads


def test_wrong_email_never_says_which_part(demo):
    order = demo["shipped"]
    chat = Chat()
    reply = chat.say(f"track order {order['number']} my email is someone.else@example.org")
    text = reply.text.lower()
    assert order["tracking_number"] not in reply.text
    assert "order number and e-mail" in text or "order number and that e-mail" in text
    assert "wrong email" not in text and "e-mail is wrong" not in text
    assert chat.state["failed_verifications"] == 1


def test_five_wrong_tries_lock_and_hand_over(demo):
    order = demo["shipped"]
    chat = Chat()
    for i in range(5):
        reply = chat.say(f"track order {order['number']} email wrong{i}@example.org")
    assert chat.state["locked"] is True
    chat.conversation.refresh_from_db()
    assert chat.conversation.status in (Conversation.Status.WAITING, Conversation.Status.AGENT)
    # Even the right pair is refused now.
    reply = chat.say(f"track order {order['number']} email {order['email']}")
    assert order["tracking_number"] not in reply.text


def test_cancel_an_unshipped_order_after_confirmation_and_the_emailed_code(demo, mailoutbox, django_capture_on_commit_callbacks):
    order = demo["unshipped"]
    chat = Chat()
    reply = chat.say(f"I want to cancel order {order['number']}")
    reply = chat.say(order["email"])
    assert f"Cancel order {order['number']}" in reply.text
    assert reply.data["quick_replies"] == ["Yes", "No"]
    assert Order.objects.get(number=order["number"]).status == order["status"]  # not before "yes"
    with django_capture_on_commit_callbacks(execute=True):  # the code e-mail goes out after the commit
        reply = chat.say("yes")
    assert "code" in reply.text and "a***@example.com" in reply.text
    assert Order.objects.get(number=order["number"]).status == order["status"]  # nor before the code
    reply = chat.say(emailed_code(mailoutbox, order))
    assert "cancelled" in reply.text.lower()
    assert Order.objects.get(number=order["number"]).status == Order.Status.CANCELLED


def test_cancel_refused_for_a_shipped_order(demo):
    order = demo["shipped"]
    chat = Chat()
    reply = chat.say(f"cancel my order {order['number']} {order['email']}")
    assert "shipped" in reply.text.lower()
    assert "return" in reply.text.lower()
    assert Order.objects.get(number=order["number"]).status == Order.Status.SHIPPED


def test_return_inside_the_window(demo, mailoutbox, django_capture_on_commit_callbacks):
    order = demo["delivered_returnable"]
    chat = Chat()
    reply = chat.say(f"i'd like to return the stuff from order {order['number']}")
    reply = chat.say(order["email"])
    assert "Shall I start it?" in reply.text
    before = ReturnRequest.objects.filter(order__number=order["number"]).count()
    with django_capture_on_commit_callbacks(execute=True):
        reply = chat.say("yes please")
    assert ReturnRequest.objects.filter(order__number=order["number"]).count() == before  # not before the code
    reply = chat.say(emailed_code(mailoutbox, order))
    created = ReturnRequest.objects.filter(order__number=order["number"]).order_by("-pk").first()
    assert ReturnRequest.objects.filter(order__number=order["number"]).count() == before + 1
    assert created.rma_number in reply.text


def test_return_outside_the_window_is_explained(demo):
    order = demo["delivered_not_returnable"]
    chat = Chat()
    reply = chat.say(f"I want to return order {order['number']}, email {order['email']}")
    assert "Shall I start it?" not in reply.text
    assert "days" in reply.text.lower() or "window" in reply.text.lower()
    assert not ReturnRequest.objects.filter(order__number=order["number"], created_at__gte=chat.conversation.created_at).exists()


def test_refund_status_of_a_return_in_progress(demo):
    order = demo["return_in_progress"]
    reply = Chat().say(f"where is my refund for order {order['number']}? {order['email']}")
    rma = ReturnRequest.objects.filter(order__number=order["number"]).first()
    assert rma.rma_number in reply.text


def test_stock_of_a_variant(demo):
    variant = Variant.objects.select_related("product").filter(product__is_active=True, stock__gt=5).exclude(colour="").first()
    reply = Chat().say(f"do you have the {variant.product.name} in {variant.colour.lower()}?")
    assert variant.product.name in reply.text or any(c.get("title") == variant.product.name for c in reply.data.get("cards", []))


def test_policy_question_quotes_the_knowledge_base(demo):
    reply = Chat().say("which payment methods do you accept?")
    assert reply.data.get("sources"), reply.text
    assert "/help/" in reply.data["sources"][0]["url"]


def test_hand_off_on_request(demo):
    chat = Chat()
    chat.say("I want to talk to a real person")
    chat.conversation.refresh_from_db()
    assert chat.conversation.status == Conversation.Status.WAITING
    assert chat.conversation.escalations.get().reason == "requested"


def test_after_hours_an_email_with_a_tracking_question_opens_the_ticket_and_answers_it(demo):
    order = demo["shipped"]
    chat = Chat()
    chat.say("Talk to a person")
    assert chat.state.get("awaiting_followup_email") is True  # nobody is online in the test shop
    reply = chat.say(f"where is my order {order['number']}? my email is {order['email']}")
    assert "ticket #" in reply.text
    assert order["tracking_number"] in reply.text  # verified by number + that order's e-mail
    assert not chat.state.get("awaiting_followup_email")


def test_a_new_conversation_is_stored_with_its_first_message_and_its_token_finds_it():
    conversation = conversations.conversation_new()
    token = conversations.conversation_token(conversation)
    assert Conversation.objects.count() == 0
    pending = conversations.conversation_from_token(token)
    assert pending.pk is None and pending.public_id == conversation.public_id
    assert conversations.transcript(pending) == []
    message, created, replying = conversations.shopper_message_receive(conversation=pending, text="hi", client_id="c1")
    assert created and replying is not None
    stored = Conversation.objects.get()
    assert stored.public_id == conversation.public_id and pending.pk == stored.pk
    # Another tab that opened the same token before the first message joins the same row.
    other_tab = conversations.conversation_new(public_id=conversation.public_id)
    conversations.shopper_message_receive(conversation=other_tab, text="me too", client_id="c2")
    assert other_tab.pk == stored.pk and Conversation.objects.count() == 1
    assert [m.text for m in conversations.transcript(conversations.conversation_from_token(token))] == ["hi", "me too"]


def test_a_closed_conversation_token_opens_nothing():
    conversation = conversations.conversation_start()
    token = conversations.conversation_token(conversation)
    Conversation.objects.filter(pk=conversation.pk).update(status=Conversation.Status.CLOSED)
    assert conversations.conversation_from_token(token) is None
