"""The one place that pushes frames to WebSocket clients (shoppers and agents).

Everything else calls these functions; nothing else calls group_send. Each push is sent after
the surrounding transaction commits, so a client never sees a row that was rolled back.

Groups:
- ``conversation.<hex>``: the shopper's sockets of one conversation (shopper protocol frames).
- ``watch.<hex>``: agents' sockets that hold that conversation (agent protocol frames).
- ``agents``: every open agent workspace (queue updates).
- ``agent.<user id>``: one agent's sockets.
A consumer in any group receives ``{"type": "frame.push", "frame": {...}}`` and sends ``frame``
to its client as JSON. Agent sockets also receive ``agent.access`` (see agent_access_changed).
"""

from __future__ import annotations

import asyncio
import logging
import os
import threading
from contextvars import ContextVar

from asgiref.sync import SyncToAsync, async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction
from django.utils.translation import gettext

logger = logging.getLogger(__name__)

AGENTS_GROUP = "agents"

# The shopper socket (channel name) that delivers the current turn's answer itself: set by the
# chat consumer around the turn and seen in its worker thread (asgiref carries context vars).
# The answer's push to the conversation group leaves that socket out (the layer permitting):
# other tabs of the conversation still get it, and no copy echoes back through Redis.
answering_channel: ContextVar[str | None] = ContextVar("answering_channel", default=None)


def conversation_group(conversation) -> str:
    return f"conversation.{conversation.public_id.hex}"


def watch_group(conversation) -> str:
    return f"watch.{conversation.public_id.hex}"


def agent_group(user_id: int) -> str:
    return f"agent.{user_id}"


# The last push handed to the event loop, per group: the next one to that group waits for it,
# so frames reach a client in the order they were pushed (escalated before the notice after it).
_tails: dict[str, object] = {}
_tails_lock = threading.Lock()


async def _group_send(layer, group: str, message: dict, skip: str | None) -> None:
    send_except = getattr(layer, "group_send_except", None)
    if skip and send_except is not None:
        await send_except(group, message, skip)
    else:
        await layer.group_send(group, message)


async def _send_in_order(layer, group: str, message: dict, previous, skip: str | None = None) -> None:
    if previous is not None:
        try:
            await asyncio.wrap_future(previous)
        except Exception:  # noqa: BLE001 — logged by its own callback; order is all we wait for
            pass
    await _group_send(layer, group, message, skip)


def _finished(group: str):
    def done(future):
        with _tails_lock:
            if _tails.get(group) is future:
                del _tails[group]
        if not future.cancelled() and future.exception() is not None:
            logger.error("push to %s failed", group, exc_info=future.exception())

    return done


def _push_now(group: str, frame: dict, skip: str | None = None) -> None:
    _send_now(group, {"type": "frame.push", "frame": frame}, skip)


def _send_now(group: str, message: dict, skip: str | None = None) -> None:
    layer = get_channel_layer()
    # In a worker thread of an ASGI server, hand the send to the server's event loop and do
    # not wait for it: the shopper's reply must not queue behind other clients' sockets.
    loop = getattr(SyncToAsync.threadlocal, "main_event_loop", None)
    if loop is not None and loop.is_running() and getattr(SyncToAsync.threadlocal, "main_event_loop_pid", None) == os.getpid():
        with _tails_lock:
            previous = _tails.get(group)
            future = asyncio.run_coroutine_threadsafe(_send_in_order(layer, group, message, previous, skip), loop)
            _tails[group] = future
        future.add_done_callback(_finished(group))
        return
    try:
        async_to_sync(_group_send)(layer, group, message, skip)
    except Exception:  # noqa: BLE001 — a dead layer must not undo a stored message
        # The row is committed; a client that misses the push gets it from the transcript on
        # reconnect. Log loudly so operators see a broken channel layer.
        logger.exception("push to %s failed", group)


def push(group: str, frame: dict, skip: str | None = None) -> None:
    """Push a frame to a group once the current transaction (if any) commits; `skip`: a channel
    in the group that must not get it (the layer permitting)."""
    transaction.on_commit(lambda: _push_now(group, frame, skip))


# --- Shapes --------------------------------------------------------------------------------


def shopper_message_frame(message) -> dict:
    """A MESSAGE in the shopper protocol."""
    frame = {
        "type": "message",
        "id": message.pk,
        "sender": message.sender,
        "text": message.text,
        "created": message.created_at.isoformat(),
    }
    if message.sender == "shopper" and message.client_id:
        frame["client_id"] = message.client_id
    if message.sender == "bot":
        frame["intent"] = message.intent
        frame["confidence"] = round(message.confidence or 0.0, 4)
    if message.sender == "agent":
        frame["agent_name"] = message.data.get("agent_name") or gettext("Agent")
    if message.sender in ("bot", "system") and message.data.get("language"):
        frame["language"] = message.data["language"]  # the language its text is written in
    for key in ("quick_replies", "cards", "sources"):
        if message.data.get(key):
            frame[key] = message.data[key]
    return frame


def agent_message_frame(message) -> dict:
    """A message in the agent protocol."""
    return {
        "type": "message",
        "conversation": message.conversation.public_id.hex,
        "id": message.pk,
        "sender": message.sender,
        "text": message.text,
        "created": message.created_at.isoformat(),
        "intent": message.intent or None,
        "confidence": message.confidence,
    }


# --- Pushes --------------------------------------------------------------------------------


def message_created(message) -> None:
    """A new message: to the shopper (unless it is the shopper's own) and to watching agents."""
    conversation = message.conversation
    if message.sender != "shopper":
        skip = answering_channel.get() if message.sender == "bot" else None
        push(conversation_group(conversation), shopper_message_frame(message), skip)
    push(watch_group(conversation), agent_message_frame(message))


def typing(conversation, *, sender: str, to_agents: bool = False) -> None:
    frame = {"type": "typing", "sender": sender}
    if to_agents:
        _push_now(watch_group(conversation), {**frame, "conversation": conversation.public_id.hex})
    else:
        _push_now(conversation_group(conversation), frame)


def conversation_escalated(conversation, *, reason: str, position: int | None, agents_online: bool) -> None:
    """Handed to people: the place in the queue when someone is online to take it, else null."""
    push(
        conversation_group(conversation),
        {"type": "escalated", "reason": reason, "position": position, "agents_online": agents_online},
    )


def agent_joined(conversation, *, agent_name: str) -> None:
    push(conversation_group(conversation), {"type": "agent_joined", "agent": agent_name})


def agent_left(conversation) -> None:
    push(conversation_group(conversation), {"type": "agent_left"})


def escalation_changed(escalation_frame: dict, *, user_id: int | None = None) -> None:
    """An escalation was created, assigned, claimed or resolved: to every agent workspace."""
    push(AGENTS_GROUP, {"type": "escalation", **escalation_frame})
    if user_id is not None:
        push(agent_group(user_id), {"type": "escalation", **escalation_frame, "for_you": True})


def queue_position(conversation, *, position: int | None) -> None:
    """The shopper's place in the support queue changed (someone ahead was taken)."""
    push(conversation_group(conversation), {"type": "queue", "position": position})


def agent_availability(user_id: int, *, availability: str) -> None:
    """An agent's own availability changed (all their workspace tabs follow)."""
    push(agent_group(user_id), {"type": "availability", "availability": availability})


def agent_access_changed(user_id: int, *, logged_out_session: str | None = None, logged_out: bool = False) -> None:
    """Something that grants agent access changed for this user (deactivated, staff flag or
    permission removed, deleted, logged out): their open workspace sockets re-check it, fresh,
    and close with 4403 if it is gone. `logged_out`: the sockets of `logged_out_session` (all of
    the user's if None) close without a re-check, since the session ends only after the signal."""
    message = {"type": "agent.access", "logged_out": logged_out, "session_key": logged_out_session}
    transaction.on_commit(lambda: _send_now(agent_group(user_id), message))
