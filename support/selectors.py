"""Reads of the support desk: queue, agents, hand-off packets and the frames agents see."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.db.models import Case, Count, IntegerField, Q, QuerySet, Value, When
from django.utils import timezone

from bot import intents

from .models import AgentProfile, CannedReply, Escalation

# An online agent whose workspace has not spoken for this long is not routed to.
AGENT_STALE_AFTER = timedelta(seconds=90)


def _priority_rank():
    return Case(
        *[When(priority=value, then=Value(rank)) for value, rank in Escalation.PRIORITY_RANK.items()],
        default=Value(1),
        output_field=IntegerField(),
    )


def escalation_waiting_list() -> QuerySet[Escalation]:
    """Escalations waiting for a person, in the order agents should take them."""
    return (
        Escalation.objects.filter(status__in=Escalation.WAITING)
        .annotate(rank=_priority_rank())
        .order_by("-rank", "created_at", "pk")
    )


def queue_position(*, escalation: Escalation) -> int | None:
    """1 for the next shopper to be served; None once a person has the conversation or it closed."""
    if escalation.status not in Escalation.WAITING:
        return None
    rank = escalation.priority_rank
    ahead = (
        Escalation.objects.filter(status__in=Escalation.WAITING)
        .annotate(rank=_priority_rank())
        .filter(
            Q(rank__gt=rank)
            | Q(rank=rank, created_at__lt=escalation.created_at)
            | Q(rank=rank, created_at=escalation.created_at, pk__lt=escalation.pk)
        )
        .count()
    )
    return ahead + 1


def escalation_open_list() -> list[Escalation]:
    """Every open escalation a workspace shows: active ones first, then the waiting queue."""
    rows = (
        Escalation.objects.filter(status__in=Escalation.OPEN)
        .select_related("conversation", "assigned_to", "assigned_to__agent_profile")
        .annotate(rank=_priority_rank())
        .order_by("-rank", "created_at", "pk")
    )
    return list(rows)


def escalation_assigned_to(*, user) -> QuerySet[Escalation]:
    """The agent's own open escalations (routed to them or claimed), most urgent first."""
    return (
        Escalation.objects.filter(assigned_to=user, status__in=(Escalation.Status.ASSIGNED, Escalation.Status.ACTIVE))
        .annotate(rank=_priority_rank())
        .order_by("-rank", "created_at", "pk")
    )


def escalation_unassigned_list() -> QuerySet[Escalation]:
    """The queue nobody has yet: waiting and not routed to an agent."""
    return escalation_waiting_list().filter(status=Escalation.Status.QUEUED, assigned_to__isnull=True)


def desk_home(*, user, limit: int = 10) -> dict | None:
    """What an agent's admin home shows of the desk; None for someone who is not an agent."""
    if not user_is_agent(user):
        return None
    mine = escalation_assigned_to(user=user).select_related("conversation")
    queue = escalation_unassigned_list().select_related("conversation")
    return {
        "mine": list(mine[:limit]),
        "mine_count": mine.count(),
        "queue": list(queue[:limit]),
        "queue_count": queue.count(),
        "agents_online": agent_online_exists(),
    }


def escalation_held_by(*, user) -> list[Escalation]:
    """The escalations this agent has claimed and not yet closed."""
    return list(
        Escalation.objects.filter(assigned_to=user, status=Escalation.Status.ACTIVE).select_related("conversation")
    )


def agents_routable() -> QuerySet[AgentProfile]:
    """Online agents whose workspace is open and alive, with their current load."""
    fresh = timezone.now() - AGENT_STALE_AFTER
    return (
        AgentProfile.objects.filter(
            availability=AgentProfile.Availability.ONLINE,
            open_sockets__gt=0,
            last_seen_at__gte=fresh,
            user__is_active=True,
            user__is_staff=True,
        )
        .filter(
            Q(user__user_permissions__codename="handle_escalations", user__user_permissions__content_type__app_label="support")
            | Q(user__groups__permissions__codename="handle_escalations", user__groups__permissions__content_type__app_label="support")
            | Q(user__is_superuser=True)
        )
        .distinct()
    )


def agent_online_exists() -> bool:
    return agents_routable().exists()


def agent_loads(*, user_ids) -> dict[int, int]:
    """Open escalations (assigned or active) per agent."""
    counts = (
        Escalation.objects.filter(assigned_to_id__in=list(user_ids), status__in=(Escalation.Status.ASSIGNED, Escalation.Status.ACTIVE))
        .values("assigned_to_id")
        .annotate(n=Count("pk"))
    )
    loads = {user_id: 0 for user_id in user_ids}
    loads.update({row["assigned_to_id"]: row["n"] for row in counts})
    return loads


def agent_pick(*, profiles: list[AgentProfile], exclude_user_ids=()) -> AgentProfile | None:
    """Least-loaded agent with free capacity; ties go round-robin (assigned longest ago first)."""
    candidates = [p for p in profiles if p.user_id not in set(exclude_user_ids)]
    loads = agent_loads(user_ids=[p.user_id for p in candidates])
    free = [p for p in candidates if loads[p.user_id] < p.capacity]
    if not free:
        return None
    epoch = timezone.make_aware(timezone.datetime(1970, 1, 1), timezone.get_fixed_timezone(0))
    free.sort(key=lambda p: (loads[p.user_id], p.last_assigned_at or epoch, p.user_id))
    return free[0]


def agent_name(user) -> str:
    if user is None:
        return ""
    profile = getattr(user, "agent_profile", None) if _has_profile(user) else None
    if profile is not None and profile.display_name:
        return profile.display_name
    return user.first_name or user.username


def _has_profile(user) -> bool:
    try:
        user.agent_profile  # noqa: B018 — a reverse one-to-one raises when missing
    except AgentProfile.DoesNotExist:
        return False
    return True


def user_is_agent(user) -> bool:
    return bool(
        user is not None
        and user.is_authenticated
        and user.is_active
        and user.is_staff
        and user.has_perm("support.handle_escalations")
    )


def agent_access_holds(*, user_id: int, session_key: str | None) -> bool:
    """Is the socket opened with this session still an agent's? Read fresh: the session must
    still log in that user (not logged out, password unchanged) and the user must still be an
    active staff agent. Without a session key (a socket not opened through a login), the user
    alone is checked."""
    from django.contrib.auth import get_user_model

    user = get_user_model().objects.filter(pk=user_id).first()
    if user is None or not user_is_agent(user):
        return False
    return session_key is None or _session_logs_in(session_key, user)


def _session_logs_in(session_key: str, user) -> bool:
    """Django's own session check (auth.get_user) without its side effects: the session still
    exists, names this user, and carries the hash of their current password (or of it under a
    SECRET_KEY_FALLBACKS key)."""
    from importlib import import_module

    from django.contrib.auth import HASH_SESSION_KEY, SESSION_KEY
    from django.utils.crypto import constant_time_compare

    session = import_module(settings.SESSION_ENGINE).SessionStore(session_key)
    if session.get(SESSION_KEY) != str(user.pk):
        return False  # logged out, flushed or expired
    session_hash = session.get(HASH_SESSION_KEY)
    if not session_hash:
        return False
    hashes = [user.get_session_auth_hash()]
    hashes += [user._get_session_auth_hash(secret=secret) for secret in settings.SECRET_KEY_FALLBACKS]
    return any(constant_time_compare(session_hash, h) for h in hashes)


def escalation_frame(escalation: Escalation) -> dict:
    """ESCALATION in the agent protocol (plus a few fields the workspace shows)."""
    return {
        "id": escalation.pk,
        "conversation": escalation.conversation.public_id.hex,
        "status": escalation.status,
        "reason": escalation.reason,
        "reason_label": escalation.get_reason_display(),
        "priority": escalation.priority,
        "assigned_to": escalation.assigned_to.username if escalation.assigned_to_id else None,
        "assigned_name": agent_name(escalation.assigned_to) if escalation.assigned_to_id else None,
        "created": escalation.created_at.isoformat(),
        "claimed": escalation.claimed_at.isoformat() if escalation.claimed_at else None,
        "summary": escalation.summary,
        # The language the shopper is answered in (bot.models.Conversation.language).
        "language": escalation.conversation.language,
        "after_hours": escalation.after_hours,
        "version": escalation.version,
    }


def intent_labels() -> tuple[str, ...]:
    """The labels agents may give: the model's intents (bot.intents, the labels it serves)."""
    return intents.model_intents()


def canned_reply_list() -> list[dict]:
    return [
        {"id": c.pk, "title": c.title, "shortcut": c.shortcut, "text": c.text}
        for c in CannedReply.objects.filter(is_active=True)
    ]


def _order_summary(order, policy) -> dict:
    """The desk's view of an order: what the shopper sees (catalog.selectors.order_summary),
    plus the admin link, the returns and the amounts written for people."""
    from catalog.money import money_format
    from catalog.selectors import order_summary

    summary = order_summary(order=order, policy=policy)
    return {
        **summary,
        "total_text": money_format(summary["total"], summary["currency"]),
        "admin_url": order.get_absolute_url(),
        "lines": [str(line) for line in order.lines.all()],
        "returns": [
            {
                "rma_number": r.rma_number,
                "status": r.status,
                "status_display": r.get_status_display(),
                "reason_display": r.get_reason_display(),
                "refund_text": money_format(r.refund_amount, order.currency),
            }
            for r in order.returns.all()
        ],
    }


def customer_orders(*, conversation, context: dict) -> dict:
    """The shopper's orders and returns, but only what the shopper proved is theirs.

    A verified order (number + its e-mail) vouches for that e-mail's orders; a logged-in
    shopper's customer record vouches for its own. An e-mail typed into the chat does not.
    """
    from catalog.models import Order, ShopPolicy

    emails: set[str] = set()
    numbers = set()
    verified = context.get("verified_order")
    if verified:
        numbers.add(str(verified))
    state = conversation.state or {}
    for number in list(state.get("verified") or []) + list(state.get("verified_orders") or []):
        numbers.add(str(number))
    if numbers:
        emails.update(e.lower() for e in Order.objects.filter(number__in=numbers).values_list("email", flat=True))
    query = Q(number__in=numbers)
    if emails:
        query |= Q(email__in=emails)
    customer = None
    user = conversation.user
    if user is not None:
        customer = getattr(user, "customer", None) if hasattr(user, "customer") else None
        if customer is not None:
            query |= Q(customer=customer)
            emails.add(customer.email)
    if not numbers and customer is None:
        return {"customer": None, "orders": []}
    orders = list(
        Order.objects.filter(query)
        .select_related("shipping_method")
        .prefetch_related("lines", "returns")
        .order_by("-placed_at")
        .distinct()[:20]
    )
    policy = ShopPolicy.current() if orders else None
    return {
        "customer": {"email": sorted(emails)[0] if emails else None, "name": customer.name if customer else ""},
        "orders": [_order_summary(o, policy) for o in orders],
    }


def conversation_view(*, escalation: Escalation) -> dict:
    """The `conversation` frame: transcript, hand-off packet, the shopper's orders and returns."""
    from bot.conversations import transcript
    from bot.events import agent_message_frame

    conversation = escalation.conversation
    context = escalation.context or {}
    return {
        "type": "conversation",
        "conversation": conversation.public_id.hex,
        "escalation": escalation_frame(escalation),
        "transcript": [agent_message_frame(m) for m in transcript(conversation)],
        "context": context,
        "shopper_email": conversation.shopper_email or None,
        "customer": customer_orders(conversation=conversation, context=context),
        "label_candidates": [m.pk for m in training_candidates(escalation=escalation)],
    }


def training_candidates(*, escalation: Escalation, limit: int = 5):
    """The shopper messages that led to this hand-off: those since the previous hand-off ended."""
    from bot.models import Message

    previous_end = (
        Escalation.objects.filter(conversation=escalation.conversation, created_at__lt=escalation.created_at)
        .exclude(pk=escalation.pk)
        .order_by("-created_at")
        .values_list("resolved_at", flat=True)
        .first()
    )
    rows = Message.objects.filter(
        conversation=escalation.conversation, sender=Message.Sender.SHOPPER, created_at__lte=escalation.created_at
    )
    if previous_end:
        rows = rows.filter(created_at__gt=previous_end)
    return list(reversed(list(rows.order_by("-pk")[:limit])))
