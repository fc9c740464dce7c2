"""The agent socket (ws/agent/) and the workspace page, in-process (in-memory channel layer)."""

import asyncio

import pytest
from channels.db import database_sync_to_async
from channels.layers import get_channel_layer
from channels.testing import WebsocketCommunicator
from django.test import Client

from bot import conversations, events
from bot.models import Conversation
from support import agent_actions, handoff
from support.asgi import application
from support.models import AgentProfile, Escalation
from tests.support.conftest import PACKET, make_agent, make_conversation

pytestmark = [pytest.mark.django_db(transaction=True)]
ORIGIN = (b"origin", b"http://testserver")
HOST = (b"host", b"testserver")  # a browser sends both


def session_cookie(user) -> bytes:
    client = Client()
    client.force_login(user)
    return f"sessionid={client.cookies['sessionid'].value}".encode()


async def agent_socket(user=None, origin=ORIGIN):
    headers = [origin, HOST]
    if user is not None:
        headers.append((b"cookie", await database_sync_to_async(session_cookie)(user)))
    comm = WebsocketCommunicator(application, "/ws/agent/", headers=headers)
    connected, code = await comm.connect(timeout=10)
    return comm, connected, code


async def until(comm, kind, timeout=10, **match):
    while True:
        frame = await comm.receive_json_from(timeout=timeout)
        if frame["type"] == kind and all(frame.get(k) == v for k, v in match.items()):
            return frame


async def shopper_listener(conversation):
    """A stand-in for the shopper's socket: joins the conversation group and returns its queue."""
    layer = get_channel_layer()
    channel = await layer.new_channel()
    await layer.group_add(events.conversation_group(conversation), channel)
    return layer, channel


async def next_shopper_frame(layer, channel, kind, timeout=5):
    while True:
        event = await asyncio.wait_for(layer.receive(channel), timeout)
        if event["frame"]["type"] == kind:
            return event["frame"]


@pytest.mark.parametrize(
    "who",
    ["anonymous", "shopper", "staff_without_permission", "inactive_agent"],
)
async def test_only_active_staff_agents_get_in(who):
    user = None
    if who == "shopper":
        user = await database_sync_to_async(make_agent)("shop", staff=False)
    elif who == "staff_without_permission":
        user = await database_sync_to_async(make_agent)("clerk", perm=False)
    elif who == "inactive_agent":
        user = await database_sync_to_async(make_agent)("gone")
        await database_sync_to_async(type(user).objects.filter(pk=user.pk).update)(is_active=False)
    comm, connected, _ = await agent_socket(user)
    assert connected  # accepted, so that the close code reaches the client
    output = await comm.receive_output(timeout=5)
    assert output == {"type": "websocket.close", "code": 4403}
    await comm.disconnect()


async def test_a_foreign_origin_is_refused():
    ada = await database_sync_to_async(make_agent)("ada")
    comm, connected, _ = await agent_socket(ada, origin=(b"origin", b"http://evil.example"))
    assert not connected
    await comm.disconnect()


async def test_new_escalations_appear_live_and_claim_reply_release_work():
    ada = await database_sync_to_async(make_agent)("ada")
    comm, connected, _ = await agent_socket(ada)
    assert connected
    try:
        queue = await until(comm, "queue")
        assert queue["escalations"] == [] and queue["me"]["availability"] == "online"

        conversation = await database_sync_to_async(make_conversation)("where is my parcel")
        layer, shopper = await shopper_listener(conversation)
        escalation = await database_sync_to_async(handoff.conversation_escalate)(
            conversation=conversation, reason="requested", context=PACKET
        )
        frame = await until(comm, "escalation", id=escalation.pk)
        assert frame["conversation"] == conversation.public_id.hex and frame["reason"] == "requested"
        escalated = await next_shopper_frame(layer, shopper, "escalated")
        assert escalated == {"type": "escalated", "reason": "requested", "position": 1, "agents_online": True}
        # The routing task (eager here) assigns it to ada, the only agent online.
        assigned = await until(comm, "escalation", id=escalation.pk, status="assigned")
        assert assigned["assigned_to"] == "ada" and assigned["for_you"] is True
        assert assigned["version"] > frame["version"]

        await comm.send_json_to({"type": "claim", "escalation": escalation.pk})
        view = await until(comm, "conversation")
        assert [m["text"] for m in view["transcript"] if m["sender"] == "shopper"] == ["where is my parcel"]
        assert view["context"]["intents"] == PACKET["intents"]
        assert view["label_candidates"]
        joined = await next_shopper_frame(layer, shopper, "agent_joined")
        assert joined == {"type": "agent_joined", "agent": "Ada"}
        assert (await database_sync_to_async(Conversation.objects.get)(pk=conversation.pk)).status == "agent"

        await comm.send_json_to({"type": "reply", "conversation": conversation.public_id.hex, "text": "Hi, Ada here", "client_id": "r-1"})
        ack = await until(comm, "ack")
        assert ack["client_id"] == "r-1" and isinstance(ack["id"], int)
        reply = await next_shopper_frame(layer, shopper, "message")
        while reply["sender"] != "agent":
            reply = await next_shopper_frame(layer, shopper, "message")
        assert (reply["text"], reply["agent_name"], reply["id"]) == ("Hi, Ada here", "Ada", ack["id"])

        # The shopper writes (the chat consumer stores it): the agent sees it live.
        await database_sync_to_async(conversations.message_store)(
            conversation=conversation, sender="shopper", text="thank you!", client_id="s-9"
        )
        incoming = await until(comm, "message", sender="shopper")
        assert incoming["text"] == "thank you!" and incoming["conversation"] == conversation.public_id.hex

        await comm.send_json_to({"type": "typing", "conversation": conversation.public_id.hex})
        typing = await next_shopper_frame(layer, shopper, "typing")
        assert typing == {"type": "typing", "sender": "agent"}

        await comm.send_json_to({"type": "release", "conversation": conversation.public_id.hex})
        released = await until(comm, "escalation", id=escalation.pk, status="resolved")
        assert released["assigned_to"] == "ada"
        assert await next_shopper_frame(layer, shopper, "agent_left") == {"type": "agent_left"}
        assert (await database_sync_to_async(Conversation.objects.get)(pk=conversation.pk)).status == "bot"
    finally:
        await comm.disconnect()
    profile = await database_sync_to_async(AgentProfile.objects.get)(user=ada)
    assert (profile.availability, profile.open_sockets) == ("offline", 0)


async def test_claiming_what_a_colleague_holds_is_an_error_and_bad_frames_get_errors():
    ada = await database_sync_to_async(make_agent)("ada", online=True)
    bob = await database_sync_to_async(make_agent)("bob")
    conversation = await database_sync_to_async(make_conversation)("help")
    escalation = await database_sync_to_async(handoff.conversation_escalate)(
        conversation=conversation, reason="complaint", context=PACKET
    )
    await database_sync_to_async(agent_actions.escalation_claim)(escalation_id=escalation.pk, agent=ada)
    comm, connected, _ = await agent_socket(bob)
    try:
        queue = await until(comm, "queue")
        assert [e["id"] for e in queue["escalations"]] == [escalation.pk]
        assert queue["escalations"][0]["status"] == "active"
        bad = [
            ({"type": "claim", "escalation": escalation.pk}, "already_claimed"),
            ({"type": "claim", "escalation": "1"}, "bad_frame"),
            ({"type": "reply", "conversation": conversation.public_id.hex, "text": "hi", "client_id": "x"}, "not_yours"),
            ({"type": "release", "conversation": conversation.public_id.hex}, "not_yours"),
            ({"type": "resolve", "escalation": escalation.pk, "intent": "track_order"}, "already_claimed"),
            ({"type": "resolve", "escalation": escalation.pk, "intent": "nonsense"}, "bad_intent"),
            ({"type": "typing", "conversation": "zzz"}, "bad_conversation"),
            ({"type": "availability", "availability": "asleep"}, "bad_availability"),
            ({"type": "dance"}, "unknown_type"),
            ([1, 2], "bad_frame"),
        ]
        for frame, code in bad:
            await comm.send_json_to(frame)
            error = await until(comm, "error")
            assert error["code"] == code, (frame, error)
        await comm.send_to(text_data="{not json")
        assert (await until(comm, "error"))["code"] == "bad_frame"
        await comm.send_to(text_data="x" * 20000)
        assert (await until(comm, "error"))["code"] == "bad_frame"
        # Still connected and working.
        await comm.send_json_to({"type": "ping"})
        await until(comm, "pong")
    finally:
        await comm.disconnect()
    assert (await database_sync_to_async(Escalation.objects.get)(pk=escalation.pk)).assigned_to_id == ada.pk


async def test_an_agent_who_reconnects_keeps_receiving_messages_of_held_conversations():
    ada = await database_sync_to_async(make_agent)("ada", online=True)
    conversation = await database_sync_to_async(make_conversation)("help")
    escalation = await database_sync_to_async(handoff.conversation_escalate)(
        conversation=conversation, reason="requested", context=PACKET
    )
    await database_sync_to_async(agent_actions.escalation_claim)(escalation_id=escalation.pk, agent=ada)
    comm, _, _ = await agent_socket(ada)
    try:
        await until(comm, "queue")
        await database_sync_to_async(conversations.message_store)(conversation=conversation, sender="shopper", text="still there?")
        assert (await until(comm, "message", sender="shopper"))["text"] == "still there?"
    finally:
        await comm.disconnect()


def test_workspace_page_is_for_agents_only(client):
    url = "/desk/workspace/"
    assert client.get(url).status_code == 302  # to the admin login
    client.force_login(make_agent("clerk", perm=False))
    assert client.get(url).status_code == 403
    client.force_login(make_agent("shopper", staff=False))
    assert client.get(url).status_code == 302
    client.force_login(make_agent("ada"))
    response = client.get(url)
    assert response.status_code == 200
    html = response.content.decode()
    assert "support/workspace.js" in html and 'id="ws-intent-data"' in html and "track_order" in html


def test_escalation_admin_links_to_the_workspace(client):
    from django.contrib.auth import get_user_model

    admin_user = get_user_model().objects.create_superuser("root", "root@example.com", "pw")
    client.force_login(admin_user)
    response = client.get("/admin/support/escalation/")
    assert response.status_code == 200 and "/desk/workspace/" in response.content.decode()


async def test_an_agent_only_hears_the_conversations_they_hold():
    ada = await database_sync_to_async(make_agent)("ada", online=True)
    bob = await database_sync_to_async(make_agent)("bob")
    conversation = await database_sync_to_async(make_conversation)("private matter")
    escalation = await database_sync_to_async(handoff.conversation_escalate)(
        conversation=conversation, reason="requested", context=PACKET
    )
    await database_sync_to_async(agent_actions.escalation_claim)(escalation_id=escalation.pk, agent=ada)
    comm, _, _ = await agent_socket(bob)
    try:
        await until(comm, "queue")
        # Looking at it (without claiming) gives a snapshot, not a subscription.
        await comm.send_json_to({"type": "open", "escalation": escalation.pk})
        view = await until(comm, "conversation")
        assert view["escalation"]["assigned_to"] == "ada"
        await database_sync_to_async(conversations.message_store)(conversation=conversation, sender="shopper", text="my card number is …")
        await database_sync_to_async(events.typing)(conversation, sender="shopper", to_agents=True)
        while not await comm.receive_nothing(timeout=1):
            frame = await comm.receive_json_from()
            assert frame["type"] not in {"message", "typing"}, frame
    finally:
        await comm.disconnect()


async def test_waiting_shoppers_hear_their_new_place_when_someone_ahead_is_taken():
    ada = await database_sync_to_async(make_agent)("ada")
    first_conv = await database_sync_to_async(make_conversation)("first")
    second_conv = await database_sync_to_async(make_conversation)("second")
    first = await database_sync_to_async(handoff.conversation_escalate)(conversation=first_conv, reason="requested", context=PACKET)
    await database_sync_to_async(handoff.conversation_escalate)(conversation=second_conv, reason="requested", context=PACKET)
    layer, channel = await shopper_listener(second_conv)
    await database_sync_to_async(agent_actions.escalation_claim)(escalation_id=first.pk, agent=ada)
    assert await next_shopper_frame(layer, channel, "queue") == {"type": "queue", "position": 1}


def test_the_sla_watchdog_is_on_the_beat_schedule():
    from support.celery import app

    entry = app.conf.beat_schedule["support-sla-watchdog"]
    assert entry["task"] == "support.tasks.sla_watchdog" and entry["schedule"] <= 60
    assert "support.tasks.sla_watchdog" in app.tasks
