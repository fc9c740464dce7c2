"""An agent works an escalation in the workspace while a shopper chats, both in headless Chromium."""

import uuid

import pytest

from bot.models import TrainingExample
from support.models import Escalation
from tests.live import LiveServer, artifacts_dir
from tests.support.conftest import make_agent, open_workspace

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


@pytest.fixture
def agent():
    return make_agent("ada")


def test_agent_sees_a_new_escalation_live_claims_it_and_the_shopper_gets_the_reply(agent, browser, monkeypatch):
    # Playwright's sync API keeps an event loop in this thread; the ORM reads below are plain
    # sequential checks between browser steps, not concurrent async code.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    # One server for both pages; on the real stack its tasks run in-process (no worker here)
    # and its channel prefix is its own.
    server = LiveServer(
        CELERY_TASK_ALWAYS_EAGER="1", STATIC_MANIFEST="0", CHANNELS_PREFIX=f"asgi-browser-{uuid.uuid4().hex[:8]}"
    )
    shots = artifacts_dir()
    try:
        desk = browser.new_context(viewport={"width": 1400, "height": 900}).new_page()
        desk_errors = open_workspace(desk, server.url, "ada")
        assert desk.locator('[data-testid="escalation"]').count() == 0

        shop = browser.new_context(viewport={"width": 1100, "height": 860}).new_page()
        shop_errors = []
        shop.on("pageerror", lambda e: shop_errors.append(str(e)))
        shop.goto(server.url + "/", wait_until="domcontentloaded")
        shop.get_by_test_id("sc-launcher").click()
        shop.get_by_test_id("sc-input").fill("Talk to a person")
        shop.get_by_test_id("sc-send").click()

        # The escalation appears in the open workspace without a reload.
        item = desk.locator('[data-testid="escalation"]').first
        item.wait_for(timeout=30_000)
        assert Escalation.objects.count() == 1
        item.click()
        desk.get_by_test_id("claim").click()
        reply_box = desk.get_by_test_id("reply-input")
        # A locator, not wait_for_function: the page's Content-Security-Policy forbids eval.
        desk.locator('[data-testid="reply-input"]:not([disabled])').wait_for(timeout=15_000)
        assert "Talk to a person" in desk.get_by_test_id("transcript").inner_text()
        reply_box.fill("Hi, I'm Ada from the support team. How can I help?")
        desk.get_by_test_id("reply-send").click()
        desk.locator('[data-testid="ws-msg"][data-sender="agent"]').first.wait_for(timeout=15_000)

        agent_message = shop.locator('[data-testid="sc-msg"][data-sender="agent"]').first
        agent_message.wait_for(timeout=15_000)
        assert "Ada from the support team" in agent_message.inner_text()
        shop.screenshot(path=str(shots / "desk-shopper-sees-agent-reply.png"))
        desk.screenshot(path=str(shots / "desk-agent-workspace.png"))
        assert Escalation.objects.get().status == "active"

        # Resolve with a label: it leaves the queue, the shopper is told, the label is kept.
        desk.get_by_test_id("resolve-intent").select_option("contact_human_agent")
        desk.get_by_test_id("resolve").click()
        desk.locator('[data-testid="escalation"]').first.wait_for(state="detached", timeout=15_000)
        shop.get_by_text("has marked your request as resolved").wait_for(timeout=15_000)
        escalation = Escalation.objects.get()
        assert (escalation.status, escalation.resolution_intent) == ("resolved", "contact_human_agent")
        assert list(TrainingExample.objects.values_list("text", "intent", "source")) == [
            ("Talk to a person", "contact_human_agent", "agent_label")
        ]
        assert not desk_errors and not shop_errors, (desk_errors, shop_errors)
    finally:
        server.close()
