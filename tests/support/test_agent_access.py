"""An open agent socket loses access as soon as the agent does (support.signals and the
consumer's re-check): logout, deactivation, a lost staff flag, group or permission, deletion."""

import asyncio

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.contrib.sessions.models import Session
from django.test import Client

from support import handoff
from support.asgi import application
from tests.support.conftest import PACKET, make_agent, make_conversation

pytestmark = [pytest.mark.django_db(transaction=True)]
ORIGIN = (b"origin", b"http://testserver")
User = get_user_model()


def logged_in_client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


async def agent_socket(client: Client):
    cookie = f"sessionid={client.cookies['sessionid'].value}".encode()
    comm = WebsocketCommunicator(application, "/ws/agent/", headers=[ORIGIN, (b"host", b"testserver"), (b"cookie", cookie)])
    connected, _ = await comm.connect(timeout=10)
    assert connected
    frame = await comm.receive_json_from(timeout=10)
    assert frame["type"] == "queue"
    return comm


async def closed_with(comm, timeout=5):
    """The close code the socket ends with (frames sent before it are skipped)."""
    while True:
        output = await comm.receive_output(timeout=timeout)
        if output["type"] == "websocket.close":
            return output.get("code")


async def still_open(comm):
    await comm.send_json_to({"type": "ping"})
    while True:
        output = await comm.receive_output(timeout=5)
        if output["type"] == "websocket.close":
            return False
        if '"pong"' in output.get("text", ""):
            return True


async def drain(comm):
    """Skip what was pushed while access still held (e.g. the routing of a waiting escalation)."""
    while not await comm.receive_nothing(timeout=0.3):
        await comm.receive_output()


def perm():
    return Permission.objects.get(codename="handle_escalations", content_type__app_label="support")


def group_agent(username):
    """An agent through a group only (the README's "Agents" group), no direct permission."""
    user = make_agent(username, perm=False)
    group, _ = Group.objects.get_or_create(name="Agents")
    group.permissions.add(perm())
    user.groups.add(group)
    return User.objects.get(pk=user.pk)


@pytest.fixture(autouse=True)
def no_timed_recheck(settings):
    # Only the signals can close the socket in these tests unless a test shortens this.
    settings.SUPPORT_AGENT_RECHECK_SECONDS = 3600


async def test_logging_out_closes_the_agent_socket_of_that_session_with_4403():
    ada = await database_sync_to_async(make_agent)("ada")
    desk = await database_sync_to_async(logged_in_client)(ada)
    laptop = await database_sync_to_async(logged_in_client)(ada)  # another browser, another session
    comm = await agent_socket(desk)
    other = await agent_socket(laptop)
    try:
        response = await database_sync_to_async(desk.post)("/admin/logout/")
        assert response.status_code == 200
        assert await closed_with(comm) == 4403
        # Logging out ends one session: the agent's other browser keeps its workspace.
        assert await still_open(other)
    finally:
        await comm.disconnect()
        await other.disconnect()


def deactivate(user):
    user.is_active = False
    user.save()


def unstaff(user):
    user.is_staff = False
    user.save(update_fields=["is_staff"])


REVOCATIONS = {
    "deactivated": (make_agent, deactivate),
    "staff_flag_removed": (make_agent, unstaff),
    "permission_removed": (make_agent, lambda u: u.user_permissions.remove(perm())),
    "permissions_cleared": (make_agent, lambda u: u.user_permissions.clear()),
    "removed_from_permission_side": (make_agent, lambda u: perm().user_set.remove(u)),
    "deleted": (make_agent, lambda u: u.delete()),
    "removed_from_group": (group_agent, lambda u: u.groups.remove(Group.objects.get(name="Agents"))),
    "group_members_cleared": (group_agent, lambda u: Group.objects.get(name="Agents").user_set.clear()),
    "permission_removed_from_group": (group_agent, lambda u: Group.objects.get(name="Agents").permissions.remove(perm())),
    "group_taken_from_permission": (group_agent, lambda u: perm().group_set.clear()),
    "group_deleted": (group_agent, lambda u: Group.objects.get(name="Agents").delete()),
}


@pytest.mark.parametrize("how", list(REVOCATIONS))
async def test_losing_agent_access_closes_the_open_agent_socket_with_4403(how):
    make, revoke = REVOCATIONS[how]
    ada = await database_sync_to_async(make)("ada")
    comm = await agent_socket(await database_sync_to_async(logged_in_client)(ada))
    try:
        assert await still_open(comm)
        await database_sync_to_async(revoke)(ada)
        assert await closed_with(comm) == 4403
    finally:
        await comm.disconnect()


async def test_a_change_that_keeps_access_keeps_the_socket_open():
    ada = await database_sync_to_async(make_agent)("ada")
    bob = await database_sync_to_async(make_agent)("bob")
    comm = await agent_socket(await database_sync_to_async(logged_in_client)(ada))

    def harmless():
        ada.first_name = "Adaline"
        ada.save()
        bob.user_permissions.remove(perm())  # someone else's

    try:
        await database_sync_to_async(harmless)()
        assert await still_open(comm)
    finally:
        await comm.disconnect()


def silently(how, user):
    """Take access away without any signal (raw queryset writes)."""
    if how == "staff_flag_by_update":
        User.objects.filter(pk=user.pk).update(is_staff=False)
    elif how == "permission_row_deleted":
        User.user_permissions.through.objects.filter(user=user).delete()
    elif how == "sessions_deleted":
        Session.objects.all().delete()


@pytest.mark.parametrize("how", ["staff_flag_by_update", "permission_row_deleted", "sessions_deleted"])
async def test_a_frame_after_access_is_removed_without_a_signal_is_refused_within_the_recheck_time(how, settings):
    settings.SUPPORT_AGENT_RECHECK_SECONDS = 0.3
    ada = await database_sync_to_async(make_agent)("ada")
    conversation = await database_sync_to_async(make_conversation)("my order")
    escalation = await database_sync_to_async(handoff.conversation_escalate)(
        conversation=conversation, reason="requested", context=PACKET
    )
    comm = await agent_socket(await database_sync_to_async(logged_in_client)(ada))
    try:
        await drain(comm)
        await database_sync_to_async(silently)(how, ada)
        await asyncio.sleep(0.4)
        await comm.send_json_to({"type": "open", "escalation": escalation.pk})
        output = await comm.receive_output(timeout=5)
        # No transcript: the socket closes instead.
        assert output == {"type": "websocket.close", "code": 4403}
    finally:
        await comm.disconnect()


async def test_pushes_stop_and_the_socket_closes_once_access_is_gone_without_a_signal(settings):
    settings.SUPPORT_AGENT_RECHECK_SECONDS = 0.3
    ada = await database_sync_to_async(make_agent)("ada")
    comm = await agent_socket(await database_sync_to_async(logged_in_client)(ada))
    try:
        await database_sync_to_async(User.objects.filter(pk=ada.pk).update)(is_active=False)
        await asyncio.sleep(0.4)
        conversation = await database_sync_to_async(make_conversation)("private matter")
        await database_sync_to_async(handoff.conversation_escalate)(conversation=conversation, reason="requested", context=PACKET)
        output = await comm.receive_output(timeout=5)
        assert output == {"type": "websocket.close", "code": 4403}  # not the escalation frame
    finally:
        await comm.disconnect()
