"""Insights at scale: the JSON and the page for 1,000 and then 100,000 conversations, one run.

    .venv/bin/python bench/bench_insights.py [--small 1000] [--large 100000] [--days 30] [--repeat 5]
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/<a bench-only database> .venv/bin/python bench/bench_insights.py

Builds a fresh database (SQLite at var/bench-insights.sqlite3, or the PostgreSQL database named
by DATABASE_URL, dropped and created again), migrates it, and bulk-creates conversations spread
over the last `--days` days: one to three shopper messages each with the assistant's reply
(intents of the model with confidences, about a tenth out of scope), hand-offs for about 15% of
them (by reason, most with an agent's reply, many resolved) and ratings for about a fifth. It
times /desk/insights.json?days=N and /desk/insights/?days=N through Django's test client, signed
in as an agent (the first request, then the median of --repeat), first with --small
conversations, then after adding conversations up to --large, and prints each figure's query,
the totals, and the ratio to the small baseline. Target: under 1 s at 100,000.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

BATCH = 5000
NOT_UNDERSTOOD = [f"unknown phrase number {n}" for n in range(60)] + ["blorp", "asdf", "can u do the thing", "hmm"]
REASONS = [("requested", 5), ("low_confidence", 3), ("complaint", 2), ("action_failed", 1), ("verification_locked", 1)]


def fresh_database() -> str:
    url = os.environ.get("DATABASE_URL")
    if url:
        import psycopg

        name = url.rsplit("/", 1)[1]
        with psycopg.connect(url.rsplit("/", 1)[0] + "/postgres", autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            conn.execute(f'CREATE DATABASE "{name}"')
        return f"PostgreSQL ({name})"
    path = ROOT / "var" / "bench-insights.sqlite3"
    path.parent.mkdir(exist_ok=True)
    path.unlink(missing_ok=True)
    os.environ["SQLITE_PATH"] = str(path)
    return f"SQLite ({path.relative_to(ROOT)})"


def generate(count: int, *, days: int, rng: random.Random, agent) -> dict:
    """`count` conversations with their messages, escalations and ratings, in bulk."""
    from django.utils import timezone

    from bot.intents import model_intents
    from bot.models import Conversation, Message
    from support.models import Escalation

    intents = [name for name in model_intents() if name != "out_of_scope"]
    reasons, weights = zip(*REASONS)
    now = timezone.now()
    made = {"conversations": 0, "messages": 0, "escalations": 0}
    for offset in range(0, count, BATCH):
        size = min(BATCH, count - offset)
        starts = [now - timedelta(seconds=rng.uniform(60, days * 86400 - 60)) for _ in range(size)]
        conversations = Conversation.objects.bulk_create(
            [Conversation(created_at=start, rating=rng.randint(1, 5) if rng.random() < 0.2 else None) for start in starts],
            batch_size=BATCH,
        )
        messages, escalations = [], []
        for conversation in conversations:
            moment = conversation.created_at
            turns = 0 if rng.random() < 0.05 else rng.randint(1, 3)
            for _ in range(turns):
                moment += timedelta(seconds=rng.uniform(3, 40))
                if rng.random() < 0.1:
                    text, intent, confidence = rng.choice(NOT_UNDERSTOOD), "out_of_scope", rng.uniform(0.1, 0.5)
                else:
                    intent = rng.choice(intents)
                    text, confidence = f"a question about {intent} #{rng.randint(1, 500)}", rng.uniform(0.5, 1.0)
                messages.append(Message(conversation=conversation, sender="shopper", text=text, intent=intent,
                                        confidence=confidence, created_at=moment, data={"top": [[intent, confidence]]}))
                asked = moment
                moment += timedelta(seconds=rng.uniform(0.2, 2.5))
                # reply_seconds as the assistant's turn writes it (bot.conversations.turn_store).
                messages.append(Message(conversation=conversation, sender="bot", text="An answer.", intent=intent,
                                        confidence=confidence, created_at=moment,
                                        reply_seconds=(moment - asked).total_seconds()))
            if turns and rng.random() < 0.15:
                handed = moment + timedelta(seconds=1)
                escalation = Escalation(conversation=conversation, reason=rng.choices(reasons, weights)[0], created_at=handed,
                                        status="queued")
                if rng.random() < 0.7:
                    replied = handed + timedelta(seconds=rng.uniform(10, 600))
                    messages.append(Message(conversation=conversation, sender="agent", agent=agent, text="Hello, I'm here.",
                                            created_at=replied))
                    if rng.random() < 0.85:
                        escalation.status, escalation.outcome = "resolved", "resolved"
                        escalation.resolved_at = replied + timedelta(seconds=rng.uniform(30, 1800))
                        escalation.assigned_to = agent
                escalations.append(escalation)
        Message.objects.bulk_create(messages, batch_size=BATCH)
        Escalation.objects.bulk_create(escalations, batch_size=BATCH)
        made["conversations"] += size
        made["messages"] += len(messages)
        made["escalations"] += len(escalations)
    return made


def analyze() -> None:
    """Fresh statistics for the planner and, on PostgreSQL, the visibility map that index-only
    scans rely on: what autovacuum keeps up to date after bulk inserts (PostgreSQL 13+ vacuums
    insert-only tables too). SQLite: ANALYZE."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE" if connection.vendor == "postgresql" else "ANALYZE")


def timed(fn, repeat: int) -> tuple[float, float]:
    started = time.perf_counter()
    fn()
    first = time.perf_counter() - started
    runs = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        runs.append(time.perf_counter() - started)
    return first, statistics.median(runs)


def measure(client, days: int, repeat: int) -> dict:
    from support import insights

    period = insights.Period.last_days(days)
    figures = {}
    for name in ("conversation_counts", "message_counts", "handoff_counts", "intent_counts", "not_understood", "csat",
                 "bot_reply_time", "agent_times"):
        fn = getattr(insights, name)
        figures[name] = timed(lambda fn=fn: fn(period), 1)[1]

    def get(url):
        response = client.get(url)
        assert response.status_code == 200, (url, response.status_code)
        return response

    json_first, json_median = timed(lambda: get(f"/desk/insights.json?days={days}"), repeat)
    page_first, page_median = timed(lambda: get(f"/desk/insights/?days={days}"), repeat)
    data = get(f"/desk/insights.json?days={days}").json()
    return {"figures": figures, "json": (json_first, json_median), "page": (page_first, page_median), "data": data}


def report(label: str, made: dict, result: dict) -> None:
    data = result["data"]
    print(f"\n== {label}: {made['conversations']:,} conversations, {made['messages']:,} messages, {made['escalations']:,} escalations")
    print(f"   figures: conversations={data['conversations']:,} messages={data['messages']:,} "
          f"automation_rate={data['automation_rate']} handoffs={data['handoffs']} csat={data['csat']['average']} "
          f"(n={data['csat']['count']:,})")
    print("   per query (ms): " + ", ".join(f"{k}={v * 1000:.0f}" for k, v in result["figures"].items()))
    print(f"   JSON: first {result['json'][0] * 1000:.0f} ms, median {result['json'][1] * 1000:.0f} ms;"
          f" page: first {result['page'][0] * 1000:.0f} ms, median {result['page'][1] * 1000:.0f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small", type=int, default=1000)
    parser.add_argument("--large", type=int, default=100_000)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--seed", type=int, default=16)
    args = parser.parse_args()
    os.environ.setdefault("DEBUG", "1")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "support.settings")
    database = fresh_database()

    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.test import Client

    call_command("migrate", verbosity=0)
    agent = get_user_model().objects.create_superuser("bench-agent", "bench@example.com", "bench-pw-2026")
    client = Client()
    client.force_login(agent)
    rng = random.Random(args.seed)
    print(f"Insights bench on {database}, period: the last {args.days} days")

    started = time.perf_counter()
    made = generate(args.small, days=args.days, rng=rng, agent=agent)
    analyze()
    print(f"generated {args.small:,} conversations in {time.perf_counter() - started:.1f} s")
    small = measure(client, args.days, args.repeat)
    report(f"{args.small:,}", made, small)

    started = time.perf_counter()
    more = generate(args.large - args.small, days=args.days, rng=rng, agent=agent)
    analyze()
    print(f"\ngenerated {args.large - args.small:,} more conversations in {time.perf_counter() - started:.1f} s")
    total = {key: made[key] + more[key] for key in made}
    large = measure(client, args.days, args.repeat)
    report(f"{args.large:,}", total, large)

    print("\n== ratio to the baseline (median):"
          f" JSON {large['json'][1] / small['json'][1]:.1f}x ({small['json'][1] * 1000:.0f} -> {large['json'][1] * 1000:.0f} ms),"
          f" page {large['page'][1] / small['page'][1]:.1f}x ({small['page'][1] * 1000:.0f} -> {large['page'][1] * 1000:.0f} ms)")
    verdict = "met" if max(large["json"][1], large["page"][1]) < 1.0 else "NOT met"
    print(f"   target < 1 s at {args.large:,}: {verdict}")


if __name__ == "__main__":
    main()
