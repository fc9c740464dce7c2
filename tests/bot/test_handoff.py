"""bot.handoff: the bot's one way out to people, a port the desk registers with.

With the desk registered (support/apps.py does it) a hand-off opens an escalation; with none, the
assistant says honestly that no person can take over and keeps the conversation.
"""

import pytest

from bot import conversations, services
from bot.handoff import HANDOFF_TEXT, NO_DESK_TEXT, handoff_packet, handoff_port
from bot.models import Conversation, Message
from support.handoff import DeskHandoff
from support.models import Escalation

pytestmark = pytest.mark.django_db


@pytest.fixture
def no_desk(monkeypatch):
    monkeypatch.setattr(handoff_port, "desk", None)


def _turn(text):
    conversation = conversations.conversation_start()
    message, _, replying = conversations.shopper_message_receive(conversation=conversation, text=text, client_id="c1")
    reply = services.assistant_reply(conversation_id=conversation.pk, message_id=message.pk, message=message, conversation=replying)
    conversation.refresh_from_db()
    return conversation, reply


def test_the_desk_registers_itself_with_the_port():
    assert isinstance(handoff_port.desk, DeskHandoff) and handoff_port.connected


def test_with_the_desk_a_hand_off_opens_an_escalation_with_the_packet():
    conversation, reply = _turn("I want to talk to a person")
    escalation = Escalation.objects.get(conversation=conversation)
    assert escalation.is_open and conversation.status == Conversation.Status.WAITING
    assert escalation.context["last_message"] == "I want to talk to a person"
    assert str(HANDOFF_TEXT) in reply.text


def test_with_no_desk_the_assistant_says_no_person_can_take_over_and_keeps_the_message(no_desk):
    conversation, reply = _turn("I want to talk to a person")
    assert str(NO_DESK_TEXT) in reply.text and str(HANDOFF_TEXT) not in reply.text
    assert not Escalation.objects.exists()
    assert conversation.status == Conversation.Status.BOT
    assert list(conversation.messages.order_by("pk").values_list("sender", "text")) == [
        (Message.Sender.SHOPPER, "I want to talk to a person"), (Message.Sender.BOT, reply.text)
    ]
    assert handoff_port.agents_online() is False
    assert handoff_port.capture_followup_email(conversation=conversation, email="a@example.com") is None


def test_a_broken_assistant_hands_over_with_the_failure_in_the_packet_or_nothing_without_a_desk(monkeypatch):
    conversation, _ = _turn("hello")
    monkeypatch.setattr(handoff_port, "desk", None)
    services.assistant_failed(conversation_id=conversation.pk)
    assert not Escalation.objects.exists()
    monkeypatch.setattr(handoff_port, "desk", DeskHandoff())
    services.assistant_failed(conversation_id=conversation.pk)
    escalation = Escalation.objects.get(conversation=conversation)
    assert escalation.reason == "action_failed" and escalation.priority == "high"
    assert escalation.context["actions"][-1] == {"action": "assistant", "outcome": "failed", "detail": "exception"}


def test_the_packet_keeps_what_a_person_needs_and_never_the_typed_email():
    conversation = conversations.conversation_start()
    conversations.shopper_message_receive(conversation=conversation, text="where is 10514?", client_id="c1")
    state = {
        "history": [["greeting", 0.9], ["track_order", 0.8]],
        "slots": {"order_number": "10514", "email": "someone@example.com"},
        "verified": ["10488"],
        "active_order": "10514",
        "actions": [{"action": "order_lookup", "outcome": "not_verified"}],
    }
    packet = handoff_packet(conversation=conversation, state=state)
    assert packet == {
        "intents": [{"intent": "greeting", "confidence": 0.9}, {"intent": "track_order", "confidence": 0.8}],
        "entities": {"order_number": "10514"},
        "verified_order": None,  # the active order was never verified in this chat
        "actions": [{"action": "order_lookup", "outcome": "not_verified"}],
        "last_message": "where is 10514?",
        "language": "en",  # the conversation's: what the person should answer in
    }
    assert handoff_packet(conversation=conversation, state={**state, "verified": ["10514"]})["verified_order"] == "10514"
