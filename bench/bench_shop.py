"""Shop bench: how much of a shop's real chat traffic the assistant answers on its own.

Builds the shop from its own files on a fresh PostgreSQL database — `migrate`, then
`import_catalog SHOP/products.csv`, `import_help SHOP/help/`, `index_search` and, when the
command exists, `adapt_assistant` — starts Daphne on the production settings (as bench_chat.py
does, RATE_LIMITS=off since every socket comes from 127.0.0.1), and replays a labelled shopper
set (intent -> messages) through the live chat: one NEW conversation per message, one
WebSocket each. For every message it records the bot's reply frame (intent, confidence) and
whether an `escalated` frame came, then reports:

- right-intent rate: the bot's `intent` on its reply equals the label;
- AUTOMATION RATE: of the in-scope messages (label != out_of_scope), the share answered with the
  right intent and no hand-off (no `escalated` frame);
- out-of-scope recall: of the out_of_scope messages, the share the bot took as out_of_scope;
- a per-intent table and the worst confusions; the full record goes to var/bench_shop-<set>.json.

    .venv/bin/python bench/bench_shop.py                                   # Brightwire (electronics)
    .venv/bin/python bench/bench_shop.py --shop-dir catalog/shops/electronics \\
        --set bot/data/shops/electronics_shoppers.yaml [--skip-adapt]
    .venv/bin/python bench/bench_shop.py --seed-demo --set bot/data/eval_shoppers.yaml  # the bench's own check
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import subprocess
import sys
import time
import uuid
from collections import Counter, defaultdict
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_chat import (  # noqa: E402 — the bench folder is not a package
    PY,
    ROOT,
    bench_env,
    create_database,
    drop_database,
    pct,
    prepare_database,
    start_servers,
    stop_servers,
)

OUT_OF_SCOPE = "out_of_scope"
REQUIRED = ("import_catalog", "import_help")
OPTIONAL = "adapt_assistant"


def load_set(path: Path) -> list[tuple[str, str]]:
    """(label, message) pairs of a shopper set: a YAML mapping intent -> list of messages."""
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    if not isinstance(data, dict) or not all(isinstance(v, list) for v in data.values()):
        raise SystemExit(f"{path}: expected a mapping of intent -> list of messages")
    return [(str(label), str(text)) for label, texts in data.items() for text in texts]


def available_commands(env: dict) -> set[str]:
    listing = subprocess.run([PY, "manage.py", "help", "--commands"], env=env, cwd=ROOT, check=True, capture_output=True, text=True)
    return set(listing.stdout.split())


def manage(env: dict, *argv: str) -> None:
    print(f"  manage.py {' '.join(argv)}", flush=True)
    subprocess.run([PY, "manage.py", *argv], env=env, cwd=ROOT, check=True)


def prepare_shop(env: dict, args) -> None:
    """A fresh database holding only the shop built from args.shop_dir."""
    commands = available_commands(env)
    missing = [c for c in REQUIRED if c not in commands]
    if missing:
        raise SystemExit(
            f"bench_shop: manage.py has no {' / '.join(missing)} command on this branch: the shop in "
            f"{args.shop_dir} cannot be imported. Merge the importers (issue #14), or check the replay "
            "itself with --seed-demo --set bot/data/eval_shoppers.yaml."
        )
    shop = Path(args.shop_dir)
    products, help_dir = shop / "products.csv", shop / "help"
    for path in (products, help_dir):
        if not path.exists():
            raise SystemExit(f"bench_shop: {path} does not exist")
    create_database(env, args)
    manage(env, "import_catalog", str(products))
    manage(env, "import_help", str(help_dir))
    manage(env, "index_search")
    if args.skip_adapt:
        print("  adapt_assistant skipped (--skip-adapt)")
    elif OPTIONAL in commands:
        manage(env, OPTIONAL)
    else:
        print(f"  no {OPTIONAL} command on this branch: the shipped model answers as it is")


async def ask(url: str, text: str, grace: float, timeout: float) -> dict:
    """One message in a new conversation: the bot's first reply and whether a hand-off came."""
    import websockets

    origin = "http://" + url.split("//", 1)[1].split("/", 1)[0]  # the origin check compares host and port
    record = {"intent": None, "confidence": None, "escalated": False, "reply": None, "error": None}
    async with websockets.connect(url, origin=origin, max_size=2**20, open_timeout=30) as ws:
        session = json.loads(await asyncio.wait_for(ws.recv(), timeout))
        if session.get("type") != "session":
            return {**record, "error": f"first frame {session.get('type')}"}
        client_id = str(uuid.uuid4())
        t0 = time.perf_counter()
        await ws.send(json.dumps({"type": "message", "text": text, "client_id": client_id}))
        deadline = None  # after the reply: wait `grace` seconds for an `escalated` frame
        while True:
            wait = timeout if deadline is None else deadline - time.perf_counter()
            if wait <= 0:
                break
            try:
                frame = json.loads(await asyncio.wait_for(ws.recv(), wait))
            except TimeoutError:
                if deadline is None:
                    record["error"] = "no reply"
                break
            kind = frame.get("type")
            if kind == "escalated":
                record["escalated"] = True
            elif kind == "error":
                record["error"] = frame.get("code")
                break
            elif kind == "message" and frame.get("sender") == "bot" and record["reply"] is None:
                record.update(intent=frame.get("intent"), confidence=frame.get("confidence"), reply=frame.get("text", "")[:300])
                record["ms"] = round((time.perf_counter() - t0) * 1000, 1)
                deadline = time.perf_counter() + grace
    return record


async def replay(urls: list[str], items: list[tuple[str, str]], concurrency: int, grace: float, timeout: float) -> list[dict]:
    from websockets.exceptions import WebSocketException

    gate = asyncio.Semaphore(concurrency)
    results: list[dict] = [{} for _ in items]

    async def one(i: int, label: str, text: str):
        async with gate:
            try:
                record = await ask(urls[i % len(urls)], text, grace, timeout)
            except (OSError, TimeoutError, WebSocketException) as exc:  # a refused or dropped socket is a result, not a crash
                record = {"intent": None, "confidence": None, "escalated": False, "reply": None, "error": repr(exc)}
            results[i] = {"label": label, "text": text, **record}

    await asyncio.gather(*(one(i, label, text) for i, (label, text) in enumerate(items)))
    return results


def summarise(results: list[dict]) -> dict:
    def rate(part, total):
        return round(part / total, 4) if total else None

    in_scope = [r for r in results if r["label"] != OUT_OF_SCOPE]
    oos = [r for r in results if r["label"] == OUT_OF_SCOPE]
    right = [r for r in results if r["intent"] == r["label"]]
    automated = [r for r in in_scope if r["intent"] == r["label"] and not r["escalated"]]
    per_intent = {}
    by_label = defaultdict(list)
    for r in results:
        by_label[r["label"]].append(r)
    for label, rows in sorted(by_label.items()):
        per_intent[label] = {
            "n": len(rows),
            "right_intent": rate(sum(r["intent"] == label for r in rows), len(rows)),
            "automated": rate(sum(r["intent"] == label and not r["escalated"] for r in rows), len(rows)) if label != OUT_OF_SCOPE else None,
            "escalated": rate(sum(r["escalated"] for r in rows), len(rows)),
        }
    confusions = Counter((r["label"], r["intent"]) for r in results if r["intent"] != r["label"])
    latencies = [r["ms"] for r in results if r.get("ms") is not None]
    return {
        "messages": len(results),
        "in_scope": len(in_scope),
        "right_intent_rate": rate(len(right), len(results)),
        "automation_rate": rate(len(automated), len(in_scope)),
        "out_of_scope_recall": rate(sum(r["intent"] == OUT_OF_SCOPE for r in oos), len(oos)),
        "escalated_rate": rate(sum(r["escalated"] for r in results), len(results)),
        "errors": sum(1 for r in results if r["error"]),
        "reply_ms_p50": pct(latencies, 50) if latencies else None,
        "reply_ms_p95": pct(latencies, 95) if latencies else None,
        "per_intent": per_intent,
        "worst_confusions": [{"label": a, "bot": b, "count": n} for (a, b), n in confusions.most_common(15)],
    }


def print_report(summary: dict, title: str) -> None:
    print(f"\n{title}")
    print(
        f"  messages {summary['messages']} (in scope {summary['in_scope']}), errors {summary['errors']}, "
        f"reply p50 {summary['reply_ms_p50']} ms, p95 {summary['reply_ms_p95']} ms"
    )
    print(f"  right-intent rate     {summary['right_intent_rate']}")
    print(f"  AUTOMATION RATE       {summary['automation_rate']}  (in-scope, right intent, no hand-off)")
    print(f"  out-of-scope recall   {summary['out_of_scope_recall']}")
    print(f"  escalated             {summary['escalated_rate']}")
    print(f"  {'intent':26} {'n':>4} {'right':>6} {'auto':>6} {'esc':>6}")
    for label, row in summary["per_intent"].items():
        auto = "-" if row["automated"] is None else f"{row['automated']:.2f}"
        print(f"  {label:26} {row['n']:>4} {row['right_intent']:>6.2f} {auto:>6} {row['escalated']:>6.2f}")
    print("  worst confusions (label -> bot's intent):")
    for c in summary["worst_confusions"][:10]:
        print(f"    {c['count']:>3}  {c['label']} -> {c['bot']}")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--shop-dir", default="catalog/shops/electronics", help="folder with products.csv and help/")
    parser.add_argument("--set", default="bot/data/shops/electronics_shoppers.yaml", help="shopper set: intent -> messages")
    parser.add_argument("--skip-adapt", action="store_true", help="do not run adapt_assistant even if it exists")
    parser.add_argument("--seed-demo", action="store_true", help="seed the demo shop instead of importing --shop-dir (checks the bench)")
    parser.add_argument("--servers", type=int, default=1, help="Daphne processes")
    parser.add_argument("--concurrency", type=int, default=4, help="conversations in flight at once")
    parser.add_argument("--grace", type=float, default=0.5, help="seconds to wait after the reply for an `escalated` frame")
    parser.add_argument("--timeout", type=float, default=30.0, help="seconds to wait for a reply")
    parser.add_argument("--limit", type=int, default=0, help="replay only the first N messages (0: all)")
    parser.add_argument("--database", default="bench_shop")
    parser.add_argument("--postgres", default="postgres://postgres@127.0.0.1:5432")
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/9")
    parser.add_argument("--keep-database", action="store_true", help="leave the bench database behind")
    args = parser.parse_args(argv)

    set_path = Path(args.set)
    items = load_set(set_path if set_path.is_absolute() else ROOT / set_path)
    if args.limit:
        items = items[: args.limit]
    # Every socket comes from 127.0.0.1: per-address limits would count them all as one shopper.
    # Eager Celery: hand-off routing and e-mails run in the server, nothing waits in the broker.
    # adapt_assistant writes into its own folder for this run: no earlier run's adaptation is served.
    assistant_dir = ROOT / "var" / f"bench_shop-assistant-{os.getpid()}"
    shutil.rmtree(assistant_dir, ignore_errors=True)
    env = bench_env(args, RATE_LIMITS="off", CELERY_TASK_ALWAYS_EAGER="1", ASSISTANT_DATA_DIR=str(assistant_dir))
    shop = "demo shop (seed_demo)" if args.seed_demo else args.shop_dir
    print(f"bench_shop: {len(items)} messages of {args.set} against {shop}", flush=True)
    if args.seed_demo:
        prepare_database(env, args)
        if not args.skip_adapt and OPTIONAL in available_commands(env):
            manage(env, OPTIONAL)
    else:
        prepare_shop(env, args)
    servers, urls = start_servers(env, args.servers, "bench_shop_daphne.log")
    try:
        asyncio.run(replay(urls, [("greeting", "hello")] * len(urls), len(urls), 0.1, args.timeout))  # warm up the model
        t0 = time.perf_counter()
        results = asyncio.run(replay(urls, items, args.concurrency, args.grace, args.timeout))
        elapsed = time.perf_counter() - t0
    finally:
        stop_servers(servers)
        if not args.keep_database:
            drop_database(args)
        shutil.rmtree(assistant_dir, ignore_errors=True)

    summary = summarise(results)
    title = f"{set_path.name} on {'the demo shop (a check of the bench, not a figure for the shop)' if args.seed_demo else shop}"
    print_report(summary, title)
    print(f"  replayed in {elapsed:.1f} s")
    out = ROOT / "var" / f"bench_shop-{set_path.stem}{'-demo' if args.seed_demo else ''}{'-unadapted' if args.skip_adapt else ''}.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(
        json.dumps({"set": args.set, "shop": shop, "seed_demo": args.seed_demo, "adapted": not args.skip_adapt, "summary": summary, "messages": results}, indent=1, ensure_ascii=False),
        encoding="utf-8",
    )
    print(f"  report: {out.relative_to(ROOT)}")
    return 0 if summary["errors"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
