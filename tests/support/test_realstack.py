"""The desk on the production stack: PostgreSQL, Redis, a real Celery worker, two daphne servers.

Skipped without DATABASE_URL + REDIS_URL; under CI (REQUIRE_REAL_STACK=1) they must run.
"""

import asyncio
import time

import psycopg
import pytest
from asgiref.sync import sync_to_async
from django.db import connection
from django.test import Client
from websockets.exceptions import ConnectionClosed

from bot.conversations import conversation_from_token
from bot.models import Conversation, TrainingExample
from support import handoff
from support.celery import app as celery_app
from support.models import Escalation
from tests.support import stack
from tests.support.conftest import PACKET, make_agent
from tests.support.wsclient import Socket

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.realstack, pytest.mark.slow]


def database_url() -> str:
    s = connection.settings_dict
    auth = s["USER"] + (f":{s['PASSWORD']}" if s["PASSWORD"] else "")
    return f"postgres://{auth}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"


@pytest.fixture
def real_stack(require_real_stack, settings):
    """Env for child processes; this test process pushes and enqueues to the same place."""
    env = stack.stack_env(database_url=database_url(), redis_url=settings.REDIS_URL)
    layers = {k: {**v, "CONFIG": {**v["CONFIG"], "prefix": env["CHANNELS_PREFIX"]}} for k, v in settings.CHANNEL_LAYERS.items()}
    settings.CHANNEL_LAYERS = layers
    previous_queue, previous_eager = celery_app.conf.task_default_queue, celery_app.conf.task_always_eager
    celery_app.conf.task_default_queue = env["CELERY_QUEUE"]
    celery_app.conf.task_always_eager = False
    procs = []
    yield env, procs
    for proc in procs:
        stack.stop(proc)
        # Shown by pytest only when the test failed.
        print(f"--- {proc.args[0]} {proc.log_path}\n{stack.tail(proc)}")
    celery_app.conf.task_default_queue, celery_app.conf.task_always_eager = previous_queue, previous_eager


def login_cookie(user) -> str:
    client = Client()
    client.force_login(user)
    return f"sessionid={client.cookies['sessionid'].value}"


async def test_handoff_between_two_servers_with_a_real_worker(real_stack):
    env, procs = real_stack
    procs.append(stack.start_worker(env))
    shop_server, shop_port = stack.start_daphne(env)
    procs.append(shop_server)
    desk_server, desk_port = stack.start_daphne(env)
    procs.append(desk_server)

    ada = await sync_to_async(make_agent)("ada")
    cookie = await sync_to_async(login_cookie)(ada)
    agent = await Socket.open(f"ws://127.0.0.1:{desk_port}/ws/agent/", cookie=cookie)
    shopper = await Socket.open(f"ws://127.0.0.1:{shop_port}/ws/chat/")
    try:
        await agent.until("queue")
        session = await shopper.until("session")
        conversation = await sync_to_async(conversation_from_token)(session["conversation"])

        # The shopper asks for a person (the real chat path): the frame reaches the agent on
        # the other server, and the real worker routes it to ada, the only agent online.
        await shopper.send({"type": "message", "text": "Talk to a person", "client_id": "s0"})
        escalated = await shopper.until("escalated", timeout=30)
        assert escalated["position"] == 1
        queued = await agent.until("escalation", conversation=conversation.public_id.hex, timeout=20)
        escalation = await sync_to_async(Escalation.objects.get)(pk=queued["id"])
        assigned = await agent.until("escalation", id=escalation.pk, status="assigned", timeout=20)
        assert assigned["assigned_to"] == "ada" and assigned["for_you"] is True

        await agent.send({"type": "claim", "escalation": escalation.pk})
        view = await agent.until("conversation")
        assert view["conversation"] == conversation.public_id.hex
        assert (await shopper.until("agent_joined"))["agent"] == "Ada"

        # Agent -> shopper, across servers.
        await agent.send({"type": "typing", "conversation": view["conversation"]})
        assert (await shopper.until("typing"))["sender"] == "agent"
        await agent.send({"type": "reply", "conversation": view["conversation"], "text": "Hi, I'm Ada.", "client_id": "a1"})
        ack = await agent.until("ack", client_id="a1")
        reply = await shopper.until("message", sender="agent")
        assert (reply["id"], reply["text"], reply["agent_name"]) == (ack["id"], "Hi, I'm Ada.", "Ada")

        # Shopper -> agent, across servers; the bot stays silent while ada has it.
        await shopper.send({"type": "typing"})
        assert (await agent.until("typing"))["sender"] == "shopper"
        await shopper.send({"type": "message", "text": "where is my parcel?", "client_id": "s1"})
        await shopper.until("ack", client_id="s1")
        incoming = await agent.until("message", sender="shopper")
        assert incoming["text"] == "where is my parcel?"
        with pytest.raises(TimeoutError):
            await shopper.until("message", sender="bot", timeout=2)

        await agent.send({"type": "resolve", "escalation": escalation.pk, "intent": "track_order"})
        await shopper.until("agent_left")
        await agent.until("escalation", id=escalation.pk, status="resolved")
        # public_id: the conversation's row was written with its first message, after the session.
        conversation = await sync_to_async(Conversation.objects.get)(public_id=conversation.public_id)
        assert conversation.status == "bot"
        labelled = await sync_to_async(lambda: list(TrainingExample.objects.values_list("text", "intent")))()
        # What led to the hand-off is labelled, not what the shopper told the agent afterwards.
        assert labelled == [("Talk to a person", "track_order")]
    finally:
        await agent.close()
        await shopper.close()


def test_a_worker_killed_mid_task_loses_no_escalation(real_stack):
    env, procs = real_stack
    ada = make_agent("ada", online=True)
    conversation = Conversation.objects.create()
    url = database_url().replace("postgres://", "postgresql://")
    with psycopg.connect(url, autocommit=False) as blocker, psycopg.connect(url, autocommit=True) as watcher:
        # Hold the agents' rows: the routing task blocks inside its transaction, mid-task.
        blocker.execute("SELECT id FROM support_agentprofile FOR UPDATE").fetchall()
        first = stack.start_worker(env)
        procs.append(first)
        escalation = handoff.conversation_escalate(conversation=conversation, reason="requested", context=PACKET)
        deadline = time.monotonic() + 30
        waiting = []
        while time.monotonic() < deadline and not waiting:
            waiting = watcher.execute(
                "SELECT pid FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND datname = current_database()"
                " AND query ILIKE '%%support_agentprofile%%'"
            ).fetchall()
            time.sleep(0.2)
        assert waiting, "the routing task never reached the database"
        stack.kill_hard(first)
        # The dead worker's session would notice its client is gone on its own; make it now.
        for (pid,) in waiting:
            watcher.execute("SELECT pg_terminate_backend(%s)", [pid])
        blocker.rollback()

    escalation.refresh_from_db()
    assert escalation.status == "queued"  # nothing routed it; the row is safe in PostgreSQL
    # A new worker gets the unacknowledged task again (acks_late) and finishes it.
    procs.append(
        stack.start_worker(
            env,
            extra_conf={
                "broker_transport_options": {
                    "visibility_timeout": 3, "unacked_restore_interval": 1, "unacked_restore_throttle": 1,
                }
            },
        )
    )
    deadline = time.monotonic() + 40
    while time.monotonic() < deadline:
        escalation.refresh_from_db()
        if escalation.status == "assigned":
            break
        time.sleep(0.5)
    assert escalation.status == "assigned" and escalation.assigned_to == ada
    assert Escalation.objects.count() == 1


async def test_a_redis_restart_loses_no_message(require_real_stack, settings):
    """Redis (layer and broker) restarts mid-conversation: every acknowledged message survives,
    and the shopper who reconnects sees the whole transcript, in order, once."""
    with stack.private_redis() as (redis_url, restart_redis):
        env = stack.stack_env(database_url=database_url(), redis_url=redis_url)
        procs = [stack.start_worker(env)]
        try:
            shop_server, shop_port = stack.start_daphne(env)
            procs.append(shop_server)
            desk_server, desk_port = stack.start_daphne(env)
            procs.append(desk_server)
            ada = await sync_to_async(make_agent)("ada")
            cookie = await sync_to_async(login_cookie)(ada)
            desk_url, shop_url = f"ws://127.0.0.1:{desk_port}/ws/agent/", f"ws://127.0.0.1:{shop_port}/ws/chat/"
            agent = await Socket.open(desk_url, cookie=cookie)
            await agent.until("queue")
            shopper = await Socket.open(shop_url)
            token = (await shopper.until("session"))["conversation"]
            await shopper.send({"type": "message", "text": "Talk to a person", "client_id": "s0"})
            queued = await agent.until("escalation", timeout=30)
            await agent.send({"type": "claim", "escalation": queued["id"]})
            hexid = (await agent.until("conversation", timeout=20))["conversation"]
            sent = []

            async def delivered(sock, url, first, payload, cookie=None):
                """Send until acknowledged. A socket that the restart still breaks (1011) is
                reopened and the same client_id sent again, as the widget and workspace do."""
                for _ in range(5):
                    try:
                        await sock.send(payload)
                        await sock.until("ack", client_id=payload["client_id"], timeout=20)
                        return sock
                    except (ConnectionError, ConnectionClosed):
                        sock = await reopen(url, first, cookie=cookie)
                raise AssertionError(f"{payload} was never acknowledged")

            async def exchange(tag):
                nonlocal shopper, agent
                for k in range(3):
                    payload = {"type": "message", "text": f"{tag} shopper {k}", "client_id": f"{tag}-s{k}"}
                    shopper = await delivered(shopper, f"{shop_url}?conversation={token}", "session", payload)
                    payload = {"type": "reply", "conversation": hexid, "text": f"{tag} agent {k}", "client_id": f"{tag}-a{k}"}
                    agent = await delivered(agent, desk_url, "queue", payload, cookie=cookie)
                    sent.extend([f"{tag} shopper {k}", f"{tag} agent {k}"])

            await exchange("before")
            await asyncio.get_running_loop().run_in_executor(None, restart_redis)
            await shopper.close()
            await agent.close()
            # Reconnect as the widget and the workspace do, until the server's first frame.
            agent = await reopen(desk_url, "queue", cookie=cookie)
            shopper = await reopen(f"{shop_url}?conversation={token}", "session")
            await exchange("after")
            await shopper.close()
            shopper = await Socket.open(f"{shop_url}?conversation={token}")
            history = (await shopper.until("session"))["history"]
            texts = [m["text"] for m in history if m["text"] in sent]
            assert texts == sent
            await shopper.close()
            await agent.close()
        finally:
            for proc in procs:
                stack.stop(proc)


async def reopen(url, first, cookie=None):
    """Right after the restart a server may still hold a pooled connection to the old Redis:
    that socket closes (1011), and the next attempt gets a fresh one."""
    last = None
    for _ in range(40):
        try:
            socket = await Socket.open(url, cookie=cookie, timeout=5)
            await socket.until(first, timeout=10)
            return socket
        except Exception as exc:  # noqa: BLE001
            last = exc
            await asyncio.sleep(0.25)
    raise AssertionError(f"could not reconnect to {url}: {last}")
