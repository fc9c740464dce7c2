"""How the assistant is doing over a period: figures read from the stored conversations.

Every figure is one aggregate query over the rows (conversations, messages, escalations), never
a counter kept beside them. Periods are whole local days (settings.TIME_ZONE). Series by day or
week are exact across daylight-saving changes, with no per-row date conversion (which SQLite
would run in Python): conversations are grouped in the database by quarter-hour of UTC (every
time zone's offset is a multiple of 15 minutes) and folded into local days here; messages are
counted per bucket between the local midnights computed here, by index ranges. Counts are
COUNT(*) where a covering index holds every column the query reads (COUNT(id) would make
PostgreSQL visit each row in the table).

Definitions (the insights page states them too):
- conversations: conversations started in the period; "with the shopper": those in which the
  shopper wrote at least one message.
- automation rate: conversations started in the period in which the shopper wrote, that were
  never handed to a person (no escalation) and in which no agent wrote, divided by the
  conversations started in the period in which the shopper wrote.
- hand-offs: the escalations of the conversations started in the period, by reason; a reason's
  rate is the share of conversations with the shopper that had at least one of that reason.
- messages, intents, out-of-scope share, not understood: messages written in the period.
- bot reply time: from a shopper's message to the assistant's reply to it (Message.reply_seconds,
  a fact written with each reply in the INSERT that stores it, never updated: no counter).
- agent's first reply: from the hand-off (escalation created) to the first agent message after
  it; resolution: from the hand-off to the agent marking it resolved.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone as dt_timezone
from itertools import pairwise

from django.db.models import Avg, Count, F, FilteredRelation, FloatField, Func, IntegerField, Min, Q
from django.db.models.functions import Lower
from django.db import connections
from django.utils import timezone
from django.utils.translation import gettext as _

from bot.models import Conversation, Message
from bot.slm.understanding import OUT_OF_SCOPE

from .models import Escalation

DAY, WEEK = "day", "week"
QUARTER_HOUR = 900  # seconds
MAX_DAYS = 366
NOT_UNDERSTOOD_LIMIT = 15
CSAT_SCORES = (1, 2, 3, 4, 5)


class Epoch(Func):
    """Seconds since 1970 (UTC) of a datetime column, computed by the database itself."""

    output_field = FloatField()
    template = "EXTRACT(EPOCH FROM %(expressions)s)"

    def as_sqlite(self, compiler, connection, **extra):
        # Django keeps SQLite datetimes as UTC text, which julianday() reads natively.
        return self.as_sql(compiler, connection, template="((julianday(%(expressions)s) - 2440587.5) * 86400.0)", **extra)

    def as_postgresql(self, compiler, connection, **extra):
        # date_part is double precision; EXTRACT is numeric since PostgreSQL 14 (much slower per row).
        return self.as_sql(compiler, connection, template="date_part('epoch', %(expressions)s)", **extra)


class QuarterHour(Func):
    """The number of the UTC quarter-hour since 1970 a datetime column falls in."""

    output_field = IntegerField()
    template = "FLOOR(EXTRACT(EPOCH FROM %(expressions)s) / 900)"

    def as_sqlite(self, compiler, connection, **extra):
        # Whole positive numbers: CAST truncates, which is the floor here.
        return self.as_sql(
            compiler, connection, template="CAST(((julianday(%(expressions)s) - 2440587.5) * 96.0) AS INTEGER)", **extra
        )

    def as_postgresql(self, compiler, connection, **extra):
        return self.as_sql(compiler, connection, template="FLOOR(date_part('epoch', %(expressions)s) / 900)::bigint", **extra)


@dataclass(frozen=True)
class Period:
    """Whole local days, `first` to `last` inclusive, and how the series groups them."""

    first: date
    last: date
    group: str = DAY

    @classmethod
    def last_days(cls, days: int, *, group: str = DAY, today: date | None = None) -> Period:
        today = today or timezone.localdate()
        return cls(first=today - timedelta(days=days - 1), last=today, group=group)

    def __post_init__(self):
        if self.last < self.first:
            raise ValueError(_("The period ends before it starts."))
        if (self.last - self.first).days + 1 > MAX_DAYS:
            raise ValueError(_("A period is at most %(days)s days.") % {"days": MAX_DAYS})
        if self.group not in (DAY, WEEK):
            raise ValueError(_("Group by day or by week."))

    @property
    def start(self) -> datetime:
        return timezone.make_aware(datetime.combine(self.first, time.min))

    @property
    def end(self) -> datetime:
        """The first moment after the period (exclusive)."""
        return timezone.make_aware(datetime.combine(self.last + timedelta(days=1), time.min))

    @property
    def days(self) -> int:
        return (self.last - self.first).days + 1

    def bucket(self, day: date) -> date:
        """The first day of the series bucket `day` falls in (weeks start on Monday)."""
        return day if self.group == DAY else day - timedelta(days=day.weekday())

    def buckets(self) -> list[date]:
        starts, day = [], self.first
        while day <= self.last:
            start = self.bucket(day)
            if not starts or starts[-1] != start:
                starts.append(start)
            day += timedelta(days=1)
        return starts


def _local_day(quarter: int) -> date:
    return timezone.localtime(datetime.fromtimestamp(quarter * QUARTER_HOUR, tz=dt_timezone.utc)).date()


def _in(period: Period, field: str = "created_at") -> Q:
    return Q(**{f"{field}__gte": period.start, f"{field}__lt": period.end})


def _ratio(part, whole):
    return round(part / whole, 4) if whole else None


def _seconds(value):
    return None if value is None else round(float(value), 2)


# --- One query per figure -------------------------------------------------------------------


def _sql(queryset) -> tuple[str, tuple]:
    sql, params = queryset.query.sql_with_params()
    return sql, tuple(params)


def conversation_counts(period: Period) -> dict:
    """Conversations started in the period: all, with the shopper, automated, handed off; by
    quarter-hour, folded into the series' buckets. One query.

    Each conversation of the period is joined to three sets of conversation ids: those with a
    shopper's message, with an agent's message, with an escalation (each set read once, the
    messages' from the covering index message_sender_created_cover alone), rather than three
    EXISTS probes per conversation or one grouping of all their rows. Only rows written since
    the period started are read: a message or an escalation is never older than its
    conversation (both are written after it, at the time they happen)."""
    conversations = (
        Conversation.objects.filter(_in(period)).order_by().annotate(cid=F("pk"), q=QuarterHour("created_at")).values("cid", "q")
    )

    def ids(queryset):
        return queryset.filter(created_at__gte=period.start).order_by().values("conversation_id").distinct()

    c_sql, c_params = _sql(conversations)
    s_sql, s_params = _sql(ids(Message.objects.filter(sender=Message.Sender.SHOPPER)))
    a_sql, a_params = _sql(ids(Message.objects.filter(sender=Message.Sender.AGENT)))
    e_sql, e_params = _sql(ids(Escalation.objects.all()))
    with connections[conversations.db].cursor() as cursor:
        cursor.execute(
            # Django's own SQL for the four row sets; only the joins and the grouping are written here.
            f"""SELECT c.q, COUNT(*), COUNT(s.conversation_id),
                       SUM(CASE WHEN s.conversation_id IS NOT NULL AND a.conversation_id IS NULL
                                     AND e.conversation_id IS NULL THEN 1 ELSE 0 END),
                       COUNT(e.conversation_id)
                FROM ({c_sql}) c
                LEFT JOIN ({s_sql}) s ON s.conversation_id = c.cid
                LEFT JOIN ({a_sql}) a ON a.conversation_id = c.cid
                LEFT JOIN ({e_sql}) e ON e.conversation_id = c.cid
                GROUP BY c.q""",  # noqa: S608
            (*c_params, *s_params, *a_params, *e_params),
        )
        rows = cursor.fetchall()
    keys = ("total", "engaged", "automated", "handed_off")
    totals = dict.fromkeys(keys, 0)
    series: dict[date, dict] = defaultdict(lambda: dict.fromkeys(keys, 0))
    for q, *values in rows:
        bucket = series[period.bucket(_local_day(q))]
        for key, value in zip(keys, values):
            bucket[key] += int(value or 0)
            totals[key] += int(value or 0)
    return {"totals": totals, "series": dict(series)}


def message_counts(period: Period) -> dict:
    """Messages written in the period, by sender and series bucket. One query.

    One count per bucket and sender, each a range of the index message_sender_created_cover
    (sender, created_at, ...) counted from the index alone: the buckets' bounds are the local
    midnights computed here (exact across daylight-saving changes), so no row's time is
    converted or grouped by the database."""
    starts = period.buckets()
    bounds = [timezone.make_aware(datetime.combine(start, time.min)) for start in starts]
    bounds = [max(bound, period.start) for bound in bounds] + [period.end]
    senders = list(Message.Sender.values)
    connection = connections[Message.objects.db]
    quote, table = connection.ops.quote_name, connection.ops.quote_name(Message._meta.db_table)
    sender_col = quote(Message._meta.get_field("sender").column)
    created_col = quote(Message._meta.get_field("created_at").column)
    count = f"(SELECT COUNT(*) FROM {table} WHERE {sender_col} = %s AND {created_col} >= %s AND {created_col} < %s)"
    selects, params = [], []
    for index, (low, high) in enumerate(pairwise(bounds)):
        # One row per bucket (at most 366: under SQLite's 500 compound selects), a column per sender.
        selects.append(f"SELECT {index}, " + ", ".join([count] * len(senders)))
        low, high = connection.ops.adapt_datetimefield_value(low), connection.ops.adapt_datetimefield_value(high)
        for sender in senders:
            params += [sender, low, high]
    with connection.cursor() as cursor:
        cursor.execute(" UNION ALL ".join(selects), params)
        rows = cursor.fetchall()
    by_sender: dict[str, int] = dict.fromkeys(senders, 0)
    series: dict[date, int] = defaultdict(int)
    for index, *counts in rows:
        for sender, n in zip(senders, counts):
            by_sender[sender] += n
            series[starts[index]] += n
    return {"total": sum(by_sender.values()), "by_sender": by_sender, "series": dict(series)}


def handoff_counts(period: Period) -> dict:
    """Escalations of the conversations started in the period, by reason, and how many
    conversations had one of each reason. One query."""
    rows = (
        Escalation.objects.filter(_in(period, "conversation__created_at"))
        .order_by()
        .values("reason")
        .annotate(n=Count("*"), conversations=Count("conversation", distinct=True))
    )
    return {row["reason"]: {"count": row["n"], "conversations": row["conversations"]} for row in rows}


def intent_counts(period: Period) -> list[dict]:
    """Shopper messages of the period by the intent the assistant acted on, most frequent first,
    with the model's mean confidence. One query."""
    rows = (
        Message.objects.filter(_in(period), sender=Message.Sender.SHOPPER)
        .exclude(intent="")
        .order_by()
        .values("intent")
        .annotate(n=Count("*"), avg=Avg("confidence"))
        .order_by("-n", "intent")
    )
    return [
        {"intent": row["intent"], "count": row["n"], "avg_confidence": None if row["avg"] is None else round(row["avg"], 4)}
        for row in rows
    ]


def not_understood(period: Period, *, limit: int = NOT_UNDERSTOOD_LIMIT) -> list[dict]:
    """The shopper messages of the period the assistant did not understand (out of scope), the
    most frequent first (compared without case). One query."""
    rows = (
        Message.objects.filter(_in(period), sender=Message.Sender.SHOPPER, intent=OUT_OF_SCOPE)
        .order_by()
        .annotate(key=Lower("text"))
        .values("key")
        .annotate(n=Count("*"))
        .order_by("-n", "key")[:limit]
    )
    return [{"text": row["key"], "count": row["n"]} for row in rows]


def csat(period: Period) -> dict:
    """Shoppers' ratings (1-5) of the conversations started in the period. One query."""
    figures = Conversation.objects.filter(_in(period), rating__isnull=False).aggregate(
        average=Avg("rating"),
        count=Count("*"),
        **{f"s{score}": Count("rating", filter=Q(rating=score)) for score in CSAT_SCORES},
    )
    return {
        "average": None if figures["average"] is None else round(figures["average"], 2),
        "count": figures["count"],
        "distribution": {str(score): figures[f"s{score}"] for score in CSAT_SCORES},
    }


def bot_reply_time(period: Period) -> dict:
    """Seconds from a shopper's message to the assistant's reply to it, for replies written in
    the period. One query over the replies' own reply_seconds (Message.reply_seconds: written
    with each reply from the two rows' times, never changed), from a small partial index."""
    figures = Message.objects.filter(_in(period), reply_seconds__isnull=False).aggregate(
        average=Avg("reply_seconds"), count=Count("reply_seconds")
    )
    return {"average": _seconds(figures["average"]), "count": figures["count"]}


def agent_times(period: Period) -> dict:
    """Seconds from hand-off to an agent's first reply, and to resolution, for the escalations of
    the conversations started in the period. One query: each escalation joined to its
    conversation's agent messages written since, the earliest kept (a grouping, not one
    subquery per escalation)."""
    # The join itself keeps only the agent's messages written since the hand-off: read by the
    # index message_conv_sender_created (conversation, sender, created_at) alone.
    agent_since = FilteredRelation(
        "conversation__messages",
        condition=Q(conversation__messages__sender=Message.Sender.AGENT, conversation__messages__created_at__gte=F("created_at")),
    )
    resolved = Q(outcome=Escalation.Outcome.RESOLVED, resolved_at__isnull=False)
    figures = (
        Escalation.objects.filter(_in(period, "conversation__created_at"))
        .order_by()
        .annotate(agent_since=agent_since)
        .annotate(first_reply_at=Min(Epoch("agent_since__created_at")))
        .aggregate(
            first_reply=Avg(F("first_reply_at") - Epoch("created_at")),
            first_reply_count=Count("first_reply_at"),
            resolution=Avg(Epoch("resolved_at") - Epoch("created_at"), filter=resolved),
            resolution_count=Count("pk", filter=resolved),
        )
    )
    return {
        "first_reply": {"average": _seconds(figures["first_reply"]), "count": figures["first_reply_count"]},
        "resolution": {"average": _seconds(figures["resolution"]), "count": figures["resolution_count"]},
    }


# --- Everything the page, the CSV and the JSON show -------------------------------------------


def insights(period: Period) -> dict:
    """The figures of the period, as plain values (the JSON at /desk/insights.json)."""
    conversations = conversation_counts(period)
    messages = message_counts(period)
    handoffs = handoff_counts(period)
    intents = intent_counts(period)
    times = agent_times(period)
    totals = conversations["totals"]
    engaged = totals["engaged"]
    shopper_messages = sum(row["count"] for row in intents)
    out_of_scope = next((row["count"] for row in intents if row["intent"] == OUT_OF_SCOPE), 0)
    series = [
        {
            "start": start.isoformat(),
            "conversations": conversations["series"].get(start, {}).get("total", 0),
            "automated": conversations["series"].get(start, {}).get("automated", 0),
            "handed_off": conversations["series"].get(start, {}).get("handed_off", 0),
            "messages": messages["series"].get(start, 0),
        }
        for start in period.buckets()
    ]
    return {
        "period": {
            "from": period.first.isoformat(),
            "to": period.last.isoformat(),
            "days": period.days,
            "group": period.group,
            "time_zone": timezone.get_current_timezone_name(),
        },
        "conversations": totals["total"],
        "conversations_with_shopper": engaged,
        "automated_conversations": totals["automated"],
        "automation_rate": _ratio(totals["automated"], engaged),
        "handed_off_conversations": totals["handed_off"],
        "handoff_rate": _ratio(totals["handed_off"], engaged),
        "handoffs": {reason: row["count"] for reason, row in sorted(handoffs.items())},
        "handoff_rates": {reason: _ratio(row["conversations"], engaged) for reason, row in sorted(handoffs.items())},
        "messages": messages["total"],
        "messages_by_sender": messages["by_sender"],
        "intents": intents,
        "shopper_messages": shopper_messages,
        "out_of_scope_share": _ratio(out_of_scope, shopper_messages),
        "not_understood": not_understood(period),
        "csat": csat(period),
        "bot_reply_seconds": bot_reply_time(period),
        "agent_first_reply_seconds": times["first_reply"],
        "resolution_seconds": times["resolution"],
        "series": series,
    }
