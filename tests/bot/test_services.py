"""bot.services.assistant_reply: how a turn ends when others write to the conversation meanwhile.

A turn reads the conversation, thinks (the model, the shop's data), then merges its dialogue
state. The support desk writes to the same row in between (an agent claims the chat, the
hand-off flags a follow-up e-mail); these tests make that happen mid-turn, on whichever
database the suite runs on (SQLite by default, PostgreSQL in CI's second pass).
"""

import pytest

from bot import conversations, services
from bot.models import Conversation, Message

pytestmark = pytest.mark.django_db


def _turn_with(monkeypatch, meanwhile, text="hi"):
    conversation = conversations.conversation_start()
    message, created, replying = conversations.shopper_message_receive(conversation=conversation, text=text, client_id="c1")
    assert created and replying is not None and replying.pk == conversation.pk
    understand = services.understand

    def understand_while_someone_writes(*args, **kwargs):
        meanwhile(conversation)
        return understand(*args, **kwargs)

    monkeypatch.setattr(services, "understand", understand_while_someone_writes)
    reply = services.assistant_reply(conversation_id=conversation.pk, message_id=message.pk, message=message, conversation=replying)
    conversation.refresh_from_db()
    message.refresh_from_db()
    return conversation, message, reply


def test_keys_the_desk_added_during_the_turn_survive_the_merge(monkeypatch):
    def desk_writes(conversation):
        Conversation.objects.filter(pk=conversation.pk).update(state={"feedback": ["slow"], "desk_note": "vip"})

    conversation, message, reply = _turn_with(monkeypatch, desk_writes)
    assert reply is not None and reply.sender == Message.Sender.BOT
    assert conversation.state["feedback"] == ["slow"]
    assert conversation.state["desk_note"] == "vip"
    assert conversation.state["last_intent"] == message.intent == "greeting"  # the turn's own state is there too


def test_the_reply_returned_is_the_row_stored_and_the_shopper_message_is_annotated():
    conversation = conversations.conversation_start()
    message, _, replying = conversations.shopper_message_receive(conversation=conversation, text="hello", client_id="c1")
    reply = services.assistant_reply(conversation_id=conversation.pk, message_id=message.pk, message=message, conversation=replying)
    stored = Message.objects.get(pk=reply.pk)
    assert (stored.conversation_id, stored.sender, stored.text, stored.intent, stored.data, stored.client_id) == (
        conversation.pk, "bot", reply.text, reply.intent, reply.data, None
    )
    assert abs(stored.confidence - reply.confidence) < 1e-9 and stored.created_at == reply.created_at
    message.refresh_from_db()
    assert message.intent == "greeting" and message.data["top"][0][0] == "greeting" and "entities" in message.data
    conversation.refresh_from_db()
    assert conversation.state["history"][-1][0] == "greeting"


def test_an_agent_who_claims_the_chat_mid_turn_is_never_talked_over(monkeypatch):
    def agent_claims(conversation):
        Conversation.objects.filter(pk=conversation.pk).update(status=Conversation.Status.AGENT, state={"claimed": 1})

    conversation, message, reply = _turn_with(monkeypatch, agent_claims)
    assert reply is None
    assert not conversation.messages.filter(sender=Message.Sender.BOT).exists()
    assert conversation.state == {"claimed": 1}  # the turn's state was not merged either
    assert message.intent == "greeting"  # what the model understood is still recorded for the agent


def test_no_reply_is_offered_while_a_person_holds_the_chat():
    conversation = conversations.conversation_start()
    Conversation.objects.filter(pk=conversation.pk).update(status=Conversation.Status.AGENT)
    message, created, replying = conversations.shopper_message_receive(conversation=conversation, text="hello?", client_id="c1")
    assert created and replying is None
    again, created_again, replying_again = conversations.shopper_message_receive(conversation=conversation, text="hello?", client_id="c1")
    assert again.pk == message.pk and not created_again and replying_again is None
