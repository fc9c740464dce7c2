"""The admin's Intent models page: listing, progress JSON, one-click promote and rollback, refusals, permissions."""

import json
import shutil

import pytest
from django.conf import settings as django_settings
from django.contrib.auth import get_user_model
from django.core.cache import cache

from bot import retraining
from bot.models import ModelVersion, RetrainJob
from bot.slm import get_classifier, reset_classifier

URL = "/admin/bot/modelversion/"


@pytest.fixture
def owner(db, client, settings, tmp_path):
    settings.ASSISTANT_DATA_DIR = tmp_path / "assistant"
    reset_classifier()
    cache.delete(retraining.LOCK_KEY)
    user = get_user_model().objects.create_superuser("owner", "owner@example.com", "pw-correct-horse")
    client.force_login(user)
    yield user
    reset_classifier()


def _candidate(name, **fields):
    target = retraining.models_dir() / name
    shutil.copytree(django_settings.SLM_ARTIFACT_DIR, target, ignore=shutil.ignore_patterns("*.jsonl", "*.md"))
    config = json.loads((target / "config.json").read_text())
    config["version"] = name
    (target / "config.json").write_text(json.dumps(config))
    return ModelVersion.objects.create(version=name, path=f"models/{name}", **fields)


def test_the_page_lists_the_shipped_model_serving_and_a_rejected_candidate_with_its_reason(owner, client):
    _candidate("shop-a", status="failed", gate_passed=False, gate_reason="Worse than the serving model on: shopper set.",
               report={"candidate": {"shoppers": {"n": 10, "correct": 8, "accuracy": 0.8}}, "serving": {"version": "x", "shoppers": {"n": 10, "correct": 9, "accuracy": 0.9}}})
    page = client.get(URL).content.decode()
    assert 'data-status="serving"' in page and "shipped" in page
    assert "Worse than the serving model on: shopper set." in page and "80.0% (8/10)" in page and "serving: 90.0% (9/10)" in page
    assert 'src="/static/support/retrain.js"' in page and "<script>" not in page and "style=" not in page
    assert client.get(URL + "progress.json").json() == {"job": None}


def test_promote_and_roll_back_in_one_click_each(owner, client, settings):
    settings.SLM_VERSION_CHECK_SECONDS = 0
    retraining.baseline_version()
    good = _candidate("shop-b", gate_passed=True, gate_reason="better")
    response = client.post(URL + f"{good.pk}/promote/", follow=True)
    messages = [str(m) for m in response.context["messages"]]
    assert messages == ["shop-b serves now."]
    assert get_classifier().version == "shop-b"
    assert ModelVersion.objects.get(pk=good.pk).promoted_by == owner
    response = client.post(URL + "rollback/", follow=True)
    assert "Rolled back" in response.content.decode()
    assert ModelVersion.objects.get(pk=good.pk).status == "retired" and get_classifier().version != "shop-b"


def test_a_second_retrain_is_refused_with_a_message_and_progress_is_json(owner, client, monkeypatch):
    monkeypatch.setattr(retraining, "_enqueue", lambda job_id: None)
    assert "Retraining started." in client.post(URL + "retrain/", follow=True).content.decode()
    RetrainJob.objects.update(stage="train", epoch=2, epochs=3, percent=52.5, message="Training")
    page = client.post(URL + "retrain/", follow=True).content.decode()
    assert "already running" in page and RetrainJob.objects.count() == 1
    data = client.get(URL + "progress.json").json()
    assert (data["stage"], data["epoch"], data["epochs"], data["percent"], data["running"]) == ("train", 2, 3, 52.5, True)
    assert data["epoch_label"] == "epoch 2/3"
    assert 'data-running="1"' in page


def test_a_gate_failed_candidate_cannot_be_promoted(owner, client):
    retraining.baseline_version()
    bad = _candidate("shop-c", status="failed", gate_passed=False, gate_reason="worse")
    page = client.post(URL + f"{bad.pk}/promote/", follow=True).content.decode()
    assert "failed the gate" in page and ModelVersion.objects.get(pk=bad.pk).status == "failed"


def test_staff_without_the_model_permissions_cannot_see_or_retrain(db, client, monkeypatch):
    monkeypatch.setattr(retraining, "_enqueue", lambda job_id: None)
    user = get_user_model().objects.create_user("clerk", password="pw-correct-horse", is_staff=True)
    client.force_login(user)
    assert client.get(URL).status_code == 403
    assert client.get(URL + "progress.json").status_code == 403
    assert client.post(URL + "retrain/").status_code == 403
    assert not RetrainJob.objects.exists()
