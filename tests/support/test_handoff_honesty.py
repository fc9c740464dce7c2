"""What the shopper is told at a hand-off is what will happen: a place in the queue when someone
is online, the follow-up by e-mail (and no place in the queue) when nobody is. An e-mail address
typed in answer to the follow-up question is taken as the answer, not as a new question."""

import os

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.conf import settings
from django.core import mail

from bot import conversations
from bot.models import Message
from bot.services import assistant_reply
from support import agent_actions, assignment, handoff
from support.asgi import application
from support.models import Escalation
from tests.support.conftest import make_agent

pytestmark = [pytest.mark.django_db(transaction=True)]


def _need_the_model():
    if not (settings.SLM_ARTIFACT_DIR / "config.json").exists():
        if os.environ.get("CI") == "true":
            pytest.fail(f"no SLM artifact in {settings.SLM_ARTIFACT_DIR}")
        pytest.skip(f"no SLM artifact in {settings.SLM_ARTIFACT_DIR}")


async def _frames_of_a_hand_off(comm) -> tuple[dict, list[dict]]:
    """Connect, ask for a person, and collect every frame until the chat falls quiet."""
    session = await comm.receive_json_from(timeout=10)
    assert session["type"] == "session"
    await comm.send_json_to({"type": "message", "text": "Talk to a person", "client_id": "m1"})
    frames = []
    while not await comm.receive_nothing(timeout=2, interval=0.05):
        frames.append(await comm.receive_json_from(timeout=10))
    return session, frames


def _shopper_texts(frames) -> str:
    return "\n".join(f.get("text", "") for f in frames if f["type"] == "message").lower()


async def _chat():
    comm = WebsocketCommunicator(application, "/ws/chat/", headers=[(b"origin", b"http://testserver"), (b"host", b"testserver")])
    connected, _ = await comm.connect(timeout=10)
    assert connected
    return comm


async def test_nobody_online_the_shopper_gets_the_follow_up_by_email_and_no_place_in_the_queue():
    _need_the_model()
    comm = await _chat()
    try:
        session, frames = await _frames_of_a_hand_off(comm)
    finally:
        await comm.disconnect()
    assert session["agents_online"] is False
    escalated = [f for f in frames if f["type"] == "escalated"]
    assert escalated == [{"type": "escalated", "reason": "requested", "position": None, "agents_online": False}]
    assert not [f for f in frames if f["type"] == "queue"]
    said = _shopper_texts(frames)
    assert said.count("no one from our support team is online right now") == 1
    assert "e-mail" in said
    for promise in ("queue", "join shortly", "in a moment"):
        assert promise not in said


async def test_an_agent_online_the_shopper_gets_their_place_in_the_queue_and_no_after_hours_notice():
    _need_the_model()
    await database_sync_to_async(make_agent)("ada", online=True)
    comm = await _chat()
    try:
        session, frames = await _frames_of_a_hand_off(comm)
    finally:
        await comm.disconnect()
    assert session["agents_online"] is True
    escalated = [f for f in frames if f["type"] == "escalated"]
    assert escalated == [{"type": "escalated", "reason": "requested", "position": 1, "agents_online": True}]
    said = _shopper_texts(frames)
    assert "online right now" not in said and "e-mail" not in said


def _say(conversation, text, n):
    message, _ = conversations.message_store(conversation=conversation, sender="shopper", text=text, client_id=f"c{n}")
    reply = assistant_reply(conversation_id=conversation.pk, message_id=message.pk)
    conversation.refresh_from_db()
    return reply


@pytest.mark.parametrize("answer", ["jo@example.com", "sure, it's jo@example.com", "my e-mail is jo@example.com"])
def test_an_email_given_for_the_follow_up_is_only_the_answer_never_a_new_question(
    answer, django_capture_on_commit_callbacks
):
    _need_the_model()
    conversation = conversations.conversation_start()
    with django_capture_on_commit_callbacks(execute=True):
        _say(conversation, "Talk to a person", 1)
    assert conversation.state["awaiting_followup_email"] is True
    with django_capture_on_commit_callbacks(execute=True):
        reply = _say(conversation, answer, 2)
    ticket = conversation.followup_tickets.get()
    assert reply.text == f"Thanks — we've opened ticket #{ticket.pk} and will reply to jo@example.com as soon as our team is back."
    assert not reply.data.get("sources") and not reply.data.get("cards")

    # The desk resolves it: a typed address is not a proved one, so no transcript is mailed to it
    # (README Security); the stored transcript holds no answer to a question nobody asked.
    ada = make_agent("ada", online=True)
    escalation = Escalation.objects.get(conversation=conversation)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        agent_actions.escalation_claim(escalation_id=escalation.pk, agent=ada)
    with django_capture_on_commit_callbacks(execute=True):
        agent_actions.escalation_resolve(escalation_id=escalation.pk, agent=ada, intent="contact_human_agent")
    assert not [m for m in mail.outbox if "your conversation" in m.subject]
    transcript = "\n".join(conversation.messages.values_list("text", flat=True))
    assert answer in transcript and f"ticket #{ticket.pk}" in transcript
    assert "help centre" not in transcript.lower() and "reliable answer" not in transcript.lower()
    bot_texts = list(conversation.messages.filter(sender=Message.Sender.BOT).values_list("text", flat=True))
    assert len(bot_texts) == 2  # the hand-off and the ticket: nothing else


async def _frames_for(layer, channel) -> list[dict]:
    import asyncio

    frames = []
    while True:
        try:
            frames.append((await asyncio.wait_for(layer.receive(channel), 0.5))["frame"])
        except asyncio.TimeoutError:
            return frames


async def test_the_watchdog_tells_no_one_a_place_in_the_queue_while_nobody_is_online(settings):
    from tests.support.conftest import PACKET, make_conversation
    from tests.support.test_consumers import shopper_listener

    settings.SUPPORT_QUEUE_SLA_SECONDS = 0
    conversation = await database_sync_to_async(make_conversation)("anyone there?")
    await database_sync_to_async(handoff.conversation_escalate)(conversation=conversation, reason="requested", context=PACKET)
    layer, channel = await shopper_listener(conversation)
    report = await database_sync_to_async(assignment.escalation_sla_check)()
    assert report["raised"] == 1
    assert [f for f in await _frames_for(layer, channel) if f["type"] == "queue"] == []

    # Someone is online: a place in the queue is true again.
    await database_sync_to_async(make_agent)("ada", online=True, capacity=0)
    report = await database_sync_to_async(assignment.escalation_sla_check)()
    assert report["raised"] == 1
    assert [f for f in await _frames_for(layer, channel) if f["type"] == "queue"] == [{"type": "queue", "position": 1}]
