"""Message.reply_seconds: the assistant's reply time, written with the reply's row from the two
rows' own times and equal to what the stored rows give (issue #16's insights read it)."""

import importlib
from datetime import timedelta
from unittest import mock

import pytest
from django.apps import apps
from django.utils import timezone

from bot.conversations import message_store, turn_store
from bot.models import Conversation, Message
from bot.services import assistant_reply

pytestmark = pytest.mark.django_db

backfill = importlib.import_module("bot.migrations.0007_message_reply_seconds").reply_seconds_of_past_replies


def reply(text="An answer."):
    return {"sender": Message.Sender.BOT, "text": text, "intent": "track_order", "confidence": 0.9, "data": {}}


def annotation():
    return {"intent": "track_order", "confidence": 0.9, "data": {"top": [["track_order", 0.9]]}}


def shopper_message(conversation, text="where is my parcel"):
    message, _ = message_store(conversation=conversation, sender=Message.Sender.SHOPPER, text=text)
    return message


@pytest.mark.parametrize("handed_off", [False, True], ids=["one-statement-turn", "turn-with-a-hand-off"])
def test_a_turn_stores_the_seconds_from_the_shopper_message_it_answers(handed_off):
    """Both ways a turn is stored (PostgreSQL's one statement without a hand-off, the
    transaction otherwise, and everything on SQLite): the column equals the rows' times."""
    conversation = Conversation.objects.create()
    asked = shopper_message(conversation)
    later = asked.created_at + timedelta(seconds=2.75)
    escalations = [lambda row: None] if handed_off else []
    with mock.patch("django.utils.timezone.now", return_value=later):
        bot = turn_store(conversation=conversation, message=asked, annotation=annotation(), patch={}, reply=reply(),
                         escalations=escalations)
    stored = Message.objects.get(pk=bot.pk)
    shopper = Message.objects.get(pk=asked.pk)
    assert stored.reply_seconds == pytest.approx((stored.created_at - shopper.created_at).total_seconds(), abs=1e-6)
    assert stored.reply_seconds == pytest.approx(2.75, abs=1e-6)
    assert bot.reply_seconds == stored.reply_seconds


def test_the_assistant_writes_it_on_its_own_reply():
    """The real turn (the shipped model, the policy), reading the shopper's message itself."""
    conversation = Conversation.objects.create()
    asked = shopper_message(conversation, "hello")
    bot = assistant_reply(conversation_id=conversation.pk, message_id=asked.pk)
    stored, shopper = Message.objects.get(pk=bot.pk), Message.objects.get(pk=asked.pk)
    assert stored.sender == Message.Sender.BOT
    assert stored.reply_seconds == pytest.approx((stored.created_at - shopper.created_at).total_seconds(), abs=1e-6)


def test_only_replies_carry_it():
    conversation = Conversation.objects.create()
    asked = shopper_message(conversation)
    turn_store(conversation=conversation, message=asked, annotation=annotation(), patch={}, reply=reply())
    message_store(conversation=conversation, sender=Message.Sender.SYSTEM, text="An agent joined.")
    message_store(conversation=conversation, sender=Message.Sender.BOT, text="Hello again!")  # answers nothing
    values = dict(Message.objects.filter(conversation=conversation).values_list("text", "reply_seconds"))
    assert values["where is my parcel"] is None and values["An agent joined."] is None and values["Hello again!"] is None
    assert values["An answer."] is not None and values["An answer."] >= 0


def test_no_reply_is_stored_when_a_person_took_the_chat():
    conversation = Conversation.objects.create()
    asked = shopper_message(conversation)
    Conversation.objects.filter(pk=conversation.pk).update(status=Conversation.Status.AGENT)
    assert turn_store(conversation=conversation, message=asked, annotation=annotation(), patch={}, reply=reply()) is None
    assert not Message.objects.filter(reply_seconds__isnull=False).exists()


def test_the_migration_fills_past_replies_from_the_message_before_each():
    """Replies stored before the column: the seconds since the message right before each
    assistant message in its conversation when that is the shopper's; none otherwise."""
    start = timezone.now() - timedelta(hours=1)
    first, second = Conversation.objects.create(), Conversation.objects.create()

    def add(conversation, sender, seconds):
        return Message.objects.create(conversation=conversation, sender=sender, text=sender, created_at=start + timedelta(seconds=seconds))

    a1 = add(first, "shopper", 0)
    b1 = add(second, "shopper", 1)  # another conversation in between: not "the message before"
    a2 = add(first, "bot", 1.5)
    b2 = add(second, "bot", 4)
    a3 = add(first, "agent", 5)
    a4 = add(first, "bot", 6)  # after an agent: not a reply time
    b3 = add(second, "bot", 7)  # after a bot message: not a reply time
    greeting = add(Conversation.objects.create(), "bot", 8)  # first of its conversation
    backfill(apps, None)
    got = dict(Message.objects.values_list("pk", "reply_seconds"))
    assert got[a2.pk] == pytest.approx(1.5) and got[b2.pk] == pytest.approx(3.0)
    assert got[a1.pk] is got[b1.pk] is got[a3.pk] is got[a4.pk] is got[b3.pk] is got[greeting.pk] is None
