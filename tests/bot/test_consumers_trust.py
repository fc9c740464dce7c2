"""The shopper chat against abuse: per-address limits across sockets, no rows for bare connects,
text no database stores, a client_id reused for other text (issue #11, findings 4, 5, 8).

In-process (WebsocketCommunicator); CI's PostgreSQL pass runs them on PostgreSQL and the Redis
cache too (the limits count in the cache). They run on the in-memory channel layer: they are not
about pushes, and with the Redis layer a socket refused at connect intermittently left a layer
receive that never finished cancelling when the test's event loop closed (a hang in teardown,
about one run in five; see the closing note of issue #11).
"""

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.core import signing

from bot import consumers
from bot.conversations import TOKEN_SALT
from bot.models import Conversation, Message
from support.asgi import application
from support.models import Escalation
from tests.bot.test_consumers import ORIGIN, _no_reply, cid, frames_until, session, stored

pytestmark = [pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _in_memory_layer(settings):
    from channels.layers import channel_layers

    settings.CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
    channel_layers.backends.clear()
    yield
    channel_layers.backends.clear()


async def connect_from(address, path="/ws/chat/", headers=ORIGIN):
    """A socket whose peer is `address` (Daphne puts the peer in scope["client"])."""
    comm = WebsocketCommunicator(application, path, headers=headers)
    comm.scope["client"] = [address, 50000]
    connected, _ = await comm.connect(timeout=10)
    assert connected
    return comm


@database_sync_to_async
def counts():
    return Conversation.objects.count(), Escalation.objects.count()


def public_id(token):
    return signing.loads(token, salt=TOKEN_SALT)


@pytest.fixture
def quiet_bot(monkeypatch):
    # What the assistant answers is not what these tests are about: keep turns instant.
    monkeypatch.setattr(consumers.ChatConsumer, "reply_to", _no_reply)


# --- Limits per client address --------------------------------------------------------------


async def admitted_and_refused(comms) -> tuple[list, list]:
    """Split sockets into those that got their session and those refused at connect. The sockets'
    connects are counted concurrently (each in its own worker thread), so which one of several
    from one address is over the limit is not fixed: only how many."""
    admitted, refused = [], []
    for comm in comms:
        frame = await comm.receive_json_from(timeout=10)
        if frame["type"] == "session":
            admitted.append(comm)
        else:
            assert frame["type"] == "error" and frame["code"] == "rate_limited" and frame["detail"], frame
            assert await comm.receive_output(timeout=10) == {"type": "websocket.close", "code": 4429}
            refused.append(comm)
    return admitted, refused


async def test_connections_per_address_are_limited_across_sockets(settings):
    settings.CHAT_CONNECTIONS_PER_MINUTE = 2
    same = [await connect_from("203.0.113.7") for _ in range(3)]
    other = await connect_from("198.51.100.9")
    try:
        admitted, refused = await admitted_and_refused(same)
        assert len(admitted) == 2 and len(refused) == 1
        await session(other)  # another address is not held back
        # Bare connects store nothing and escalate nothing.
        assert await counts() == (0, 0)
    finally:
        for comm in same + [other]:
            await comm.disconnect()


async def test_messages_per_address_are_limited_across_two_sockets(settings, quiet_bot):
    settings.CHAT_MESSAGES_PER_MINUTE = 3
    a, b = await connect_from("203.0.113.7"), await connect_from("203.0.113.7")
    try:
        await session(a), await session(b)
        sent = [(a, cid()), (b, cid()), (a, cid()), (b, cid())]
        for comm, client_id in sent:
            await comm.send_json_to({"type": "message", "text": f"hello {client_id}", "client_id": client_id})
        acked, limited = [], []
        for comm, client_id in sent:
            frame = await comm.receive_json_from(timeout=10)
            assert frame["client_id"] == client_id
            (acked if frame["type"] == "ack" else limited).append(frame)
        assert len(acked) == 3 and [f["code"] for f in limited] == ["rate_limited"]
        # The refused one is not stored; the acknowledged ones are, once.
        assert sorted(c for _, c in await stored()) == sorted(f["client_id"] for f in acked)
        # The socket stays open: a rating still works on it.
        await b.send_json_to({"type": "rating", "score": 4})
        assert (await frames_until(b, "rated"))[0]["score"] == 4
    finally:
        await a.disconnect()
        await b.disconnect()


async def test_rate_limits_off_lifts_the_per_address_limits(settings, quiet_bot):
    settings.RATE_LIMITS = False
    settings.CHAT_CONNECTIONS_PER_MINUTE = 1
    settings.CHAT_MESSAGES_PER_MINUTE = 1
    socks = [await connect_from("203.0.113.7") for _ in range(3)]
    try:
        for comm in socks:
            await session(comm)
            await comm.send_json_to({"type": "message", "text": "hi", "client_id": cid()})
            assert (await comm.receive_json_from(timeout=10))["type"] == "ack"
    finally:
        for comm in socks:
            await comm.disconnect()


@pytest.mark.parametrize("trusted", [False, True])
async def test_x_forwarded_for_is_ignored_unless_the_proxy_is_trusted(settings, trusted):
    settings.CHAT_CONNECTIONS_PER_MINUTE = 1
    settings.TRUSTED_PROXY = trusted
    socks = [
        await connect_from("127.0.0.1", headers=ORIGIN + [(b"x-forwarded-for", f"198.51.100.{n}".encode())]) for n in (1, 2)
    ]
    try:
        admitted, refused = await admitted_and_refused(socks)
        if trusted:
            assert len(admitted) == 2  # two addresses, each within its limit
        else:
            assert len(admitted) == 1 and len(refused) == 1  # one peer: the header chose nothing
    finally:
        for comm in socks:
            await comm.disconnect()


# --- No conversation row before the first message ------------------------------------------


async def test_connecting_creates_no_conversation_the_first_message_does_and_its_token_resumes_it(quiet_bot):
    comm = await connect_from("203.0.113.7")
    token = (await session(comm))["conversation"]
    await comm.disconnect()
    assert await counts() == (0, 0)

    # Resuming a conversation nobody wrote in: empty history, the same conversation, no error.
    comm = await connect_from("203.0.113.7", f"/ws/chat/?conversation={token}")
    frame, seen = await frames_until(comm, "session")
    assert [f["type"] for f in seen] == ["session"] and frame["history"] == []
    assert public_id(frame["conversation"]) == public_id(token)
    await comm.send_json_to({"type": "message", "text": "first words", "client_id": cid()})
    await frames_until(comm, "ack")
    await comm.disconnect()
    rows = await database_sync_to_async(lambda: list(Conversation.objects.values_list("public_id", flat=True)))()
    assert [row.hex for row in rows] == [public_id(token)]

    comm = await connect_from("203.0.113.7", f"/ws/chat/?conversation={token}")
    try:
        frame = await session(comm)
        assert [m["text"] for m in frame["history"]] == ["first words"]
    finally:
        await comm.disconnect()
    assert await counts() == (1, 0)


async def test_a_rating_before_any_message_is_refused_and_stores_nothing():
    comm = await connect_from("203.0.113.7")
    try:
        await session(comm)
        await comm.send_json_to({"type": "rating", "score": 5})
        error, _ = await frames_until(comm, "error")
        assert error["code"] == "nothing_to_rate"
        assert await counts() == (0, 0)
    finally:
        await comm.disconnect()


# --- Text no database stores ----------------------------------------------------------------


@pytest.mark.parametrize("text", ["hi\\u0000there", "\\u0000", "broken \\udcff", "\\ud83d alone", "tail \\udc00"])
async def test_nul_and_lone_surrogates_get_bad_text_and_the_socket_stays_open(text, quiet_bot):
    comm = await connect_from("203.0.113.7")
    try:
        await session(comm)
        client_id = cid()
        # JSON escapes: the frame itself is valid UTF-8, as a browser sends it.
        await comm.send_to(text_data='{"type": "message", "text": "%s", "client_id": "%s"}' % (text, client_id))
        error, _ = await frames_until(comm, "error")
        assert error == {"type": "error", "code": "bad_text", "detail": consumers.BAD_TEXT, "client_id": client_id}
        assert await stored() == []
        # The socket lives on and the next normal message is stored and acknowledged.
        ok = cid()
        await comm.send_json_to({"type": "message", "text": "a normal question", "client_id": ok})
        ack, _ = await frames_until(comm, "ack")
        assert ack["client_id"] == ok and await stored() == [("a normal question", ok)]
    finally:
        await comm.disconnect()


async def test_a_paired_surrogate_emoji_is_stored_as_it_is(quiet_bot):
    comm = await connect_from("203.0.113.7")
    try:
        await session(comm)
        client_id = cid()
        await comm.send_to(text_data='{"type": "message", "text": "thanks \\ud83d\\ude00", "client_id": "%s"}' % client_id)
        await frames_until(comm, "ack")
        assert await stored() == [("thanks \U0001f600", client_id)]
    finally:
        await comm.disconnect()


@pytest.mark.parametrize(
    "frame",
    [
        '{"type": "message", "text": "hello", "client_id": "id-\\udcff"}',
        '{"type": "message", "text": "hello", "client_id": "id-\\u0000"}',
        '{"type": "rating", "score": 4, "comment": "great\\u0000"}',
        '{"type": "rating", "score": 4, "comment": "\\udcff"}',
    ],
)
async def test_bad_text_in_a_client_id_or_a_rating_comment_is_refused_too(frame, quiet_bot):
    comm = await connect_from("203.0.113.7")
    try:
        await session(comm)
        await comm.send_json_to({"type": "message", "text": "hi", "client_id": cid()})
        await frames_until(comm, "ack")
        await comm.send_to(text_data=frame)
        error, _ = await frames_until(comm, "error")
        assert error["code"] == "bad_text" and "client_id" not in error
        assert len(await stored()) == 1
        rating = await database_sync_to_async(lambda: Conversation.objects.values_list("rating", flat=True).get())()
        assert rating is None
        await comm.send_json_to({"type": "rating", "score": 4, "comment": "fine"})
        assert (await frames_until(comm, "rated"))[0]["score"] == 4
    finally:
        await comm.disconnect()


# --- client_id reuse ------------------------------------------------------------------------


async def test_a_client_id_resent_with_different_text_gets_an_error_and_the_same_text_its_ack(quiet_bot):
    comm = await connect_from("203.0.113.7")
    try:
        await session(comm)
        client_id = cid()
        await comm.send_json_to({"type": "message", "text": "first text", "client_id": client_id})
        first, _ = await frames_until(comm, "ack")
        await comm.send_json_to({"type": "message", "text": "other text", "client_id": client_id})
        error, _ = await frames_until(comm, "error")
        assert error["code"] == "client_id_reused" and error["client_id"] == client_id and error["detail"]
        await comm.send_json_to({"type": "message", "text": "first text", "client_id": client_id})
        again, _ = await frames_until(comm, "ack")
        assert again["id"] == first["id"]
        assert await stored() == [("first text", client_id)]
        assert await database_sync_to_async(Message.objects.count)() == 1
    finally:
        await comm.disconnect()

