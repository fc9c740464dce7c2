"""Escalation figures on the real stack: PostgreSQL, Redis, a Celery worker, two daphne servers.

    .venv/bin/python bench/bench_escalation.py [--handoffs 40] [--replies 100]

Starts its own Redis (so that it can restart it), a database of its own (desk_bench, migrated),
one Celery worker and two daphne servers: shoppers on one, the agent on the other.

1. hand-off -> workspace: a shopper writes "Talk to a person" (the real chat path: stored,
   understood, escalated); timed until the escalation frame reaches the online agent's open
   workspace on the other server (and, separately, until the worker has routed it to them).
2. agent reply -> shopper: the agent's reply frame until the shopper's socket receives it.
3. Redis restart during a conversation: messages both ways, Redis killed and restarted, more
   messages, both clients reconnect; the shopper's resumed transcript must hold every
   acknowledged message exactly once, in order.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.support import stack  # noqa: E402


def percentile(values, p):
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    k = (len(ordered) - 1) * p / 100
    lo, hi = int(k), min(int(k) + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


def summary(name, seconds):
    ms = [s * 1000 for s in seconds]
    return (
        f"{name}: n={len(ms)} p50={percentile(ms, 50):.1f} ms p95={percentile(ms, 95):.1f} ms "
        f"max={max(ms):.1f} ms mean={statistics.mean(ms):.1f} ms"
    )


def prepare_database(base_url: str, name: str) -> str:
    subprocess.run(["psql", base_url, "-qc", f"DROP DATABASE IF EXISTS {name}"], check=True)
    subprocess.run(["psql", base_url, "-qc", f"CREATE DATABASE {name}"], check=True)
    return base_url.rsplit("/", 1)[0] + f"/{name}"


async def bench(args, env, shop_port, desk_port, restart_redis):
    from asgiref.sync import sync_to_async

    from tests.support.wsclient import Socket

    cookie = await sync_to_async(agent_cookie)()
    desk_url = f"ws://127.0.0.1:{desk_port}/ws/agent/"
    shop_url = f"ws://127.0.0.1:{shop_port}/ws/chat/"
    agent = await Socket.open(desk_url, cookie=cookie)
    await agent.until("queue")

    # --- 1. hand-off -> workspace ---------------------------------------------------
    seen, routed, shoppers = [], [], []
    for i in range(args.handoffs):
        shopper = await Socket.open(shop_url)
        session = await shopper.until("session")
        shoppers.append((shopper, session["conversation"]))
        hexid = await sync_to_async(conversation_hex)(session["conversation"])
        t0 = time.perf_counter()
        await shopper.send({"type": "message", "text": "Talk to a person", "client_id": uuid.uuid4().hex})
        frame = await agent.until("escalation", conversation=hexid, timeout=30)
        seen.append(time.perf_counter() - t0)
        if frame["status"] != "assigned":
            frame = await agent.until("escalation", conversation=hexid, status="assigned", timeout=30)
        routed.append(time.perf_counter() - t0)
        shoppers[-1] = (shopper, session["conversation"], frame["id"], hexid)
    print(summary("hand-off -> escalation in the agent's workspace", seen), flush=True)
    print(summary("hand-off -> routed to the agent by the worker", routed), flush=True)

    # --- 2. agent reply -> shopper --------------------------------------------------
    for shopper, _token, escalation_id, hexid in shoppers:
        await agent.send({"type": "claim", "escalation": escalation_id})
        await agent.until("conversation", conversation=hexid, timeout=30)
        await shopper.until("agent_joined", timeout=30)
    replies = []
    for i in range(args.replies):
        shopper, _token, _eid, hexid = shoppers[i % len(shoppers)]
        text = f"reply {i}"
        t0 = time.perf_counter()
        await agent.send({"type": "reply", "conversation": hexid, "text": text, "client_id": uuid.uuid4().hex})
        await shopper.until("message", sender="agent", text=text, timeout=30)
        replies.append(time.perf_counter() - t0)
    print(summary("agent reply -> shopper", replies), flush=True)
    # Baseline in the same run: the agent socket's own ping -> pong round trip (one heartbeat write, no
    # channel layer), so the ratio shows what the reply path adds on top of the bare socket.
    pings = []
    for _ in range(args.replies):
        t0 = time.perf_counter()
        await agent.send({"type": "ping"})
        await agent.until("pong", timeout=30)
        pings.append(time.perf_counter() - t0)
    print(summary("baseline: agent ping -> pong", pings), flush=True)
    print(
        f"ratio agent reply -> shopper / ping round trip: p50 {percentile(replies, 50) / percentile(pings, 50):.1f}x",
        flush=True,
    )
    for shopper, *_ in shoppers[1:]:
        await shopper.close()

    # --- 3. Redis restarts during a conversation -----------------------------------
    shopper, token, escalation_id, hexid = shoppers[0]
    sent_shopper, sent_agent = [], []

    async def exchange(tag, n):
        # Counted as sent only once acknowledged (by client_id): the guarantee is about those.
        for k in range(n):
            text, cid = f"{tag} shopper {k}", uuid.uuid4().hex
            await shopper.send({"type": "message", "text": text, "client_id": cid})
            await shopper.until("ack", client_id=cid, timeout=30)
            sent_shopper.append(text)
            text, cid = f"{tag} agent {k}", uuid.uuid4().hex
            await agent.send({"type": "reply", "conversation": hexid, "text": text, "client_id": cid})
            await agent.until("ack", client_id=cid, timeout=30)
            sent_agent.append(text)

    await exchange("before", 5)
    t_down = time.perf_counter()
    await asyncio.get_running_loop().run_in_executor(None, restart_redis)
    downtime = time.perf_counter() - t_down
    # Both clients reconnect as the widget and the workspace do: a fresh socket, same session.
    for old in (shopper, agent):
        try:
            await old.close()
        except Exception:  # noqa: BLE001 — already dead after the restart
            pass
    agent, _ = await reconnect(desk_url, "queue", cookie=cookie)
    shopper, _ = await reconnect(f"{shop_url}?conversation={token}", "session")
    await exchange("after", 5)
    await shopper.close()
    shopper = await Socket.open(f"{shop_url}?conversation={token}")
    history = (await shopper.until("session", timeout=30))["history"]
    texts = [m["text"] for m in history]
    got_shopper = [t for t in texts if " shopper " in t]
    got_agent = [m["text"] for m in history if m["sender"] == "agent" and " agent " in m["text"]]
    intact = got_shopper == sent_shopper and got_agent == sent_agent
    print(
        f"Redis restart (down {downtime:.1f} s incl. restart): {len(sent_shopper)} shopper + {len(sent_agent)} agent "
        f"messages acknowledged; resumed transcript has {len(got_shopper)} + {len(got_agent)}, in order, "
        f"no duplicates: {'yes' if intact else 'NO'}",
        flush=True,
    )
    if not intact:
        print("  missing shopper:", [t for t in sent_shopper if t not in got_shopper], "agent:", [t for t in sent_agent if t not in got_agent])
        print("  history:", [(m["sender"], m["text"]) for m in history])
    await shopper.close()
    await agent.close()
    return intact


async def reconnect(url, first, cookie=None, attempts=40):
    """Reconnect like the widget and the workspace: retry until the server's first frame arrives.

    Right after a Redis restart a server may still hand out a pooled connection to the old
    Redis; that socket closes (1011) and the next attempt gets a fresh one.
    """
    from tests.support.wsclient import Socket

    for _ in range(attempts):
        try:
            socket = await Socket.open(url, cookie=cookie, timeout=5)
            return socket, await socket.until(first, timeout=10)
        except Exception:  # noqa: BLE001
            await asyncio.sleep(0.25)
    raise RuntimeError(f"could not reconnect to {url}")


def agent_cookie() -> str:
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Permission
    from django.test import Client

    from support.models import AgentProfile

    user = get_user_model().objects.create_user("bench-agent", password="x" * 16, first_name="Bea", is_staff=True)
    user.user_permissions.add(Permission.objects.get(codename="handle_escalations"))
    AgentProfile.objects.create(user=user, capacity=10_000)
    client = Client()
    client.force_login(user)
    return f"sessionid={client.cookies['sessionid'].value}"


def conversation_hex(token: str) -> str:
    from bot.conversations import conversation_from_token

    return conversation_from_token(token).public_id.hex


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--handoffs", type=int, default=40)
    parser.add_argument("--replies", type=int, default=100)
    parser.add_argument("--postgres", default=os.environ.get("BENCH_POSTGRES", "postgres://postgres@127.0.0.1:5432/postgres"))
    args = parser.parse_args()

    database_url = prepare_database(args.postgres, "desk_bench")
    procs = []
    with stack.private_redis() as (redis_url, restart_redis):
        # Every shopper and agent socket comes from 127.0.0.1: lift the per-address limits.
        env = {**stack.stack_env(database_url=database_url, redis_url=redis_url), "RATE_LIMITS": "off"}
        subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], cwd=ROOT, env=env, check=True)
        os.environ.update({k: env[k] for k in ("DATABASE_URL", "REDIS_URL", "CELERY_QUEUE", "CHANNELS_PREFIX", "CACHE_PREFIX", "SECRET_KEY")})
        os.environ["DJANGO_SETTINGS_MODULE"] = "support.settings"
        import django

        django.setup()
        try:
            procs.append(stack.start_worker(env))
            shop, shop_port = stack.start_daphne(env)
            procs.append(shop)
            desk, desk_port = stack.start_daphne(env)
            procs.append(desk)
            print(f"stack: PostgreSQL {database_url.rsplit('/', 1)[1]}, Redis {redis_url}, 1 worker, daphne :{shop_port} (shoppers) + :{desk_port} (agent)", flush=True)
            intact = asyncio.run(bench(args, env, shop_port, desk_port, restart_redis))
        finally:
            for proc in procs:
                stack.stop(proc)
            from django.db import connections

            connections.close_all()
            # Leave nothing behind, as bench_chat does.
            subprocess.run(["psql", args.postgres, "-qc", "DROP DATABASE IF EXISTS desk_bench WITH (FORCE)"], check=False)
    sys.exit(0 if intact else 1)


if __name__ == "__main__":
    main()
