"""Abuse bench: a 100-socket flood from one address while a normal shopper chats.

Runs the production stack as bench_chat.py does (Daphne processes on PostgreSQL and Redis, the
demo shop in a fresh database) with the per-address limits ON (bot.limits; the defaults, or
CHAT_CONNECTIONS_PER_MINUTE / CHAT_MESSAGES_PER_MINUTE from the environment).

Every socket here comes from 127.0.0.1, so the servers run with TRUSTED_PROXY=1 and each
client sends X-Forwarded-For, as a proxy in front of them would: the flood is 203.0.113.66,
the normal shopper 198.51.100.10. (Without TRUSTED_PROXY the header is ignored and both would
count as one address.)

1. baseline: the normal shopper alone, --turns messages;
2. flood: --flood sockets from one address connect at once, and each that gets in sends a
   message every --flood-every seconds (within its own per-socket limit) while the normal
   shopper sends the same number of messages again.

It prints the normal shopper's reply latency p50/p95 in both phases and the ratio of the p95s
(target <= 2x), what the flood got (connections refused with 4429, messages acknowledged,
refused as rate_limited, sockets closed), and checks: every acknowledged message, the
shopper's and the flood's, is stored exactly once and answered; the flood created no
escalation and no conversation without a message (rows only for the messages it got in).

    .venv/bin/python bench/bench_abuse.py --redis redis://127.0.0.1:6379/9
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import sys
import time
import uuid
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_chat import (  # noqa: E402 — the bench folder is not a package
    bench_env,
    check_stored,
    django_json,
    drive,
    drop_database,
    pct,
    prepare_database,
    script_for,
    shopper,
    start_servers,
    stop_servers,
)

FLOOD_ADDRESS = "203.0.113.66"
SHOPPER_ADDRESS = "198.51.100.10"
FLOOD_TEXTS = ["hi", "hello there", "what are your opening hours?", "do you ship to austria?"]


async def flood_socket(url: str, origin: str, stop: asyncio.Event, every: float, rng: random.Random, out: dict):
    import websockets
    from websockets.exceptions import ConnectionClosed

    headers = {"X-Forwarded-For": FLOOD_ADDRESS}
    try:
        origin = origin or "http://" + url.split("//", 1)[1].split("/", 1)[0]  # the server's own host:port
        async with websockets.connect(url, origin=origin, additional_headers=headers, open_timeout=60, max_size=2**20) as ws:
            first = json.loads(await ws.recv())
            if first["type"] == "error":
                out["refused_at_connect"][first["code"]] += 1
                await ws.wait_closed()
                out["close_codes"][ws.close_code] += 1
                return
            out["connected"] += 1

            async def read():
                async for raw in ws:
                    frame = json.loads(raw)
                    if frame["type"] == "ack":
                        out["acked"][frame["client_id"]] = frame["id"]
                    elif frame["type"] == "error":
                        out["errors"][frame["code"]] += 1
                    elif frame["type"] == "message" and frame.get("sender") == "bot":
                        out["answers"] += 1
                    elif frame["type"] == "escalated":
                        out["escalated_frames"] += 1

            reader = asyncio.create_task(read())
            await asyncio.sleep(rng.random() * every)
            while not stop.is_set() and not reader.done():
                await ws.send(json.dumps({"type": "message", "text": rng.choice(FLOOD_TEXTS), "client_id": str(uuid.uuid4())}))
                out["sent"] += 1
                try:
                    await asyncio.wait_for(stop.wait(), timeout=every)
                except asyncio.TimeoutError:
                    pass
            await asyncio.sleep(3)  # let the last answers arrive
            reader.cancel()
    except ConnectionClosed as exc:
        out["close_codes"][exc.rcvd.code if exc.rcvd else None] += 1
        return
    except Exception as exc:  # noqa: BLE001 — counted and reported, the bench goes on
        out["failures"].append(repr(exc))
        return
    out["close_codes"]["closed by the bench"] += 1


async def flood_phase(urls, origin, demo, args):
    stop = asyncio.Event()
    flood = {
        "connected": 0, "sent": 0, "answers": 0, "escalated_frames": 0, "acked": {}, "failures": [],
        "errors": Counter(), "refused_at_connect": Counter(), "close_codes": Counter(),
    }
    rngs = [random.Random(args.seed + 1000 + i) for i in range(args.flood)]
    tasks = [
        asyncio.create_task(flood_socket(urls[i % len(urls)], origin, stop, args.flood_every, rngs[i], flood))
        for i in range(args.flood)
    ]
    await asyncio.sleep(2)  # the connect burst is part of the flood; the shopper starts right after it
    t0 = time.perf_counter()
    normal = await normal_shopper(urls[0], origin, demo, args, seed=args.seed + 200)
    elapsed = time.perf_counter() - t0
    stop.set()
    await asyncio.gather(*tasks)
    return normal, flood, elapsed


async def normal_shopper(url, origin, demo, args, *, seed):
    rng = random.Random(seed)
    turns = []
    while len(turns) < args.turns:
        turns.extend(script_for(demo, rng))
    out = {"latencies": [], "acked": {}, "conversations": []}
    await shopper(url, origin, turns[: args.turns], args.think, rng, out, headers={"X-Forwarded-For": SHOPPER_ADDRESS})
    return out


def rows_of(env: dict, flood_ids: list[str]) -> dict:
    """Conversations and escalations in the database, and those of the flood's stored messages."""
    code = (
        "import json,sys,django;django.setup();"
        "from bot.models import Conversation,Message;from support.models import Escalation;"
        "ids=json.load(sys.stdin);"
        "convs=set(Message.objects.filter(client_id__in=ids).values_list('conversation_id',flat=True));"
        "print(json.dumps({'conversations':Conversation.objects.count(),'escalations':Escalation.objects.count(),"
        "'without_messages':Conversation.objects.filter(messages__isnull=True).count(),"
        "'flood_conversations':len(convs),'flood_escalations':Escalation.objects.filter(conversation_id__in=convs).count()}))"
    )
    return django_json(env, code, flood_ids)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--flood", type=int, default=100, help="sockets the flood opens from one address")
    parser.add_argument("--flood-every", type=float, default=1.0, help="seconds between one flood socket's messages")
    parser.add_argument("--turns", type=int, default=30, help="the normal shopper's messages per phase")
    parser.add_argument("--think", type=float, default=1.5, help="mean seconds the normal shopper waits between messages (the chat allows about one a second per socket)")
    parser.add_argument("--servers", type=int, default=2)
    parser.add_argument("--database", default="bench_abuse")
    parser.add_argument("--postgres", default="postgres://postgres@127.0.0.1:5432")
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/9")
    parser.add_argument("--seed", type=int, default=11)
    args = parser.parse_args()

    env = bench_env(args, TRUSTED_PROXY="1", RATE_LIMITS="on")
    demo = prepare_database(env, args)
    servers, urls = start_servers(env, args.servers, "bench_abuse_daphne.log")
    origin = None  # each socket sends its server's own origin: the check compares the port
    try:
        # Warm up every process (model, indexes), from the shopper's address.
        asyncio.run(drive(urls, origin, demo, len(urls), 4, 0.05, args.seed))
        print(f"baseline: the normal shopper alone, {args.turns} messages, think ~{args.think}s")
        base = asyncio.run(normal_shopper(urls[0], origin, demo, args, seed=args.seed + 100))
        before = rows_of(env, [])
        print(f"flood: {args.flood} sockets from {FLOOD_ADDRESS}, a message every {args.flood_every}s each, "
              f"while the shopper ({SHOPPER_ADDRESS}) sends {args.turns} more; {len(urls)} Daphne process(es)")
        normal, flood, elapsed = asyncio.run(flood_phase(urls, origin, demo, args))
        stored_normal = check_stored(env, {**base["acked"], **normal["acked"]})
        stored_flood = check_stored(env, flood["acked"])
        after = rows_of(env, list(flood["acked"]))
    finally:
        stop_servers(servers)
        drop_database(args)

    blat, lat = base["latencies"], normal["latencies"]
    if not blat or not lat:
        print("no replies measured")
        return 1
    ratio = pct(lat, 95) / pct(blat, 95)
    print(f"  shopper baseline    p50 {pct(blat, 50):.1f} ms  p95 {pct(blat, 95):.1f} ms  ({len(blat)} replies)")
    print(f"  shopper under flood p50 {pct(lat, 50):.1f} ms  p95 {pct(lat, 95):.1f} ms  ({len(lat)} replies in {elapsed:.1f} s)")
    print(f"  ratio p95 flood/baseline: {ratio:.2f}x (target <= 2x)")
    print(
        f"  flood: {flood['connected']} of {args.flood} sockets got in, refused at connect {dict(flood['refused_at_connect'])}; "
        f"{flood['sent']} messages sent, {len(flood['acked'])} acknowledged, {flood['answers']} answers, "
        f"errors {dict(flood['errors'])}, closes {dict(flood['close_codes'])}, failures {len(flood['failures'])} {flood['failures'][:2]}"
    )
    print(
        f"  rows: conversations {before['conversations']} -> {after['conversations']} "
        f"(flood's: {after['flood_conversations']}, without a message: {after['without_messages']}), "
        f"escalations {before['escalations']} -> {after['escalations']} (flood's: {after['flood_escalations']})"
    )
    expected = len(base["acked"]) + len(normal["acked"])
    print(
        f"  shopper: acked {expected}/{2 * args.turns}, stored {stored_normal['stored']}, duplicates {stored_normal['duplicates']}, "
        f"missing {stored_normal['missing']}, answered {stored_normal['answered']}; error frames {normal.get('errors', [])[:3]}"
    )
    print(
        f"  flood:   acked {len(flood['acked'])}, stored {stored_flood['stored']}, duplicates {stored_flood['duplicates']}, "
        f"missing {stored_flood['missing']}, id mismatches {stored_flood['id_mismatch']}, answered {stored_flood['answered']}"
    )
    lost = (
        expected != 2 * args.turns
        or stored_normal["stored"] != expected
        or stored_normal["answered"] != expected
        or stored_flood["stored"] != len(flood["acked"])
        or stored_flood["answered"] != len(flood["acked"])
        or stored_normal["duplicates"] or stored_normal["missing"] or stored_normal["id_mismatch"]
        or stored_flood["duplicates"] or stored_flood["missing"] or stored_flood["id_mismatch"]
    )
    flood_rows_ok = (
        after["flood_escalations"] == 0
        and after["without_messages"] == 0
        and after["flood_conversations"] <= len(flood["acked"])
    )
    print("no message lost" if not lost else "MESSAGES LOST OR UNANSWERED")
    print("flood escalated nothing, no empty conversations" if flood_rows_ok else "FLOOD CREATED ESCALATIONS OR EMPTY CONVERSATIONS")
    print("latency within target" if ratio <= 2 else "LATENCY OVER TARGET")
    return 0 if not lost and flood_rows_ok and ratio <= 2 else 1


if __name__ == "__main__":
    sys.exit(main())
