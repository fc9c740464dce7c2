"""The learning loop with the real model: 100 agent labels on a phrasing the shipped model misses.

    .venv/bin/python bench/bench_learning.py            # about 5 minutes on the 2-core machine

The phrasing: shoppers of the Indian market ask for their parcel's courier reference by the
courier's own words (AWB, docket, consignment, waybill, LR number), which mean "track my order".
The shipped English model has never seen them. Two disjoint sets of message frames are written
below: one for the messages shoppers send and agents label, one for held-out messages of the
same phrasing that no step of the loop ever sees.

What it does, on a fresh SQLite database (var/bench-learning.sqlite3) and a fresh
ASSISTANT_DATA_DIR (var/bench-learning/):
1. replays the 100 labelled-to-be messages and the 100 held-out ones through the live chat
   consumer (one new conversation each) with the shipped model, and counts the intent the
   assistant acted on;
2. an agent labels the 100 from the review queue (support.agent_actions.message_label, the
   queue's own one-click service) as track_order;
3. starts retraining as the admin does (bot.retraining.retrain_start: train, the gate on the
   frozen guard sets and the shop's held-out labels, promotion if it passes) and waits for it;
4. replays the held-out messages through the live chat again (new conversations), and measures
   shipped model and candidate side by side on every guard set: the shipped test split, the
   shopper set, CLINC150 validation out-of-scope and unrelated-domain recall.

Targets (issue #16): held-out right-intent rate from below 0.5 to at least 0.9; every guard set
(the gate's: the shipped test split and the shopper set) within 0.5 points; retraining under 15
minutes. CLINC150's out-of-scope figures are printed beside them, for information.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import shutil
import sys
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

INTENT = "track_order"
WORDS = ["AWB", "AWB no", "AWB number", "airway bill no", "docket no", "docket number", "consignment no",
         "consignment number", "waybill", "waybill number", "LR number", "LR no"]
# Frames of the messages agents label ...
LABELLED_FRAMES = [
    "kindly share the {w} for order {n}", "pls share {w} for my order {n}", "{w} for order {n} please",
    "send me the {w} of order #{n}", "what is the {w} of my parcel {n}", "need {w} of my shipment {n}",
    "{w} not received yet for {n}", "share {w} asap", "still waiting for the {w} of order {n}",
    "can u give {w} for {n}", "sir please provide {w} for order id {n}", "{w} of {n}?",
    "i didnt get the {w} for my order", "kindly revert with the {w} details of order {n}",
    "my order {n} {w} please", "plz give me {w}",
]
# ... and held-out frames of the same phrasing, never labelled, never trained on.
HELD_OUT_FRAMES = [
    "whats the {w} for {n}", "kindly provide {w} details", "{w} pls, order {n}",
    "I have not got any {w} for my order {n} yet", "please mail the {w} of #{n}",
    "could you tell me the {w} for order {n}", "share the {w} so i can check with the courier",
    "do you have the {w} for my package", "pls update {w} for order no {n}", "where can i find the {w} of order {n}",
    "{w} kindly", "no {w} in my sms for order {n}",
]


def messages(frames: list[str], count: int, rng: random.Random, avoid: set[str]) -> list[str]:
    out: list[str] = []
    while len(out) < count:
        text = rng.choice(frames).format(w=rng.choice(WORDS), n=rng.randint(10000, 99999))
        if text not in avoid and text not in out:
            out.append(text)
    return out


def fresh_state() -> None:
    path = ROOT / "var" / "bench-learning.sqlite3"
    path.parent.mkdir(exist_ok=True)
    path.unlink(missing_ok=True)
    data = ROOT / "var" / "bench-learning"
    shutil.rmtree(data, ignore_errors=True)
    os.environ["SQLITE_PATH"] = str(path)
    os.environ["ASSISTANT_DATA_DIR"] = str(data)
    os.environ.pop("DATABASE_URL", None)
    os.environ.pop("REDIS_URL", None)
    os.environ["RATE_LIMITS"] = "off"


async def ask(application, text: str) -> None:
    from channels.testing import WebsocketCommunicator

    comm = WebsocketCommunicator(application, "/ws/chat/", headers=[(b"origin", b"http://localhost"), (b"host", b"localhost")])
    connected, _ = await comm.connect(timeout=30)
    assert connected, "the chat refused the connection"
    try:
        await comm.send_json_to({"type": "message", "text": text, "client_id": str(uuid.uuid4())})
        while True:
            frame = await comm.receive_json_from(timeout=60)
            if frame["type"] == "message" and frame.get("sender") == "bot":
                break
    finally:
        await comm.disconnect()


def replay(texts: list[str]) -> tuple[float, list[tuple[str, str]]]:
    """Each text in a new conversation through the live consumer: the share acted on as INTENT,
    and the (text, intent acted on) of the others."""
    from bot.models import Message
    from support.asgi import application

    async def run():
        for text in texts:
            await ask(application, text)

    first = Message.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    asyncio.run(run())
    rows = Message.objects.filter(pk__gt=first, sender=Message.Sender.SHOPPER).values_list("text", "intent")
    acted = dict(rows)
    missing = [t for t in texts if t not in acted]
    assert not missing, f"messages lost: {missing[:3]}"
    misses = [(t, acted[t]) for t in texts if acted[t] != INTENT]
    return 1 - len(misses) / len(texts), misses


def guard_figures(artifact_dir: Path, held_out: list[str]) -> dict[str, float]:
    from django.conf import settings

    from bot import retraining
    from bot.training import dataset as ds

    clinc_oos, clinc_unrelated = ds.load_clinc_val(Path(settings.SHARED_DIR))
    sets = {guard.name: guard.load() for guard in retraining.GUARD_SETS}
    sets["clinc_oos_val"] = clinc_oos
    sets["clinc_unrelated"] = clinc_unrelated
    sets["phrasing_held_out"] = [ds.Example(text, INTENT, "bench", "bench") for text in held_out]
    return {name: row["accuracy"] for name, row in retraining.figures(artifact_dir, sets).items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--labels", type=int, default=100)
    parser.add_argument("--held-out", type=int, default=100)
    parser.add_argument("--seed", type=int, default=16)
    args = parser.parse_args()
    fresh_state()
    os.environ.setdefault("DEBUG", "1")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "support.settings")

    import django

    django.setup()
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.core.management import call_command

    from bot import retraining
    from bot.models import RetrainJob
    from support.agent_actions import message_label
    from support.review import review_queue

    call_command("migrate", verbosity=0)
    rng = random.Random(args.seed)
    labelled = messages(LABELLED_FRAMES, args.labels, rng, set())
    held_out = messages(HELD_OUT_FRAMES, args.held_out, rng, set(labelled))
    print(f"Learning-loop bench: {len(labelled)} messages to label, {len(held_out)} held-out messages of the same phrasing "
          f"({len(LABELLED_FRAMES)} and {len(HELD_OUT_FRAMES)} disjoint frames)")

    shipped = Path(settings.SLM_ARTIFACT_DIR)
    before_live_labelled, _ = replay(labelled)
    before_live, _ = replay(held_out)
    print(f"shipped model, live chat: {before_live_labelled:.2f} of the messages to label and {before_live:.2f} of the held-out ones acted on as {INTENT}")

    agent = get_user_model().objects.create_superuser("bench-agent", "bench@example.com", "bench-pw-2026")
    wanted = set(labelled)
    queued = [m for m in review_queue() if m.text in wanted]
    for message in queued:
        message_label(message_id=message.pk, intent=INTENT, agent=agent)
    # Messages the shipped model got right with confidence are not in the queue; an agent labels
    # them from the transcript (the same service).
    from bot.models import Message, TrainingExample

    done = set(TrainingExample.objects.values_list("message_id", flat=True))
    for message in Message.objects.filter(sender=Message.Sender.SHOPPER, text__in=wanted).exclude(pk__in=done):
        message_label(message_id=message.pk, intent=INTENT, agent=agent)
    print(f"agent labels: {len(queued)} from the review queue, {len(wanted) - len(queued)} from transcripts")

    started = time.monotonic()
    job = retraining.retrain_start(by=agent)
    last = ""
    while True:
        job.refresh_from_db()
        line = f"  {job.stage} {job.percent:.0f}% epoch {job.epoch}/{job.epochs}"
        if line != last and (job.stage != "train" or int(job.percent) % 10 == 0):
            print(line, flush=True)
            last = line
        if job.status != RetrainJob.Status.RUNNING:
            break
        time.sleep(2)
    seconds = time.monotonic() - started
    print(f"retraining: {job.status} in {seconds / 60:.1f} min: {job.message}")
    candidate = job.candidate
    if candidate is None:
        sys.exit("no candidate was registered")

    candidate_dir = Path(settings.ASSISTANT_DATA_DIR) / candidate.path
    before = guard_figures(shipped, held_out)
    after = guard_figures(candidate_dir, held_out)
    after_live, misses = replay(held_out)
    served = "the candidate" if candidate.status == "serving" else "the shipped model (the candidate failed the gate)"
    print(f"\nheld-out messages through the live chat after retraining (served: {served}): {before_live:.2f} -> {after_live:.2f}")
    for text, intent in misses:
        print(f"  still missed: {text!r} -> {intent}")
    print(f"\n{'set':<22} {'shipped':>8} {'candidate':>10} {'change (points)':>16}")
    for name in after:
        print(f"{name:<22} {before[name]:>8.4f} {after[name]:>10.4f} {100 * (after[name] - before[name]):>+16.1f}")
    guards = [guard.name for guard in retraining.GUARD_SETS]  # the frozen regression set, as the gate judges it
    worst = min(100 * (after[name] - before[name]) for name in guards)
    clinc = min(100 * (after[name] - before[name]) for name in after if name.startswith("clinc"))
    print(f"\ntargets: held-out {before['phrasing_held_out']:.2f} -> {after['phrasing_held_out']:.2f} (from < 0.5 to >= 0.9: "
          f"{'met' if before['phrasing_held_out'] < 0.5 and after['phrasing_held_out'] >= 0.9 else 'NOT met'}); "
          f"worst guard-set change ({', '.join(guards)}) {worst:+.1f} points (>= -0.5: {'met' if worst >= -0.5 else 'NOT met'}); "
          f"retraining {seconds / 60:.1f} min (< 15: {'met' if seconds < 900 else 'NOT met'})")
    print(f"not guard sets, for information: the worst CLINC150 out-of-scope change {clinc:+.1f} points "
          f"(oos_val is 100 messages: one is a point)")
    print(json.dumps({"gate_passed": candidate.gate_passed, "gate_reason": candidate.gate_reason, "before": before, "after": after,
                      "live_before": before_live, "live_after": after_live, "retrain_seconds": round(seconds)}, indent=1))


if __name__ == "__main__":
    main()
