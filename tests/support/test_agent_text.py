"""Text the database would refuse gets an error frame on the agent socket, which stays open;
a client_id reused for another text is an error, not a silent ack."""

import pytest
from channels.db import database_sync_to_async

from bot.models import Message
from bot.text import refusable_text
from support import agent_actions, handoff
from support.models import Escalation
from tests.support.conftest import PACKET, make_agent, make_conversation
from tests.support.test_consumers import agent_socket, until

pytestmark = [pytest.mark.django_db(transaction=True)]
BAD_TEXTS = {"nul": "hello\x00there", "lone_surrogate": "caf\udcff"}


@pytest.mark.parametrize("text", ["a\x00b", "\x00", "\ud800", "x\udcff", "\udfff"])
def test_nul_and_lone_surrogates_are_refusable(text):
    assert refusable_text(text)


@pytest.mark.parametrize("text", ["", "plain", "emoji 😀 and ümlaut", "\ufffd", "\u2028"])
def test_ordinary_text_is_not_refusable(text):
    assert not refusable_text(text)


def held_conversation():
    ada = make_agent("ada", online=True)
    conversation = make_conversation("help")
    escalation = handoff.conversation_escalate(conversation=conversation, reason="requested", context=PACKET)
    agent_actions.escalation_claim(escalation_id=escalation.pk, agent=ada)
    return ada, conversation, escalation


@pytest.mark.parametrize("kind", list(BAD_TEXTS))
async def test_an_agent_reply_the_database_would_refuse_gets_bad_text_and_the_socket_stays_open(kind):
    ada, conversation, escalation = await database_sync_to_async(held_conversation)()
    comm, _, _ = await agent_socket(ada)
    try:
        await until(comm, "queue")
        hexid = conversation.public_id.hex
        await comm.send_json_to({"type": "reply", "conversation": hexid, "text": BAD_TEXTS[kind], "client_id": "r-bad"})
        error = await until(comm, "error")
        assert (error["code"], error["client_id"]) == ("bad_text", "r-bad")
        # The same for the resolution's note and better answer; nothing is resolved.
        for field in ("note", "better_answer"):
            await comm.send_json_to({"type": "resolve", "escalation": escalation.pk, "intent": None, field: BAD_TEXTS[kind]})
            assert (await until(comm, "error"))["code"] == "bad_text"
        # Still open and working: a good reply goes through.
        await comm.send_json_to({"type": "reply", "conversation": hexid, "text": "All good now", "client_id": "r-ok"})
        assert (await until(comm, "ack"))["client_id"] == "r-ok"
    finally:
        await comm.disconnect()
    texts = await database_sync_to_async(lambda: list(Message.objects.filter(sender="agent").values_list("text", flat=True)))()
    assert texts == ["All good now"]
    assert (await database_sync_to_async(Escalation.objects.get)(pk=escalation.pk)).status == "active"


async def test_a_client_id_resent_with_different_text_gets_an_error_and_the_same_text_the_same_ack():
    ada, conversation, _ = await database_sync_to_async(held_conversation)()
    comm, _, _ = await agent_socket(ada)
    try:
        await until(comm, "queue")
        hexid = conversation.public_id.hex
        await comm.send_json_to({"type": "reply", "conversation": hexid, "text": "Your refund is on its way", "client_id": "r-1"})
        first = await until(comm, "ack")
        await comm.send_json_to({"type": "reply", "conversation": hexid, "text": "Your refund is on its way", "client_id": "r-1"})
        assert (await until(comm, "ack"))["id"] == first["id"]  # a resend: stored once
        await comm.send_json_to({"type": "reply", "conversation": hexid, "text": "Something else", "client_id": "r-1"})
        error = await until(comm, "error")
        assert (error["code"], error["client_id"]) == ("client_id_reused", "r-1")
        # A shopper's client_id in the same conversation is not the agent's to reuse either.
        await comm.send_json_to({"type": "reply", "conversation": hexid, "text": "thank you!", "client_id": "s-1"})
        await database_sync_to_async(Message.objects.create)(conversation=conversation, sender="shopper", text="x", client_id="s-2")
        await comm.send_json_to({"type": "reply", "conversation": hexid, "text": "x", "client_id": "s-2"})
        error = await until(comm, "error")
        assert (error["code"], error["client_id"]) == ("client_id_reused", "s-2")
    finally:
        await comm.disconnect()
    texts = await database_sync_to_async(lambda: list(Message.objects.filter(sender="agent").values_list("text", flat=True)))()
    assert sorted(texts) == ["Your refund is on its way", "thank you!"]
