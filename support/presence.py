"""Agents' presence: availability they choose, workspace sockets that open and close, heartbeats."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from bot import events

from . import selectors
from .desk import DeskError
from .jobs import job_after_commit
from .models import AgentProfile


def _profile_locked(agent) -> AgentProfile:
    AgentProfile.objects.get_or_create(user=agent)
    return AgentProfile.objects.select_for_update(of=("self",)).get(user=agent)


@transaction.atomic
def agent_availability_set(*, agent, availability: str) -> AgentProfile:
    if availability not in AgentProfile.Availability.values:
        raise DeskError("bad_availability", _("Availability is online, away or offline."))
    profile = _profile_locked(agent)
    if profile.availability != availability:
        profile.availability = availability
        profile.availability_changed_at = timezone.now()
        profile.save(update_fields=["availability", "availability_changed_at"])
        events.agent_availability(agent.pk, availability=availability)
    if availability == AgentProfile.Availability.ONLINE:
        job_after_commit("route_waiting")
    return profile


@transaction.atomic
def agent_connect(*, agent) -> AgentProfile:
    """A workspace socket opened: the agent is online unless they chose to be away."""
    profile = _profile_locked(agent)
    now = timezone.now()
    stale = profile.last_seen_at is None or profile.last_seen_at < now - selectors.AGENT_STALE_AFTER
    # Sockets of a server that died were never counted down: a silent agent starts from zero.
    profile.open_sockets = 1 if stale else profile.open_sockets + 1
    profile.last_seen_at = now
    profile.save(update_fields=["open_sockets", "last_seen_at"])
    if profile.availability == AgentProfile.Availability.OFFLINE:
        profile.availability = AgentProfile.Availability.ONLINE
        profile.availability_changed_at = timezone.now()
        profile.save(update_fields=["availability", "availability_changed_at"])
    if profile.availability == AgentProfile.Availability.ONLINE:
        job_after_commit("route_waiting")
    return profile


@transaction.atomic
def agent_disconnect(*, agent) -> AgentProfile | None:
    """A workspace socket closed: with the last one gone the agent is offline."""
    profile = AgentProfile.objects.select_for_update(of=("self",)).filter(user_id=agent.pk).first()
    if profile is None:  # the user was deleted while the socket was open
        return None
    profile.open_sockets = max(0, profile.open_sockets - 1)
    profile.last_seen_at = timezone.now()
    fields = ["open_sockets", "last_seen_at"]
    if profile.open_sockets == 0 and profile.availability == AgentProfile.Availability.ONLINE:
        profile.availability = AgentProfile.Availability.OFFLINE
        profile.availability_changed_at = timezone.now()
        fields += ["availability", "availability_changed_at"]
    profile.save(update_fields=fields)
    return profile


def agent_heartbeat(*, agent) -> None:
    AgentProfile.objects.filter(user=agent).update(last_seen_at=timezone.now())
