"""Retraining end to end on tiny models (the approach of test_training.py's tiny run: 12 examples
per intent, the base encoder's bottom 2 layers).

The shop's "shipped" model here is a tiny one trained for a single epoch; the candidate is trained
on the same data for 4 epochs at a faster rate, plus the agent labels (a distinctive made-up
phrasing, "zorblax ..."), distilling the serving model as the real retraining does.
"""

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.conf import settings

from bot import retraining
from bot.models import Conversation, Message, ModelVersion, RetrainJob, TrainingExample
from bot.slm import get_classifier, reset_classifier
from bot.training import dataset as ds

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

SHARED = Path(settings.SHARED_DIR)
ORIGIN = [(b"origin", b"http://testserver"), (b"host", b"testserver")]
TINY = dict(RETRAIN_LAYERS=2, RETRAIN_MAX_PER_INTENT=12, RETRAIN_MAX_LENGTH=32, RETRAIN_FULL_REPORT=False, RETRAIN_THREADS=2,
            RETRAIN_LEARNING_RATE=5e-4, RETRAIN_HEAD_LEARNING_RATE=5e-3, RETRAIN_WARM_LEARNING_RATE=5e-4)
PHRASES = [
    f"zorblax {thing} {tail}"
    for thing in ("parcel", "package", "box", "delivery", "shipment", "stuff")
    for tail in ("now", "please", "today", "quick", "mate")
]


@pytest.fixture(scope="module")
def tiny_shipped(tmp_path_factory, django_db_blocker):
    """A tiny 1-epoch model standing in for the shipped artifact."""
    if not (SHARED / "data" / "bitext" / "bitext_8k_balanced.csv").exists():
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI must provide the shared training data under SHARED_DIR={SHARED}")
        pytest.skip(f"no shared training data under SHARED_DIR={SHARED}")
    from bot.training.trainer import TrainConfig, train

    out = tmp_path_factory.mktemp("tiny-shipped")
    with django_db_blocker.unblock():
        config = TrainConfig(output=out, shared_dir=SHARED, epochs=1, layers=2, max_per_intent=12, max_length=32, threads=2, keep_torch=False, evaluate=False)
        return train(config, log=lambda _: None, progress=False)


@pytest.fixture
def shop(tiny_shipped, tmp_path, settings):
    settings.SLM_ARTIFACT_DIR = tiny_shipped
    settings.ASSISTANT_DATA_DIR = tmp_path / "assistant"
    settings.SLM_VERSION_CHECK_SECONDS = 0
    for key, value in TINY.items():
        setattr(settings, key, value)
    settings.RETRAIN_EPOCHS = 4
    from django.core.cache import cache

    cache.delete(retraining.LOCK_KEY)
    reset_classifier()
    yield settings
    reset_classifier()


async def ask(text: str) -> str:
    """Send one message through the live consumer; the intent the stored message was understood as."""
    from support.asgi import application

    comm = WebsocketCommunicator(application, "/ws/chat/", headers=ORIGIN)
    connected, _ = await comm.connect(timeout=10)
    assert connected
    try:
        await comm.send_json_to({"type": "message", "text": text, "client_id": str(uuid.uuid4())})
        while True:
            frame = await comm.receive_json_from(timeout=60)
            if frame["type"] == "message" and frame.get("sender") == "bot":
                break
    finally:
        await comm.disconnect()
    return await database_sync_to_async(lambda: Message.objects.filter(sender="shopper", text=text).latest("pk").intent)()


def test_messages_the_bot_gets_wrong_are_answered_right_after_agent_labels_a_retrain_and_the_gate(shop, monkeypatch):
    """The whole path on real (tiny) training: the live chat gets a phrasing wrong, agents label
    it, the retraining task trains (distilling the serving model, learning the labels), the gate
    judges it on the guard sets and the shop's held-out labels, promotes it, and the live chat
    then answers the same messages right. The tiny recipe learns fast: learning rate 5e-4, the
    new head at 5e-3, 4 epochs (the shipped recipe's rates leave a 2-layer model near uniform)."""
    # 1. The shipped (tiny) model gets the shop's phrasing wrong in the live chat.
    before = [asyncio.run(ask(text)) for text in PHRASES[:2]]
    assert all(intent != "track_order" for intent in before), before

    # 2. An agent labels what shoppers wrote (the rows the review queue writes).
    conversation = Conversation.objects.create()
    for text in PHRASES:
        message = Message.objects.create(conversation=conversation, sender="shopper", text=text, intent="out_of_scope")
        TrainingExample.objects.create(text=text, intent="track_order", message=message, source=TrainingExample.Source.CORRECTION)
    held_out = {ex.text for ex in ds.load_agent_labelled(["track_order"], holdout_percent=settings.RETRAIN_HOLDOUT_PERCENT, held_out=True)}
    assert held_out and len(held_out) < len(PHRASES)

    # 3. The retraining task, started as the admin starts it; progress is stored as it goes.
    from bot.tasks import retrain

    stages = []
    real_progress_call = retraining._Progress.__call__

    def spy(self, stage, *args, **kwargs):
        stages.append(stage)
        return real_progress_call(self, stage, *args, **kwargs)

    monkeypatch.setattr(retraining._Progress, "__call__", spy)
    monkeypatch.setattr(retraining, "_enqueue", lambda job_id: retrain.apply(args=[job_id]))
    started = time.monotonic()
    job = retraining.retrain_start()
    job.refresh_from_db()
    seconds = time.monotonic() - started
    assert job.status == RetrainJob.Status.SUCCEEDED, job.message
    assert {"data", "train", "export", "gate"} <= set(stages)
    assert job.percent == 100 and job.epoch == job.epochs == shop.RETRAIN_EPOCHS and job.labels_seen == len(PHRASES)

    # 4. The candidate is registered with its figures on every guard set and the held-out labels.
    candidate = job.candidate
    report = candidate.report
    assert report["candidate"]["shop_labels"]["n"] == report["serving"]["shop_labels"]["n"] == len(held_out)
    for guard in retraining.GUARD_SETS:
        assert report["candidate"][guard.name]["n"] > 100
    assert (Path(settings.ASSISTANT_DATA_DIR) / candidate.path / "model.onnx").exists()
    # It started from the serving network (warm start, rehearsal), not from the base model.
    trained = json.loads((Path(settings.ASSISTANT_DATA_DIR) / candidate.path / "config.json").read_text(encoding="utf-8"))
    assert trained["warm_start"] == json.loads((Path(settings.SLM_ARTIFACT_DIR) / "config.json").read_text(encoding="utf-8"))["version"]
    assert trained["training"]["replay"] == settings.RETRAIN_REPLAY and trained["training"]["agent_repeat"] == settings.RETRAIN_AGENT_REPEAT
    assert trained["recipe"]["learning_rate"] == settings.RETRAIN_WARM_LEARNING_RATE
    # RETRAIN_WARM_FREEZE (4) on this 2-layer network: all but the top layer stay as serving has them.
    assert trained["recipe"]["frozen_layers"] == min(settings.RETRAIN_WARM_FREEZE, 1) == 1
    assert retraining.gate_decide(candidate=report["candidate"], serving=report["serving"], tolerance=0.005) == (candidate.gate_passed, candidate.gate_reason)
    print(f"\ntiny retrain: {seconds:.0f} s; gate passed={candidate.gate_passed}: {candidate.gate_reason}")

    # 5. The gate passed: the candidate serves every process, and the live chat now answers the
    #    same messages (and the held-out labels it never trained on) with the agents' intent.
    assert candidate.gate_passed, candidate.gate_reason
    assert candidate.status == ModelVersion.Status.SERVING
    assert get_classifier().version == candidate.version
    after = [asyncio.run(ask(text)) for text in PHRASES[:2] + sorted(held_out)]
    assert after == ["track_order"] * len(after), after

    # 6. Rollback is one call and serves the shipped model again.
    retraining.version_rollback()
    assert get_classifier().artifact_dir == Path(settings.SLM_ARTIFACT_DIR)
    assert asyncio.run(ask(PHRASES[0] + " again")) != "track_order"


def test_a_worker_killed_mid_training_leaves_serving_untouched_and_the_job_stale(shop, monkeypatch):
    """A real worker process (the task body in a subprocess) killed with SIGKILL while it trains."""
    from tests.live import server_env

    shop.RETRAIN_STALE_SECONDS = 3
    shop.RETRAIN_EPOCHS = 30  # long enough to be killed while training
    monkeypatch.setattr(retraining, "_enqueue", lambda job_id: None)
    retraining.baseline_version()
    TrainingExample.objects.create(text="zorblax parcel", intent="track_order")
    job = retraining.retrain_start()
    code = (
        "import django; django.setup()\n"
        "from django.conf import settings\n"
        f"settings.SLM_ARTIFACT_DIR = {str(shop.SLM_ARTIFACT_DIR)!r}; settings.ASSISTANT_DATA_DIR = {str(shop.ASSISTANT_DATA_DIR)!r}\n"
        + "".join(f"settings.{k} = {getattr(shop, k)!r}\n" for k in (*TINY, "RETRAIN_EPOCHS", "RETRAIN_STALE_SECONDS"))
        + f"from bot.tasks import retrain; retrain.apply(args=[{job.pk}])\n"
    )
    worker = subprocess.Popen([sys.executable, "-c", code], env=server_env(), cwd=settings.BASE_DIR, start_new_session=True,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 240
        while RetrainJob.objects.get(pk=job.pk).stage != "train" or RetrainJob.objects.get(pk=job.pk).percent < 6:
            assert worker.poll() is None, "the worker ended before it trained"
            assert time.monotonic() < deadline, "the worker never reached the training stage"
            time.sleep(0.5)
        os.killpg(worker.pid, signal.SIGKILL)
        worker.wait(timeout=10)
    finally:
        if worker.poll() is None:
            os.killpg(worker.pid, signal.SIGKILL)
    assert (Path(shop.ASSISTANT_DATA_DIR) / "models" / f".work-{job.pk}").exists()  # it died mid-way
    assert list(ModelVersion.objects.values_list("is_baseline", "status")) == [(True, "serving")]
    assert get_classifier().artifact_dir == Path(shop.SLM_ARTIFACT_DIR)

    time.sleep(shop.RETRAIN_STALE_SECONDS + 1)
    progress = retraining.job_progress(RetrainJob.objects.get(pk=job.pk))
    assert progress["stale"] and not progress["running"]
    again = retraining.retrain_start()
    dead = RetrainJob.objects.get(pk=job.pk)
    assert dead.status == RetrainJob.Status.STALE and again.status == RetrainJob.Status.RUNNING
    assert not (Path(shop.ASSISTANT_DATA_DIR) / "models" / f".work-{job.pk}").exists()
    assert [p.name for p in (Path(shop.ASSISTANT_DATA_DIR) / "models").iterdir()] == []
