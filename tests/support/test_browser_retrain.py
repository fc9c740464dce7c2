"""In headless Chromium: the shop owner starts a retraining from the admin's Intent models page,
watches the progress bar move through its stages (static/support/retrain.js polling
progress.json under the strict CSP), and finds the candidate listed with its gate decision."""

import os
import time
import uuid
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model

from bot.models import ModelVersion, RetrainJob, TrainingExample
from tests.live import LiveServer, artifacts_dir, wait_until

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


def wait_through_reload(page, expression: str, timeout: float) -> None:
    """wait_until across the page's own reload (which destroys the context an evaluate runs in)."""
    from playwright.sync_api import Error

    deadline = time.monotonic() + timeout
    while True:
        try:
            return wait_until(page, expression, timeout=max(1.0, deadline - time.monotonic()))
        except Error:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.5)


def test_retrain_now_shows_a_moving_progress_bar_and_lists_the_judged_candidate(browser, monkeypatch, tmp_path):
    if not (Path(settings.SHARED_DIR) / "data" / "bitext" / "bitext_8k_balanced.csv").exists() and os.environ.get("CI") != "true":
        pytest.skip("no shared training data")
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    get_user_model().objects.create_superuser("owner", "owner@example.com", "pw-correct-horse")
    TrainingExample.objects.create(text="zorblax my parcel", intent="track_order")
    server = LiveServer(
        CELERY_TASK_ALWAYS_EAGER="1", CHANNELS_PREFIX=f"asgi-retrain-{uuid.uuid4().hex[:8]}",
        ASSISTANT_DATA_DIR=str(tmp_path / "assistant"),
        # a tiny model (the recipe's settings), so the run takes a minute on a small machine
        RETRAIN_EPOCHS="2", RETRAIN_LAYERS="1", RETRAIN_MAX_PER_INTENT="8", RETRAIN_MAX_LENGTH="32", RETRAIN_FULL_REPORT="0",
    )
    try:
        page = browser.new_context(viewport={"width": 1400, "height": 900}).new_page()
        problems = []
        page.on("pageerror", lambda e: problems.append(f"pageerror: {e}"))
        page.on("console", lambda m: problems.append(f"console: {m.text}") if m.type == "error" else None)
        page.goto(server.url + "/admin/login/?next=/admin/bot/modelversion/")
        page.fill("#id_username", "owner")
        page.fill("#id_password", "pw-correct-horse")
        page.click("input[type=submit]")
        page.wait_for_url("**/admin/bot/modelversion/")
        rows = page.get_by_test_id("version-row")
        assert rows.count() == 1 and rows.first.get_attribute("data-status") == "serving"  # the shipped model

        page.get_by_test_id("retrain-start").click()
        page.wait_for_url("**/admin/bot/modelversion/")
        assert "Retraining started." in page.locator(".messagelist").inner_text()
        # The bar moves: the script fills in the stage, the epoch and the percent as the job runs.
        box = "document.querySelector('[data-testid=retrain-progress]')"
        wait_until(page, f"{box}.dataset.stage === 'train' && document.querySelector('[data-testid=retrain-bar]').value > 5", timeout=180)
        assert "epoch" in page.get_by_test_id("retrain-stage").inner_text()
        page.screenshot(path=str(artifacts_dir() / "retrain-progress.png"))
        seen = [float(page.get_by_test_id("retrain-bar").get_attribute("value") or 0)]
        # When it ends, the page reloads once and lists the candidate with its decision.
        wait_through_reload(page, "document.querySelectorAll('[data-testid=version-row]').length === 2", timeout=300)
        page.wait_for_load_state()
        job = RetrainJob.objects.get()
        assert job.status == "succeeded", job.message
        candidate = ModelVersion.objects.exclude(is_baseline=True).get()
        row = page.locator(f"[data-testid=version-row][data-version='{candidate.version}']")
        assert row.get_attribute("data-status") == candidate.status
        assert candidate.gate_reason and candidate.gate_reason in row.get_by_test_id("version-reason").inner_text()
        assert page.get_by_test_id("retrain-percent").inner_text() == "100%"
        assert seen[0] > 5
        page.screenshot(path=str(artifacts_dir() / "retrain-done.png"))
        assert problems == [], problems
    finally:
        server.close()
