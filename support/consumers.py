"""The agent workspace socket (ws/agent/): the agent protocol of spec/agent-protocol.md.

Thin: check who is connecting, validate each frame, call a service, reply. Pushes from
elsewhere (bot.events) arrive as `frame.push` events in the groups this socket joins.

Access is not only checked on connect: every frame from or to the agent re-reads it (at most
every SUPPORT_AGENT_RECHECK_SECONDS), and an `agent.access` event (support.signals: logout,
deactivation, a lost permission) re-reads it at once; once it is gone the socket closes 4403.
"""

from __future__ import annotations

import asyncio
import logging
import time

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext as _

from bot import events
from bot.outages import DatabaseOutageMixin

from . import agent_actions, presence, selectors
from .desk import DeskError
from .models import Escalation

logger = logging.getLogger(__name__)

CLOSE_FORBIDDEN = 4403
MAX_FRAME_BYTES = 16_000
HEARTBEAT_SECONDS = 25


def scope_language(scope) -> str:
    """The agent's language, as LocaleMiddleware picks it for their admin pages: the language
    cookie, else Accept-Language, else the shop's default."""
    headers = {name.decode("latin-1").lower(): value.decode("latin-1") for name, value in scope.get("headers") or []}
    cookies = {}
    for part in headers.get("cookie", "").split(";"):
        name, _sep, value = part.strip().partition("=")
        cookies[name] = value
    chosen = cookies.get(settings.LANGUAGE_COOKIE_NAME)
    candidates = [chosen] if chosen else []
    candidates += [code for code, _q in translation.trans_real.parse_accept_lang_header(headers.get("accept-language", ""))]
    for code in candidates:
        try:
            return translation.get_supported_language_variant(code)
        except LookupError:
            continue
    return translation.get_supported_language_variant(settings.LANGUAGE_CODE)


class AgentConsumer(DatabaseOutageMixin, AsyncJsonWebsocketConsumer):
    async def connect(self):
        self.user = self.scope.get("user")
        self.language = scope_language(self.scope)  # the desk's words on this socket (errors)
        self.watching: set[str] = set()
        self.agent_groups = [events.AGENTS_GROUP]
        self.ready = False
        self.refused = False
        self.heartbeat_task = None
        # Accept first: a close code only reaches the client on an accepted socket.
        await self.accept()
        if not await database_sync_to_async(selectors.user_is_agent)(self.user):
            await self.close(code=CLOSE_FORBIDDEN)
            return
        session = self.scope.get("session")
        self.session_key = getattr(session, "session_key", None) if session is not None else None
        self.access_checked_at = time.monotonic()
        self.agent_groups.append(events.agent_group(self.user.pk))
        for group in self.agent_groups:
            await self.channel_layer.group_add(group, self.channel_name)
        with translation.override(self.language):
            me, queue, held = await database_sync_to_async(self._on_connect)()
        for hexid in held:
            await self._watch(hexid)
        self.ready = True
        await self.send_json(
            {
                "type": "queue",
                "escalations": queue,
                "me": me,
            }
        )
        self.heartbeat_task = asyncio.ensure_future(self._heartbeat())

    def _on_connect(self):
        profile = presence.agent_connect(agent=self.user)
        queue = [selectors.escalation_frame(e) for e in selectors.escalation_open_list()]
        held = [e.conversation.public_id.hex for e in selectors.escalation_held_by(user=self.user)]
        me = {"username": self.user.username, "name": selectors.agent_name(self.user), "availability": profile.availability}
        return me, queue, held

    async def disconnect(self, code):
        if self.heartbeat_task is not None:
            self.heartbeat_task.cancel()
        if not getattr(self, "ready", False):
            return
        for group in [*self.agent_groups, *(f"watch.{h}" for h in self.watching)]:
            await self.channel_layer.group_discard(group, self.channel_name)
        await database_sync_to_async(presence.agent_disconnect)(agent=self.user)

    async def _heartbeat(self):
        """Keep the agent routable, and re-join groups (they are lost if Redis restarts)."""
        try:
            while True:
                await asyncio.sleep(HEARTBEAT_SECONDS)
                if not await self._access_holds(fresh=True):  # a quiet socket is re-checked too
                    await self._refuse()
                    return
                await database_sync_to_async(presence.agent_heartbeat)(agent=self.user)
                for group in [*self.agent_groups, *(f"watch.{h}" for h in self.watching)]:
                    await self.channel_layer.group_add(group, self.channel_name)
        except asyncio.CancelledError:
            pass
        except Exception:  # noqa: BLE001 — a heartbeat failure must not kill the socket
            logger.exception("agent heartbeat failed")

    async def _access_holds(self, *, fresh: bool = False) -> bool:
        """Still an active staff agent, logged in with the session the socket was opened with?
        Read from the database at most every SUPPORT_AGENT_RECHECK_SECONDS unless `fresh`."""
        if self.refused:
            return False
        if not fresh and time.monotonic() - self.access_checked_at < settings.SUPPORT_AGENT_RECHECK_SECONDS:
            return True
        holds = await database_sync_to_async(selectors.agent_access_holds)(user_id=self.user.pk, session_key=self.session_key)
        if holds:
            self.access_checked_at = time.monotonic()
        return holds

    async def _refuse(self):
        if not self.refused:
            self.refused = True
            await self.close(code=CLOSE_FORBIDDEN)

    async def _watch(self, conversation_hex: str):
        self.watching.add(conversation_hex)
        await self.channel_layer.group_add(f"watch.{conversation_hex}", self.channel_name)

    async def _unwatch(self, conversation_hex: str):
        self.watching.discard(conversation_hex)
        await self.channel_layer.group_discard(f"watch.{conversation_hex}", self.channel_name)

    # --- From the agent ---------------------------------------------------------------

    async def receive(self, text_data=None, bytes_data=None, **kwargs):
        if not self.ready or self.refused:
            return
        if not await self._access_holds():
            await self._refuse()
            return
        with translation.override(self.language):
            if text_data is None or len(text_data) > MAX_FRAME_BYTES:
                await self.error("bad_frame", _("Send JSON text frames of at most 16 kB."))
                return
            await super().receive(text_data=text_data, bytes_data=bytes_data, **kwargs)

    @classmethod
    async def decode_json(cls, text_data):
        import json

        try:
            return json.loads(text_data)
        except ValueError:
            return None

    async def receive_json(self, content, **kwargs):
        if not isinstance(content, dict) or not isinstance(content.get("type"), str):
            await self.error("bad_frame", "A frame is a JSON object with a type.")
            return
        handler = self.HANDLERS.get(content["type"])
        if handler is None:
            await self.error("unknown_type", _("Unknown frame type %(type)r.") % {"type": content["type"][:40]})
            return
        try:
            await handler(self, content)
        except DeskError as exc:
            await self.error(exc.code, exc.detail)

    async def error(self, code: str, detail: str, **extra):
        await self.send_json({"type": "error", "code": code, "detail": detail, **{k: v for k, v in extra.items() if v is not None}})

    @staticmethod
    def _int(content, key) -> int:
        value = content.get(key)
        if isinstance(value, bool) or not isinstance(value, int):
            raise DeskError("bad_frame", f"{key} must be an escalation id (a number).")
        return value

    @staticmethod
    def _str(content, key) -> str:
        value = content.get(key)
        if not isinstance(value, str) or not value:
            raise DeskError("bad_frame", f"{key} is required.")
        return value

    async def on_claim(self, content):
        escalation_id = self._int(content, "escalation")
        view = await database_sync_to_async(self._claim)(escalation_id)
        await self._watch(view["conversation"])
        await self.send_json(view)

    def _claim(self, escalation_id):
        escalation = agent_actions.escalation_claim(escalation_id=escalation_id, agent=self.user)
        return selectors.conversation_view(escalation=escalation)

    async def on_open(self, content):
        """Look at an escalation's transcript and packet before claiming it (no live updates)."""
        escalation_id = self._int(content, "escalation")
        view = await database_sync_to_async(self._open)(escalation_id)
        await self.send_json(view)

    def _open(self, escalation_id):
        escalation = Escalation.objects.select_related("conversation", "assigned_to").filter(pk=escalation_id).first()
        if escalation is None:
            raise DeskError("not_found", _("There is no such escalation."))
        return selectors.conversation_view(escalation=escalation)

    async def on_reply(self, content):
        client_id = content.get("client_id")
        try:
            conversation = self._str(content, "conversation")
            text = content.get("text")
            if not isinstance(text, str):
                raise DeskError("bad_frame", "text must be a string.")
            message = await database_sync_to_async(agent_actions.agent_reply)(
                agent=self.user, conversation_hex=conversation, text=text, client_id=client_id
            )
        except DeskError as exc:
            # With the reply's client_id: the workspace marks that reply as not sent and drops
            # it from what it resends on reconnect (the refusal is final).
            ok_id = client_id if isinstance(client_id, str) and len(client_id) <= 64 else None
            await self.error(exc.code, exc.detail, client_id=ok_id)
            return
        await self.send_json({"type": "ack", "client_id": client_id, "id": message.pk, "conversation": conversation})

    async def on_typing(self, content):
        conversation = self._str(content, "conversation")
        await database_sync_to_async(agent_actions.agent_typing)(agent=self.user, conversation_hex=conversation)

    async def on_release(self, content):
        conversation = self._str(content, "conversation")
        await database_sync_to_async(agent_actions.escalation_release)(agent=self.user, conversation_hex=conversation)
        await self._unwatch(conversation)

    async def on_resolve(self, content):
        escalation_id = self._int(content, "escalation")
        intent = content.get("intent")
        if intent is not None and not isinstance(intent, str):
            raise DeskError("bad_frame", _("intent is a label from intents.yaml or null."))
        escalation = await database_sync_to_async(agent_actions.escalation_resolve)(
            escalation_id=escalation_id,
            agent=self.user,
            intent=intent or None,
            note=content.get("note") or "",
            better_answer=content.get("better_answer") or "",
            message_ids=content.get("messages"),
        )
        hexid = await database_sync_to_async(lambda: escalation.conversation.public_id.hex)()
        await self._unwatch(hexid)

    async def on_availability(self, content):
        profile = await database_sync_to_async(presence.agent_availability_set)(
            agent=self.user, availability=self._str(content, "availability")
        )
        await self.send_json({"type": "availability", "availability": profile.availability})

    async def on_ping(self, content):
        await database_sync_to_async(presence.agent_heartbeat)(agent=self.user)
        await self.send_json({"type": "pong"})

    HANDLERS = {
        "claim": on_claim,
        "open": on_open,
        "reply": on_reply,
        "typing": on_typing,
        "release": on_release,
        "resolve": on_resolve,
        "availability": on_availability,
        "ping": on_ping,
    }

    # --- To the agent -----------------------------------------------------------------

    async def agent_access(self, event):
        """bot.events.agent_access_changed: a logout of this socket's session closes it; any
        other change is re-read fresh."""
        if not self.ready or self.refused:
            return
        if event.get("logged_out") and event.get("session_key") in (None, self.session_key):
            await self._refuse()
        elif not await self._access_holds(fresh=True):
            await self._refuse()

    async def frame_push(self, event):
        if not await self._access_holds():  # nothing more reaches someone who lost access
            await self._refuse()
            return
        frame = event["frame"]
        if (
            frame.get("type") == "escalation"
            and frame.get("status") == Escalation.Status.ASSIGNED
            and frame.get("assigned_to") == self.user.username
        ):
            frame = {**frame, "for_you": True}
        if frame.get("type") == "escalation":
            frame = self._in_my_language(frame)
        await self.send_json(frame)

    def _in_my_language(self, frame: dict) -> dict:
        """An escalation frame is built once for every workspace: its reason label is said again
        in this agent's language."""
        try:
            reason = Escalation.Reason(frame.get("reason"))
        except ValueError:
            return frame
        with translation.override(self.language):
            return {**frame, "reason_label": str(reason.label)}
