"""Load bench: N concurrent shoppers over real WebSockets against the production stack.

Starts Daphne on the production settings (PostgreSQL + the Redis channel layer), seeds the
demo shop into a fresh database, then drives shoppers who each hold a conversation: greeting,
shipping and product questions, a verified order look-up, policy questions, thanks. Reports
reply latency (message sent -> bot reply received) p50/p95/p99, replies per second, and checks
that no message was lost: every acknowledged message stored exactly once, every one answered.
A single-shopper run first gives the baseline; the ratio of the two is printed.

    .venv/bin/python bench/bench_chat.py --shoppers 50 --turns 8
    .venv/bin/python bench/bench_chat.py --shoppers 50 --turns 8 --language ja   # the same script in Japanese

With --language ja the shoppers write the same eight turns in Japanese (and open the chat with
?language=ja, as the Japanese storefront does). Run the two back to back to compare them.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import re
import secrets
import signal
import socket
import statistics
import subprocess
import sys
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PY = sys.executable


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def pct(values, q):
    values = sorted(values)
    if not values:
        return float("nan")
    k = max(0, min(len(values) - 1, int(round(q / 100 * (len(values) - 1)))))
    return values[k]


TURN_LABELS = ["greeting", "shipping question", "product question", "verified order look-up", "policy question",
               "policy question", "thanks", "goodbye"]


def script_for(demo: dict, rng: random.Random) -> list[str]:
    shipped = demo["shipped"]
    turns = [
        rng.choice(["hi", "hello there", "hey!"]),
        rng.choice(["how much is shipping to austria?", "what are your delivery options", "do you ship to the netherlands"]),
        rng.choice(["do you have linen shirts?", "looking for a warm wool jumper", "any cotton bedding?"]),
        f"where is my order {shipped['number']}? my email is {shipped['email']}",
        rng.choice(["which payment methods do you accept", "how do returns work?", "how do i reset my password"]),
        rng.choice(["can i use a discount code", "what are your opening hours", "how long does a refund take"]),
        rng.choice(["thanks!", "thank you so much", "great, thanks"]),
        "bye",
    ]
    return turns


def japanese_script_for(demo: dict, rng: random.Random) -> list[str]:
    """The same eight turns as script_for, as Japanese shoppers write them."""
    shipped = demo["shipped"]
    turns = [
        rng.choice(["こんにちは", "すみません", "こんばんは！"]),
        rng.choice(["オーストリアまでの送料はいくらですか？", "配送方法を教えてください", "オランダに発送できますか"]),
        rng.choice(["リネンのシャツはありますか？", "暖かいウールのセーターを探しています", "コットンの寝具はありますか"]),
        f"注文番号{shipped['number']}はどこですか？メールは{shipped['email']}です",
        rng.choice(["支払い方法は何がありますか", "返品の方法を教えてください", "パスワードを再設定したいです"]),
        rng.choice(["クーポンコードは使えますか", "返金にはどのくらいかかりますか", "注文をキャンセルしたいです"]),
        rng.choice(["ありがとうございます！", "助かりました、ありがとう", "ありがとう"]),
        "さようなら",
    ]
    return turns


SCRIPTS = {"en": script_for, "ja": japanese_script_for}
JAPANESE = re.compile(r"[\u3040-\u30ff\u4e00-\u9fff]")


async def shopper(url: str, origin: str, turns: list[str], think: float, rng: random.Random, out: dict, headers=None):
    import websockets

    latencies, acked, by_turn = [], {}, []
    origin = origin or "http://" + url.split("//", 1)[1].split("/", 1)[0]  # the server's own host:port
    async with websockets.connect(url, origin=origin, max_size=2**20, open_timeout=30, additional_headers=headers) as ws:
        session = json.loads(await ws.recv())
        assert session["type"] == "session", session
        for turn, text in enumerate(turns):
            client_id = str(uuid.uuid4())
            t0 = time.perf_counter()
            await ws.send(json.dumps({"type": "message", "text": text, "client_id": client_id}))
            got_ack = got_reply = False
            while not (got_ack and got_reply):
                frame = json.loads(await asyncio.wait_for(ws.recv(), timeout=30))
                if frame["type"] == "ack" and frame["client_id"] == client_id:
                    acked[client_id] = frame["id"]
                    got_ack = True
                elif frame["type"] == "message" and frame["sender"] == "bot":
                    latencies.append((time.perf_counter() - t0) * 1000)
                    out.setdefault("replies", []).append(frame.get("text") or "")
                    by_turn.append((turn, latencies[-1]))
                    got_reply = True
                elif frame["type"] == "error":
                    out.setdefault("errors", []).append(frame)
                    got_reply = got_ack = True
                elif frame["type"] == "escalated":
                    pass
            await asyncio.sleep(think * (0.5 + rng.random()))
    out["latencies"].extend(latencies)
    out.setdefault("by_turn", []).extend(by_turn)
    out["acked"].update(acked)
    out["conversations"].append(session["conversation"])


async def drive(urls, origin, demo, shoppers, turns, think, seed, language="en"):
    out = {"latencies": [], "acked": {}, "conversations": []}
    rngs = [random.Random(seed + i) for i in range(shoppers)]
    t0 = time.perf_counter()
    # Staggered arrivals, as real shoppers come.
    tasks = []
    for i in range(shoppers):
        script = SCRIPTS[language](demo, rngs[i])[:turns]
        # Round-robin over the ASGI processes, as the proxy in front of them would.
        url = urls[i % len(urls)] + ("" if language == "en" else f"?language={language}")
        tasks.append(asyncio.create_task(shopper(url, origin, script, think, rngs[i], out)))
        await asyncio.sleep(think / shoppers)
    results = await asyncio.gather(*tasks, return_exceptions=True)
    elapsed = time.perf_counter() - t0
    failures = [r for r in results if isinstance(r, Exception)]
    return out, elapsed, failures


def check_stored(env: dict, acked: dict) -> dict:
    code = (
        "import json,sys,django;django.setup();from bot.models import Message;"
        "ids=json.load(sys.stdin);"
        "rows=list(Message.objects.filter(sender='shopper',client_id__in=list(ids)).values_list('client_id','pk'));"
        "from collections import Counter;c=Counter(r[0] for r in rows);"
        "shopper_ids=[r[1] for r in rows];"
        "answered=sum(1 for pk in shopper_ids if Message.objects.filter(conversation__messages__pk=pk,pk__gt=pk,sender__in=['bot','system']).exists());"
        "print(json.dumps({'stored':len(rows),'duplicates':sum(1 for v in c.values() if v>1),"
        "'missing':len(set(ids)-set(c)),'id_mismatch':sum(1 for cid,pk in rows if ids[cid]!=pk),'answered':answered}))"
    )
    return django_json(env, code, acked)


def django_json(env: dict, code: str, payload) -> dict:
    """Run `code` in a Django process on the bench's database with `payload` as JSON on stdin;
    returns the JSON it prints last."""
    result = subprocess.run([PY, "-c", code], input=json.dumps(payload), env=env, cwd=ROOT, capture_output=True, text=True, check=True)
    return json.loads(result.stdout.strip().splitlines()[-1])


def bench_env(args, **extra) -> dict:
    """The servers' and helpers' environment: production settings on the bench's own database."""
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "support.settings",
        "DATABASE_URL": f"{args.postgres}/{args.database}",
        "REDIS_URL": args.redis,
        "CHANNELS_PREFIX": f"bench{os.getpid()}",
        "CACHE_PREFIX": f"bench{os.getpid()}",
        "DEBUG": "0",
        "SECRET_KEY": os.environ.get("SECRET_KEY") or secrets.token_urlsafe(50),  # DEBUG=0 refuses the repository's key
        "LOG_LEVEL": "WARNING",
        "EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend",
        "STATIC_ROOT": str(ROOT / "var" / "bench-static"),
        **extra,
    }


def create_database(env: dict, args) -> None:
    """A fresh, migrated database `args.database` (dropped first if it exists)."""
    subprocess.run(["psql", args.postgres + "/postgres", "-qc", f"DROP DATABASE IF EXISTS {args.database} WITH (FORCE)"], check=True)
    subprocess.run(["psql", args.postgres + "/postgres", "-qc", f"CREATE DATABASE {args.database}"], check=True)
    subprocess.run([PY, "manage.py", "migrate", "-v0"], env=env, cwd=ROOT, check=True)


def prepare_database(env: dict, args) -> dict:
    """A fresh database with the demo shop; returns the demo orders by scenario."""
    create_database(env, args)
    # As in production: DEBUG off serves hashed static files from the collected manifest.
    subprocess.run([PY, "manage.py", "collectstatic", "--noinput", "-v0"], env=env, cwd=ROOT, check=True)
    # DEBUG is off: seed_demo seeds only with --force (this is the bench's own fresh database).
    seeded = subprocess.run([PY, "manage.py", "seed_demo", "--json", "--force"], env=env, cwd=ROOT, check=True, capture_output=True, text=True)
    return {s["scenario"]: s for s in json.loads(seeded.stdout)["demo_orders"]}


def drop_database(args) -> None:
    subprocess.run(["psql", args.postgres + "/postgres", "-qc", f"DROP DATABASE IF EXISTS {args.database} WITH (FORCE)"], check=False)


def start_servers(env: dict, count: int, log_name: str) -> tuple[list, list[str]]:
    """`count` Daphne processes on free ports; returns (processes, their ws://.../ws/chat/ URLs)."""
    log_path = ROOT / "var" / log_name
    log_path.parent.mkdir(exist_ok=True)
    server_log = log_path.open("w")
    ports = [free_port() for _ in range(count)]
    servers = [
        subprocess.Popen(
            [str(Path(PY).parent / "daphne"), "-b", "127.0.0.1", "-p", str(port), "support.asgi:application"],
            env=env,
            cwd=ROOT,
            stdout=server_log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        for port in ports
    ]
    for port in ports:
        for _ in range(300):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.1)
    return servers, [f"ws://127.0.0.1:{port}/ws/chat/" for port in ports]


def stop_servers(servers) -> None:
    for server in servers:
        os.killpg(server.pid, signal.SIGTERM)
    for server in servers:
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--shoppers", type=int, default=50)
    parser.add_argument("--turns", type=int, default=8)
    parser.add_argument("--think", type=float, default=3.0, help="mean seconds a shopper waits between messages")
    parser.add_argument("--servers", type=int, default=2, help="Daphne processes (one per core) behind round-robin")
    parser.add_argument("--database", default="bench_chat")
    parser.add_argument("--postgres", default="postgres://postgres@127.0.0.1:5432")
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/9")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--language", default="en", choices=sorted(SCRIPTS), help="the shoppers' language")
    args = parser.parse_args()

    # Every shopper comes from 127.0.0.1: the per-address limits would count them all as one.
    env = bench_env(args, RATE_LIMITS="off")
    demo = prepare_database(env, args)
    servers, urls = start_servers(env, args.servers, "bench_chat_daphne.log")
    try:
        origin = None  # each shopper sends its server's own origin: the check compares the port
        # Warm up every process (model, indexes) so the figures are steady-state.
        asyncio.run(drive(urls, origin, demo, len(urls), args.turns, 0.05, args.seed, args.language))

        print(f"language: {args.language}; baseline: 1 shopper x {args.turns} turns")
        base, base_elapsed, base_fail = asyncio.run(drive(urls[:1], origin, demo, 1, args.turns, args.think, args.seed + 100, args.language))
        print(
            f"load: {args.shoppers} concurrent shoppers x {args.turns} turns, think time ~{args.think}s, "
            f"{len(urls)} Daphne process(es)"
        )
        load, elapsed, failures = asyncio.run(drive(urls, origin, demo, args.shoppers, args.turns, args.think, args.seed, args.language))
        stored = check_stored(env, load["acked"])
    finally:
        stop_servers(servers)
        drop_database(args)

    lat, blat = load["latencies"], base["latencies"]
    if failures or base_fail:
        print(f"  FAILURES: {len(failures)} of {args.shoppers} shoppers, e.g. {failures[:3]!r} {base_fail[:1]!r}")
    if not lat or not blat:
        print("no replies measured")
        return 1
    print(f"  baseline p50 {pct(blat, 50):.1f} ms  p95 {pct(blat, 95):.1f} ms")
    print(f"  replies: {len(lat)} in {elapsed:.1f} s = {len(lat) / elapsed:.1f} replies/s")
    print(f"  reply latency p50 {pct(lat, 50):.1f} ms  p95 {pct(lat, 95):.1f} ms  p99 {pct(lat, 99):.1f} ms  mean {statistics.mean(lat):.1f} ms")
    print(f"  ratio p50 load/baseline: {pct(lat, 50) / pct(blat, 50):.2f}x")
    for turn, label in enumerate(TURN_LABELS[: args.turns]):
        values = [ms for k, ms in load.get("by_turn", []) if k == turn]
        if values:
            print(f"    turn {turn + 1} ({label}): p50 {pct(values, 50):.1f} ms  p95 {pct(values, 95):.1f} ms")
    expected = args.shoppers * args.turns
    print(
        f"  acked {len(load['acked'])}/{expected}, stored {stored['stored']}, duplicates {stored['duplicates']}, "
        f"missing {stored['missing']}, id mismatches {stored['id_mismatch']}, answered {stored['answered']}"
    )
    print(f"  shopper failures: {len(failures)} {failures[:3]!r}; error frames: {len(load.get('errors', []))}")
    replies = load.get("replies", [])
    japanese = sum(1 for text in replies if JAPANESE.search(text))
    print(f"  replies written in Japanese (any kana or kanji): {japanese} of {len(replies)}")
    ok = (
        not failures
        and len(load["acked"]) == expected
        and stored["stored"] == expected
        and stored["duplicates"] == stored["missing"] == stored["id_mismatch"] == 0
        and stored["answered"] == expected
    )
    print("no message lost" if ok else "MESSAGES LOST OR UNANSWERED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
