"""In headless Chromium: an agent (only the workspace permission, not a superuser) finds the desk
from the admin home, and a shopper after hours is told the truth in the widget."""

import uuid

import pytest

from support.models import Escalation
from tests.live import LiveServer, artifacts_dir
from tests.support.conftest import make_agent, make_conversation

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


def _watch(page):
    """Console errors, page errors and every HTTP answer of 400 or more on this page."""
    problems = []
    page.on("pageerror", lambda e: problems.append(f"pageerror: {e}"))
    page.on("console", lambda m: problems.append(f"console: {m.text} {m.location.get('url')}") if m.type == "error" else None)
    page.on("response", lambda r: problems.append(f"{r.status} {r.url}") if r.status >= 400 else None)
    return problems


def test_an_agent_goes_from_the_admin_home_to_the_support_desk_and_the_workspace(browser, monkeypatch):
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    anna = make_agent("anna")
    mine = Escalation.objects.create(
        conversation=make_conversation("my parcel is lost"), reason="complaint", status="active", assigned_to=anna,
        summary="Complaint · parcel lost",
    )
    waiting = Escalation.objects.create(conversation=make_conversation("hello?"), reason="requested", summary="Waiting one")
    server = LiveServer(CELERY_TASK_ALWAYS_EAGER="1", CHANNELS_PREFIX=f"asgi-deskhome-{uuid.uuid4().hex[:8]}")
    try:
        page = browser.new_context(viewport={"width": 1400, "height": 900}).new_page()
        problems = _watch(page)
        page.goto(server.url + "/admin/login/?next=/admin/")
        page.fill("#id_username", "anna")
        page.fill("#id_password", "pw-correct-horse")
        page.click("input[type=submit]")
        page.wait_for_url("**/admin/")

        home = page.get_by_test_id("desk-home")
        home.wait_for()
        assert home.get_by_test_id("desk-mine-count").inner_text() == "1"
        assert home.get_by_test_id("desk-queue-count").inner_text() == "1"
        assert f"#{mine.pk}" in home.get_by_test_id("desk-mine-item").inner_text()
        assert f"#{waiting.pk}" in home.get_by_test_id("desk-queue-item").inner_text()
        page.screenshot(path=str(artifacts_dir() / "desk-agent-admin-home.png"))

        # The queue link lists the waiting one; back home, the Support desk heading opens the desk.
        home.get_by_test_id("desk-queue-link").click()
        page.wait_for_url("**/admin/support/escalation/?status__exact=queued")
        assert page.locator("#result_list tbody tr").count() == 1
        page.go_back()
        page.locator("#desk-home caption a", has_text="Support desk").click()
        page.wait_for_url("**/admin/support/")
        page.get_by_test_id("desk-workspace-link").click()
        page.wait_for_url("**/desk/workspace/")
        page.locator('[data-testid="connection"][data-state="open"]').wait_for(timeout=20_000)

        # The workspace's breadcrumb leads back to the desk, for an agent too.
        page.locator(".breadcrumbs a", has_text="Support desk").click()
        page.wait_for_url("**/admin/support/")
        page.get_by_test_id("desk-home").wait_for()
        assert problems == []
    finally:
        server.close()


def test_after_hours_the_widget_says_the_team_is_offline_and_promises_no_place_in_the_queue(browser, monkeypatch):
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    server = LiveServer(CELERY_TASK_ALWAYS_EAGER="1", CHANNELS_PREFIX=f"asgi-deskhome-{uuid.uuid4().hex[:8]}")
    try:
        shop = browser.new_context(viewport={"width": 1100, "height": 860}).new_page()
        problems = _watch(shop)
        shop.goto(server.url + "/", wait_until="domcontentloaded")
        shop.get_by_test_id("sc-launcher").click()
        # The socket opens, then the session frame says whether anyone could join.
        status = shop.locator('[data-testid="sc-status"][data-state="open"]:not([data-team="unknown"])')
        status.wait_for(timeout=20_000)
        assert status.get_attribute("data-team") == "offline"
        assert "team offline" in status.inner_text().lower()
        shop.get_by_test_id("sc-input").fill("Talk to a person")
        shop.get_by_test_id("sc-send").click()
        shop.locator('[data-testid="sc-msg"][data-sender="system"]').first.wait_for(timeout=30_000)
        shop.wait_for_timeout(500)  # let any notice that would follow arrive
        log = shop.locator(".sc-log").inner_text().lower()
        assert "no one from our support team is online right now" in log
        assert "queue" not in log and "join shortly" not in log
        shop.screenshot(path=str(artifacts_dir() / "desk-after-hours-widget.png"))
        assert problems == []
    finally:
        server.close()
