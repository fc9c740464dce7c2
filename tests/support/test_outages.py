"""Outages degrade the chat, they do not end it (bot/outages.py), on the production stack.

Redis: a private redis-server is stopped under a running daphne. PostgreSQL: daphne reaches it
through a TCP proxy in this process, which is cut and restored. Skipped without DATABASE_URL +
REDIS_URL; under CI (REQUIRE_REAL_STACK=1) they must run.
"""

import asyncio
import time
import urllib.error
import urllib.request

import pytest
from asgiref.sync import sync_to_async
from django.db import connection

from bot.conversations import conversation_from_token
from tests.support import stack
from tests.support.conftest import make_agent
from tests.support.test_realstack import database_url, login_cookie
from tests.support.wsclient import Socket

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.realstack, pytest.mark.slow]


def http_get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=15) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


async def ask(socket: Socket, text: str, client_id: str, timeout: float = 20) -> dict:
    """Send a message; its ack and then the bot's answer must come back on this socket."""
    await socket.send({"type": "message", "text": text, "client_id": client_id})
    ack = await socket.until("ack", client_id=client_id, timeout=timeout)
    answer = await socket.until("message", sender="bot", timeout=timeout)
    assert answer["id"] > ack["id"] and answer["text"]
    return answer


async def test_redis_down_a_bot_chat_keeps_answering_and_people_return_with_redis(require_real_stack):
    with stack.private_redis_server() as redis:
        env = {**stack.stack_env(database_url=database_url(), redis_url=redis.url), "REALTIME_RETRY_SECONDS": "1"}
        procs = []
        shopper = other = agent = None
        try:
            shop_server, shop_port = stack.start_daphne(env)
            procs.append(shop_server)
            desk_server, desk_port = stack.start_daphne(env)
            procs.append(desk_server)
            shop_url = f"ws://127.0.0.1:{shop_port}/ws/chat/"
            shopper = await Socket.open(shop_url)
            await shopper.until("session")
            await ask(shopper, "do you ship to Switzerland?", "before")

            await asyncio.get_running_loop().run_in_executor(None, redis.stop)
            # Told once that people can't join; the socket is not closed (it used to close 1011).
            assert (await shopper.until("status", timeout=10))["live_agents"] is False
            answer = await ask(shopper, "how long does shipping take?", "during")
            assert answer["intent"] != "out_of_scope"
            assert shopper.close_code is None

            # A hand-off while Redis (the Celery broker too) is down: stored, answered at once;
            # the publish to the broker fails fast and is logged, the turn is not held.
            other = await Socket.open(shop_url)
            other_token = (await other.until("session"))["conversation"]
            started = time.monotonic()
            await ask(other, "I want to talk to a person", "handoff-during")
            assert time.monotonic() - started < 10

            await asyncio.get_running_loop().run_in_executor(None, redis.start)
            assert (await shopper.until("status", timeout=15))["live_agents"] is True

            # People again: an agent on the other server sees the queue (the outage's hand-off
            # included, from the database) and a new hand-off from the same socket, live.
            ada = await sync_to_async(make_agent)("ada")
            agent = await Socket.open(f"ws://127.0.0.1:{desk_port}/ws/agent/", cookie=await sync_to_async(login_cookie)(ada))
            queue = await agent.until("queue", timeout=15)
            other_conversation = await sync_to_async(conversation_from_token)(other_token)
            assert other_conversation.public_id.hex in {e["conversation"] for e in queue["escalations"]}
            await shopper.send({"type": "message", "text": "Talk to a person", "client_id": "handoff-after"})
            await shopper.until("ack", client_id="handoff-after", timeout=20)
            # The socket re-joined its group when Redis came back: the push reaches it.
            await shopper.until("escalated", timeout=20)
            pushed = await agent.until("escalation", timeout=20, status="queued")
            assert pushed["conversation"] != other_conversation.public_id.hex
        finally:
            for socket in (shopper, other, agent):
                if socket is not None:
                    await socket.close()
            for proc in procs:
                stack.stop(proc)
                print(f"--- {proc.log_path}\n{stack.tail(proc)}")


async def test_database_down_the_shopper_gets_unavailable_and_the_same_socket_recovers(require_real_stack, settings):
    s = connection.settings_dict
    proxy = stack.TcpProxy(s["HOST"] or "127.0.0.1", int(s["PORT"] or 5432))
    await proxy.start()
    via_proxy = database_url().replace(f":{s['PORT'] or 5432}/", f":{proxy.port}/")
    assert str(proxy.port) in via_proxy
    env = stack.stack_env(database_url=via_proxy, redis_url=settings.REDIS_URL)
    procs = []
    shopper = None
    loop = asyncio.get_running_loop()
    try:
        server, port = stack.start_daphne(env)
        procs.append(server)
        shopper = await Socket.open(f"ws://127.0.0.1:{port}/ws/chat/")
        token = (await shopper.until("session"))["conversation"]
        await ask(shopper, "do you ship to Switzerland?", "before")

        await proxy.cut()
        await shopper.send({"type": "message", "text": "how long does shipping take?", "client_id": "cut-1"})
        error = await shopper.until("error", timeout=20)
        assert (error["code"], error["client_id"]) == ("unavailable", "cut-1")
        # Not acknowledged (the client keeps it), and the socket stays open for more.
        await shopper.send({"type": "message", "text": "hello?", "client_id": "cut-2"})
        error = await shopper.until("error", timeout=20)
        assert (error["code"], error["client_id"]) == ("unavailable", "cut-2")
        assert shopper.close_code is None

        # A new socket can't open its session: told so, then closed with "try again later".
        late = await Socket.open(f"ws://127.0.0.1:{port}/ws/chat/?conversation={token}")
        assert (await late.until("error", timeout=20))["code"] == "unavailable"
        assert await late.closed(timeout=10) == 4503

        status, body = await loop.run_in_executor(None, http_get, f"http://127.0.0.1:{port}/")
        assert status == 503 and "back in a moment" in body

        await proxy.restore()
        # The same socket, no restart: the kept message goes through, once, and is answered.
        answer = await ask(shopper, "how long does shipping take?", "cut-1", timeout=30)
        assert answer["intent"] != "out_of_scope"
        await ask(shopper, "do you ship to Austria?", "after")
        status, _ = await loop.run_in_executor(None, http_get, f"http://127.0.0.1:{port}/")
        assert status == 200
        texts = await sync_to_async(
            lambda: list(conversation_from_token(token).messages.filter(sender="shopper").values_list("client_id", flat=True))
        )()
        assert texts == ["before", "cut-1", "after"]
    finally:
        if shopper is not None:
            await shopper.close()
        for proc in procs:
            stack.stop(proc)
            print(f"--- {proc.log_path}\n{stack.tail(proc)}")
        await proxy.cut()


def test_the_widget_says_live_agents_are_unavailable_while_redis_is_down_and_still_answers(require_real_stack, browser):
    from tests.live import LiveServer, artifacts_dir, wait_until

    with stack.private_redis_server() as redis:
        server = LiveServer(REDIS_URL=redis.url, CHANNELS_PREFIX="outage-browser", REALTIME_RETRY_SECONDS="1")
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 860})
            errors = []
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.goto(server.url + "/", wait_until="domcontentloaded")
            page.get_by_test_id("sc-launcher").click()
            status = page.get_by_test_id("sc-status")
            # Open, and nothing said about live agents (the header may say the team is offline: nobody
            # is signed in to the desk here).
            live = "(s => s.dataset.state === 'open' && !s.textContent.includes('live agents unavailable'))(document.querySelector('[data-testid=sc-status]'))"
            wait_until(page, live, timeout=20)

            redis.stop()
            wait_until(page, "document.querySelector('[data-testid=sc-status]').textContent.includes('live agents unavailable')", timeout=20)
            page.get_by_test_id("sc-input").fill("do you ship to Switzerland?")
            page.get_by_test_id("sc-send").click()
            page.locator('[data-testid="sc-msg"][data-sender="bot"]').first.wait_for(timeout=30_000)
            assert status.get_attribute("data-state") == "open"  # the same socket, never reconnecting
            page.screenshot(path=str(artifacts_dir() / "chat-redis-down.png"))

            redis.start()
            wait_until(page, live, timeout=30)
            assert not errors, errors
        finally:
            server.close()
