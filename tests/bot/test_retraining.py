"""Gated retraining (bot.retraining): the gate, the shop's held-out labels, one job at a time, a
failed or killed run that leaves the serving model alone, promotion and rollback picked up by
get_classifier without a restart. The end-to-end runs on tiny models are in test_retraining_e2e.py."""

import json
import shutil
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from bot import retraining
from bot.models import Conversation, ModelVersion, RetrainJob, TrainingExample
from bot.retraining import GUARD_SETS, SHOP_SET, RetrainRefused, gate_decide
from bot.slm import get_classifier, reset_classifier
from bot.training import dataset as ds


def fig(accuracy, n=100):
    return {"n": n, "correct": round(accuracy * n) if accuracy is not None else 0, "accuracy": accuracy}


def sets(test, shoppers, shop, shop_n=10):
    return {"test_split": fig(test), "shoppers": fig(shoppers), SHOP_SET: fig(shop, shop_n)}


# --- the gate (pure) ------------------------------------------------------------------------


def test_the_guard_sets_are_the_shipped_test_split_and_the_shopper_set():
    assert [g.name for g in GUARD_SETS] == ["test_split", "shoppers"]


def test_a_candidate_half_a_point_worse_on_a_guard_set_and_better_on_the_shop_passes():
    passed, reason = gate_decide(candidate=sets(0.895, 0.90, 0.8), serving=sets(0.90, 0.90, 0.5), tolerance=0.005)
    assert passed, reason
    assert "80.0% against 50.0%" in reason


def test_a_candidate_more_than_half_a_point_worse_on_any_guard_set_fails_with_the_set_named():
    passed, reason = gate_decide(candidate=sets(0.90, 0.893, 1.0), serving=sets(0.90, 0.90, 0.5), tolerance=0.005)
    assert not passed
    assert "shopper set" in reason and "89.3% against 90.0%" in reason and "0.5 points" in reason


def test_a_candidate_no_better_on_the_shops_labels_fails():
    passed, reason = gate_decide(candidate=sets(0.95, 0.95, 0.5), serving=sets(0.90, 0.90, 0.5), tolerance=0.005)
    assert not passed and "Not better on the shop's held-out labels" in reason


def test_without_held_out_shop_labels_nothing_is_promoted():
    passed, reason = gate_decide(candidate=sets(0.95, 0.95, None, shop_n=0), serving=sets(0.9, 0.9, None, shop_n=0), tolerance=0.005)
    assert not passed and "No held-out shop labels" in reason


# --- the shop's held-out share -------------------------------------------------------------------


def test_the_held_out_share_is_fixed_by_the_label_id_and_near_the_percent():
    chosen = [pk for pk in range(1, 2001) if ds.agent_label_held_out(pk, 20)]
    assert 0.17 < len(chosen) / 2000 < 0.23
    assert chosen == [pk for pk in range(1, 2001) if ds.agent_label_held_out(pk, 20)]
    assert not any(ds.agent_label_held_out(pk, 0) for pk in range(1, 200))


@pytest.mark.django_db
def test_held_out_labels_never_reach_training_and_a_same_text_row_is_kept_out_too():
    rows = [TrainingExample.objects.create(text=f"zorblax number {i}", intent="track_order") for i in range(60)]
    held = [r for r in rows if ds.agent_label_held_out(r.pk, 20)]
    assert held  # 60 rows: some fall in the 20 %
    twin = TrainingExample.objects.create(text=held[0].text, intent="track_order")
    if ds.agent_label_held_out(twin.pk, 20):
        pytest.skip("the twin row happened to be held out itself")
    train = ds.load_agent_labelled(["track_order"], holdout_percent=20)
    out = ds.load_agent_labelled(["track_order"], holdout_percent=20, held_out=True)
    assert {ex.group for ex in out} == {f"agent:{r.pk}" for r in held}
    assert not {ex.text for ex in train} & {ex.text for ex in out}
    assert f"agent:{twin.pk}" not in {ex.group for ex in train}
    assert len(train) + len(out) == 60  # every other row trains


# --- one job at a time; failed and stale jobs ---------------------------------------------------------


@pytest.fixture
def no_enqueue(monkeypatch):
    started = []
    monkeypatch.setattr(retraining, "_enqueue", started.append)
    return started


@pytest.fixture
def data_dir(tmp_path, settings):
    settings.ASSISTANT_DATA_DIR = tmp_path / "assistant"
    reset_classifier()
    yield settings.ASSISTANT_DATA_DIR
    reset_classifier()


@pytest.mark.django_db
def test_a_second_start_is_refused_while_one_runs(no_enqueue, data_dir, django_capture_on_commit_callbacks):
    from django.core.cache import cache

    cache.delete(retraining.LOCK_KEY)
    with django_capture_on_commit_callbacks(execute=True):
        job = retraining.retrain_start()
    assert no_enqueue == [job.pk] and job.status == RetrainJob.Status.RUNNING
    with pytest.raises(RetrainRefused, match=r"already running \(#%d" % job.pk):
        retraining.retrain_start()
    # Without the shared lock (another machine, a flushed cache) the database still refuses.
    cache.delete(retraining.LOCK_KEY)
    with pytest.raises(RetrainRefused, match="already running"):
        retraining.retrain_start()
    with pytest.raises(IntegrityError), transaction.atomic():
        RetrainJob.objects.create(status=RetrainJob.Status.RUNNING)
    assert RetrainJob.objects.count() == 1 and no_enqueue == [job.pk]


@pytest.mark.django_db
def test_a_job_whose_worker_stopped_beating_is_marked_stale_and_a_new_one_starts(no_enqueue, data_dir, settings):
    from django.core.cache import cache

    cache.delete(retraining.LOCK_KEY)
    dead = RetrainJob.objects.create(stage="train", percent=40, heartbeat_at=timezone.now() - timedelta(seconds=settings.RETRAIN_STALE_SECONDS + 5))
    cache.set(retraining.LOCK_KEY, dead.pk)
    (retraining.models_dir() / f".work-{dead.pk}").mkdir(parents=True)
    job = retraining.retrain_start()
    dead.refresh_from_db()
    assert dead.status == RetrainJob.Status.STALE and "serving model was not changed" in dead.message
    assert not (retraining.models_dir() / f".work-{dead.pk}").exists()
    assert job.status == RetrainJob.Status.RUNNING and job.pk != dead.pk


@pytest.mark.django_db
def test_a_run_that_breaks_mid_training_fails_the_job_and_leaves_serving_untouched(no_enqueue, data_dir, monkeypatch):
    from bot.training import trainer

    def broken(config, log, progress, on_progress):
        on_progress("data", 0, 1)
        on_progress("train", 3, 10)
        assert RetrainJob.objects.get().stage == "train"
        (Path(config.output) / "artifact").mkdir(parents=True)
        raise MemoryError("out of memory in epoch 1")

    monkeypatch.setattr(trainer, "train", broken)
    before = get_classifier()
    job = retraining.retrain_start()
    assert retraining.retrain_run(job_id=job.pk) is None
    job.refresh_from_db()
    assert job.status == RetrainJob.Status.FAILED and "out of memory in epoch 1" in job.message
    assert list(ModelVersion.objects.values_list("is_baseline", "status")) == [(True, "serving")]
    assert not list(retraining.models_dir().iterdir())  # the work folder went with it
    assert get_classifier() is before
    assert retraining.job_progress(job)["running"] is False
    # and the next start is not refused
    assert retraining.retrain_start().status == RetrainJob.Status.RUNNING


# --- promotion, rollback, every process picking up the version ------------------------------------------


def _copy_shipped(data_dir: Path, name: str) -> str:
    target = data_dir / "models" / name
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copytree(settings.SLM_ARTIFACT_DIR, target, ignore=shutil.ignore_patterns("*.jsonl", "*.md"))
    config = json.loads((target / "config.json").read_text())
    config["version"] = name
    (target / "config.json").write_text(json.dumps(config))
    return f"models/{name}"


@pytest.mark.django_db
def test_promotion_and_rollback_switch_the_model_the_assistant_serves(data_dir, django_capture_on_commit_callbacks):
    baseline = retraining.baseline_version()
    assert get_classifier().artifact_dir == Path(settings.SLM_ARTIFACT_DIR)
    good = ModelVersion.objects.create(version="shop-v2", path=_copy_shipped(data_dir, "shop-v2"), gate_passed=True)
    rejected = ModelVersion.objects.create(version="shop-v3", path=_copy_shipped(data_dir, "shop-v3"), gate_passed=False, gate_reason="worse", status="failed")

    with django_capture_on_commit_callbacks(execute=True):
        retraining.version_promote(version=good)
    assert get_classifier().version == "shop-v2"
    baseline.refresh_from_db()
    assert baseline.status == "retired" and ModelVersion.objects.get(pk=good.pk).status == "serving"

    with pytest.raises(RetrainRefused, match="failed the gate"):
        retraining.version_promote(version=rejected)

    with django_capture_on_commit_callbacks(execute=True):
        back = retraining.version_rollback()
    assert back.pk == baseline.pk and get_classifier().artifact_dir == Path(settings.SLM_ARTIFACT_DIR)
    assert ModelVersion.objects.get(pk=good.pk).status == "retired"
    with pytest.raises(RetrainRefused, match="No earlier version"):
        retraining.version_rollback()


@pytest.mark.django_db
def test_another_process_promoting_is_seen_within_the_check_interval(data_dir, settings):
    """Another process's promotion is a row change only: this process reads it at its next check."""
    retraining.baseline_version()
    settings.SLM_VERSION_CHECK_SECONDS = 3600
    shipped = get_classifier()
    version = ModelVersion.objects.create(version="shop-v9", path=_copy_shipped(data_dir, "shop-v9"), gate_passed=True)
    ModelVersion.objects.filter(status="serving").update(status="retired")
    ModelVersion.objects.filter(pk=version.pk).update(status="serving")
    assert get_classifier() is shipped  # not re-read yet: the stamp is checked once an hour here
    settings.SLM_VERSION_CHECK_SECONDS = 0
    assert get_classifier().version == "shop-v9"


@pytest.mark.django_db
def test_a_promoted_version_whose_files_vanished_does_not_break_the_chat(data_dir, settings):
    retraining.baseline_version()
    settings.SLM_VERSION_CHECK_SECONDS = 0
    shipped = get_classifier()
    ModelVersion.objects.filter(status="serving").update(status="retired")
    ModelVersion.objects.create(version="gone", path="models/gone", status="serving", gate_passed=True)
    assert get_classifier() is shipped


@pytest.mark.django_db
def test_shadow_agreement_is_counted_against_what_the_serving_model_understood(data_dir, settings):
    from bot.models import Message
    from bot.shadow import shadow_compare

    settings.SLM_VERSION_CHECK_SECONDS = 0
    retraining.baseline_version()
    version = ModelVersion.objects.create(version="shop-s1", path=_copy_shipped(data_dir, "shop-s1"), gate_passed=True)
    conversation = Conversation.objects.create()
    agree = Message.objects.create(conversation=conversation, sender="shopper", text="where is my order", intent="track_order")
    differ = Message.objects.create(conversation=conversation, sender="shopper", text="where is my order", intent="cancel_order")
    assert shadow_compare(message_id=agree.pk) is None  # nothing in shadow yet
    retraining.shadow_start(version=version)
    assert shadow_compare(message_id=agree.pk) is True
    assert shadow_compare(message_id=differ.pk) is False
    # The Japanese classifier read these: the English candidate has no say on them.
    japanese = Conversation.objects.create(language="ja")
    for text in ("注文した荷物はどこですか", "１２３４５"):
        message = Message.objects.create(conversation=japanese, sender="shopper", text=text, intent="track_order")
        assert shadow_compare(message_id=message.pk) is None
    version.refresh_from_db()
    assert (version.shadow_messages, version.shadow_agreements, version.shadow_agreement) == (2, 1, 0.5)
    retraining.shadow_stop()
    assert shadow_compare(message_id=agree.pk) is None


def test_the_schedule_setting_becomes_a_crontab():
    from support.celery import retrain_crontab

    assert retrain_crontab("") is None
    weekly = retrain_crontab("weekly")
    assert weekly.day_of_week == {1} and weekly.hour == {3}
    assert retrain_crontab("30 2 * * 0").minute == {30}


@pytest.mark.django_db
def test_a_scheduled_run_is_skipped_without_new_labels(no_enqueue, data_dir):
    from django.core.cache import cache

    cache.delete(retraining.LOCK_KEY)
    two_days_ago = timezone.now() - timedelta(days=2)
    old = TrainingExample.objects.create(text="zorblax", intent="track_order", created_at=two_days_ago, labelled_at=two_days_ago)
    RetrainJob.objects.create(status="succeeded", started_at=timezone.now() - timedelta(days=1))
    assert retraining.retrain_scheduled() is None
    # A label of a Japanese message is for the Japanese model: no reason to retrain the English one.
    TrainingExample.objects.create(text="荷物どこ？", intent="track_order")
    assert retraining.retrain_scheduled() is None
    # An English label given again (corrected) since the last run is.
    TrainingExample.objects.filter(pk=old.pk).update(intent="track_refund", labelled_at=timezone.now())
    job = retraining.retrain_scheduled()
    assert job is not None and job.trigger == "schedule"


@pytest.mark.django_db
def test_a_job_counts_the_labels_the_english_model_learns_not_the_japanese_ones():
    japanese = Conversation.objects.create(language="ja")
    TrainingExample.objects.create(text="where is my parcel", intent="track_order")
    TrainingExample.objects.create(text="AWB for order 12345 pls", intent="track_order")
    TrainingExample.objects.create(text="荷物どこ？", intent="track_order")
    # Digits alone in a Japanese conversation: the Japanese model reads them.
    TrainingExample.objects.create(text="１２３４５", intent="track_order", conversation=japanese)
    assert sum(retraining._english_labels(TrainingExample.objects.all())) == 2
