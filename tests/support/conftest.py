"""Rows for the support desk tests: agents (staff with the workspace permission), conversations."""

from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.utils import timezone

from bot.models import Conversation, Message
from support.models import AgentProfile

PACKET = {
    "intents": [{"intent": "track_order", "confidence": 0.41}, {"intent": "out_of_scope", "confidence": 0.33}],
    "entities": {"order_number": "NW-10001"},
    "verified_order": None,
    "actions": [{"action": "order_lookup", "outcome": "not_verified"}],
    "last_message": "my parcel never came and nobody answers",
}


def make_agent(username, *, online=False, capacity=3, email=None, perm=True, staff=True, active=True, last_assigned=None):
    user = get_user_model().objects.create_user(
        username=username, password="pw-correct-horse", email=email if email is not None else f"{username}@desk.example",
        first_name=username.capitalize(), is_staff=staff, is_active=active,
    )
    if perm:
        user.user_permissions.add(Permission.objects.get(codename="handle_escalations", content_type__app_label="support"))
    AgentProfile.objects.create(
        user=user,
        availability=AgentProfile.Availability.ONLINE if online else AgentProfile.Availability.OFFLINE,
        capacity=capacity,
        open_sockets=1 if online else 0,
        last_seen_at=timezone.now() if online else None,
        last_assigned_at=last_assigned,
    )
    return get_user_model().objects.get(pk=user.pk)  # fresh: no cached permissions


def open_workspace(page, server_url, username):
    """Log a make_agent() user in through the admin login in a browser page and wait until the
    workspace's socket is live. Returns the page's uncaught errors (a list that fills later)."""
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(server_url + "/admin/login/?next=/desk/workspace/")
    page.fill("#id_username", username)
    page.fill("#id_password", "pw-correct-horse")
    page.click("input[type=submit]")
    page.wait_for_url("**/desk/workspace/")
    page.locator('[data-testid="connection"][data-state="open"]').wait_for(timeout=20_000)
    return errors


def make_conversation(*texts, user=None):
    conversation = Conversation.objects.create(user=user)
    for text in texts:
        Message.objects.create(conversation=conversation, sender="shopper", text=text)
        Message.objects.create(conversation=conversation, sender="bot", text="Sorry, I didn't get that.", intent="out_of_scope", confidence=0.3)
    return conversation


@pytest.fixture
def packet():
    return {**PACKET, "intents": list(PACKET["intents"]), "actions": list(PACKET["actions"])}


def minutes_ago(n):
    return timezone.now() - timedelta(minutes=n)
