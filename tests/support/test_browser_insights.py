"""In headless Chromium under the shop's CSP: an agent opens insights from the admin home (the
charts draw, the numbers are the stored rows'), then labels a message in the review queue with
one click and it leaves the queue."""

import uuid
from datetime import timedelta

import pytest
from django.utils import timezone

from bot.models import Conversation, Message, TrainingExample
from support.models import Escalation
from tests.live import LiveServer, artifacts_dir
from tests.support.conftest import make_agent

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


def _watch(page):
    """Console errors (a CSP refusal is one), page errors and every HTTP answer of 400 or more."""
    problems = []
    page.on("pageerror", lambda e: problems.append(f"pageerror: {e}"))
    page.on("console", lambda m: problems.append(f"console: {m.text}") if m.type == "error" else None)
    page.on("response", lambda r: problems.append(f"{r.status} {r.url}") if r.status >= 400 else None)
    return problems


def _shop():
    now = timezone.now()
    for days_ago, intent, confidence, reason in [
        (0, "track_order", 0.93, None), (1, "out_of_scope", 0.2, "low_confidence"), (2, "complaint", 0.9, "complaint"),
        (3, "track_order", 0.6, None),
    ]:
        start = now - timedelta(days=days_ago, minutes=30)
        conversation = Conversation.objects.create(created_at=start, rating=4 if reason is None else 2)
        Message.objects.create(conversation=conversation, sender="shopper", text=f"question {intent} {days_ago}", intent=intent,
                               confidence=confidence, data={"top": [["product_info" if intent == "out_of_scope" else intent, confidence]]},
                               created_at=start + timedelta(seconds=5))
        Message.objects.create(conversation=conversation, sender="bot", text="An answer", intent=intent,
                               created_at=start + timedelta(seconds=6))
        if reason:
            Escalation.objects.create(conversation=conversation, reason=reason, created_at=start + timedelta(seconds=7))


def test_an_agent_reads_insights_and_labels_a_message_in_the_review_queue(browser, monkeypatch):
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    make_agent("anna")
    _shop()
    server = LiveServer(CELERY_TASK_ALWAYS_EAGER="1", CHANNELS_PREFIX=f"asgi-insights-{uuid.uuid4().hex[:8]}")
    try:
        page = browser.new_context(viewport={"width": 1400, "height": 1000}).new_page()
        problems = _watch(page)
        page.goto(server.url + "/admin/login/?next=/admin/")
        page.fill("#id_username", "anna")
        page.fill("#id_password", "pw-correct-horse")
        page.click("input[type=submit]")
        page.wait_for_url("**/admin/")

        page.get_by_test_id("desk-insights-link").click()
        page.wait_for_url("**/desk/insights/")
        page.get_by_test_id("insights-days-7").click()
        page.wait_for_url("**/desk/insights/?days=7*")
        assert page.locator('[data-figure="conversations"]').inner_text() == str(Conversation.objects.count())
        assert page.locator('[data-figure="messages"]').inner_text() == str(Message.objects.count())
        # 2 of 4 conversations with the shopper were never handed off.
        assert page.locator('[data-figure="automation-rate"]').inner_text() == "50.0%"
        # The SVG charts are drawn with a size (their CSS loaded under the CSP).
        chart = page.get_by_test_id("insights-series-chart")
        box = chart.bounding_box()
        assert box and box["width"] > 300 and box["height"] > 50
        assert chart.locator("g.insights-column").count() == 7
        assert sum(int(g.get_attribute("data-total")) for g in chart.locator("g.insights-column").all()) == 4
        assert page.get_by_test_id("insights-handoffs").locator("g.insights-bar").count() == 2
        fill = page.evaluate("getComputedStyle(document.querySelector('.insights-part--automated')).fill")
        assert fill == "rgb(46, 125, 50)"
        page.screenshot(path=str(artifacts_dir() / "desk-insights.png"), full_page=True)

        # A from/to period by week through the form.
        page.fill("#id_start", (timezone.localdate() - timedelta(days=13)).isoformat())
        page.fill("#id_end", timezone.localdate().isoformat())
        page.select_option("#id_group", "week")
        page.get_by_test_id("insights-show").click()
        page.wait_for_url("**group=week*")
        assert page.locator('[data-figure="conversations"]').inner_text() == "4"

        # The review queue: the not-understood and the unsure message, newest first.
        page.goto(server.url + "/desk/review/")
        rows = page.get_by_test_id("review-row")
        assert rows.count() == 2
        first = rows.first
        assert "question out_of_scope 1" in first.inner_text()
        assert first.get_by_test_id("review-guess").inner_text() == "product_info"
        message_id = int(first.get_attribute("data-message"))
        first.get_by_test_id("label-confirm").click()  # one click
        page.wait_for_url("**/desk/review/")
        page.locator(".messagelist .success").wait_for()
        assert page.get_by_test_id("review-row").count() == 1
        assert page.locator(f'[data-testid="review-row"][data-message="{message_id}"]').count() == 0
        example = TrainingExample.objects.get(message_id=message_id)
        assert (example.intent, example.source, example.created_by.username) == ("product_info", "confirmation", "anna")

        # The other one marked out of scope from its transcript.
        remaining = page.get_by_test_id("review-row").first
        remaining.get_by_test_id("review-transcript").click()
        page.wait_for_url("**/desk/conversations/**")
        page.get_by_test_id("transcript").get_by_test_id("label-out-of-scope").first.click()
        page.get_by_test_id("transcript-current-label").wait_for()
        page.goto(server.url + "/desk/review/")
        page.get_by_test_id("review-empty").wait_for()
        assert TrainingExample.objects.count() == 2
        page.screenshot(path=str(artifacts_dir() / "desk-review-empty.png"))
        assert problems == []
    finally:
        server.close()
