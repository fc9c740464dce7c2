"""Insights (/desk/insights/, .json, .csv): the figures equal what the stored rows say, counted
here in Python row by row; only agents see them."""

import csv
import io
import re
from datetime import datetime, time, timedelta

from unittest import mock

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone

from bot.conversations import turn_store
from bot.models import Conversation, Message
from support import insights
from support.models import Escalation
from tests.support.conftest import make_agent

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate()


def at(days_ago, hour, minute=0, second=0.0):
    """A local time `days_ago` days before today."""
    moment = datetime.combine(TODAY - timedelta(days=days_ago), time(hour, minute))
    return timezone.make_aware(moment) + timedelta(seconds=second)


def conversation(started, turns, *, rating=None, escalation=None, agent_reply=None, resolved=None, agent=None):
    """turns: (text, intent, confidence, seconds the bot took) per shopper message. The bot's
    replies are stored as the assistant stores them (bot.conversations.turn_store, which writes
    Message.reply_seconds), at the time given (the clock is set, nothing else is replaced)."""
    row = Conversation.objects.create(created_at=started, rating=rating)
    moment = started
    for text, intent, confidence, took in turns:
        moment += timedelta(seconds=10)
        shopper = Message.objects.create(conversation=row, sender="shopper", text=text, created_at=moment)
        if took is not None:
            with mock.patch("django.utils.timezone.now", return_value=moment + timedelta(seconds=took)):
                turn_store(conversation=row, message=shopper, annotation={"intent": intent, "confidence": confidence, "data": {}},
                           patch={}, reply={"sender": "bot", "text": "…", "intent": intent, "confidence": None, "data": {}})
            moment += timedelta(seconds=took)
        else:
            Message.objects.filter(pk=shopper.pk).update(intent=intent, confidence=confidence)
    if escalation:
        handed = moment + timedelta(seconds=1)
        esc = Escalation.objects.create(conversation=row, reason=escalation, created_at=handed, status="queued")
        if agent_reply is not None:
            Message.objects.create(conversation=row, sender="agent", agent=agent, text="Hi, Anna here", created_at=handed + timedelta(seconds=agent_reply))
        if resolved is not None:
            esc.status, esc.outcome, esc.resolved_at = "resolved", "resolved", handed + timedelta(seconds=resolved)
            esc.save()
    return row


@pytest.fixture
def shop():
    anna = make_agent("anna")
    # In the last 7 days.
    conversation(at(0, 9), [("where is my parcel", "track_order", 0.93, 0.5)], rating=5)
    conversation(at(1, 23, 50), [("cancel it", "cancel_order", 0.81, 1.5), ("thanks", "thanks", 0.99, 0.25)], rating=4)
    conversation(at(2, 0, 5), [("blorp", "out_of_scope", 0.31, 0.4), ("BLORP", "out_of_scope", 0.22, 0.6)],
                 escalation="low_confidence", agent_reply=40, resolved=300, agent=anna, rating=2)
    conversation(at(3, 12), [("I want a person", "contact_human_agent", 0.97, 0.3)], escalation="requested", agent_reply=90, agent=anna)
    conversation(at(4, 8), [("this is a scandal", "complaint", 0.88, 0.7)], escalation="complaint")
    conversation(at(5, 18), [("blorp", "out_of_scope", 0.4, 0.5)])
    conversation(at(6, 0, 1), [])  # opened, never written in
    # An agent joined without a hand-off row: not automated.
    joined = conversation(at(6, 10), [("hello", "greeting", 0.95, 0.2)])
    Message.objects.create(conversation=joined, sender="agent", agent=anna, text="Hello!", created_at=at(6, 10, 5))
    # Outside the last 7 days (8 and 20 days ago), inside 30.
    conversation(at(8, 11), [("refund?", "track_refund", 0.66, 2.0)], escalation="action_failed", rating=1)
    conversation(at(20, 11), [("where is my parcel", "track_order", 0.9, 1.0)], rating=3)
    # Outside 30 days.
    conversation(at(40, 11), [("old", "track_order", 0.9, 1.0)], rating=5)
    return anna


def expected(first, last):
    """The figures of local days first..last, counted from the rows one by one."""
    start = timezone.make_aware(datetime.combine(first, time.min))
    end = timezone.make_aware(datetime.combine(last + timedelta(days=1), time.min))
    convs = [c for c in Conversation.objects.all() if start <= c.created_at < end]
    msgs = [m for m in Message.objects.all() if start <= m.created_at < end]
    engaged = [c for c in convs if c.messages.filter(sender="shopper").exists()]
    automated = [
        c for c in engaged if not Escalation.objects.filter(conversation=c).exists() and not c.messages.filter(sender="agent").exists()
    ]
    escalations = [e for e in Escalation.objects.all() if start <= e.conversation.created_at < end]
    handoffs = {}
    for e in escalations:
        handoffs[e.reason] = handoffs.get(e.reason, 0) + 1
    shopper = [m for m in msgs if m.sender == "shopper"]
    intents = {}
    for m in shopper:
        intents.setdefault(m.intent, []).append(m.confidence)
    rated = [c.rating for c in convs if c.rating is not None]
    replies = []
    for m in msgs:
        if m.sender == "bot":
            before = Message.objects.filter(conversation=m.conversation, pk__lt=m.pk).order_by("-pk").first()
            if before is not None and before.sender == "shopper":
                replies.append((m.created_at - before.created_at).total_seconds())
    firsts, resolutions = [], []
    for e in escalations:
        reply = Message.objects.filter(conversation=e.conversation, sender="agent", created_at__gte=e.created_at).order_by("created_at").first()
        if reply:
            firsts.append((reply.created_at - e.created_at).total_seconds())
        if e.outcome == "resolved":
            resolutions.append((e.resolved_at - e.created_at).total_seconds())
    return {
        "conversations": len(convs),
        "engaged": len(engaged),
        "automated": len(automated),
        "automation_rate": round(len(automated) / len(engaged), 4),
        "messages": len(msgs),
        "handoffs": handoffs,
        "intents": {k: (len(v), round(sum(v) / len(v), 4)) for k, v in intents.items()},
        "out_of_scope_share": round(len(intents.get("out_of_scope", [])) / len(shopper), 4),
        "csat": (round(sum(rated) / len(rated), 2), len(rated), {str(s): rated.count(s) for s in range(1, 6)}),
        "bot_reply": (round(sum(replies) / len(replies), 2), len(replies)),
        "first_reply": (round(sum(firsts) / len(firsts), 2) if firsts else None, len(firsts)),
        "resolution": (round(sum(resolutions) / len(resolutions), 2) if resolutions else None, len(resolutions)),
    }


def assert_figures(data, want):
    assert data["conversations"] == want["conversations"]
    assert data["conversations_with_shopper"] == want["engaged"]
    assert data["automated_conversations"] == want["automated"]
    assert data["automation_rate"] == want["automation_rate"]
    assert data["messages"] == want["messages"]
    assert data["handoffs"] == want["handoffs"]
    assert {row["intent"]: (row["count"], row["avg_confidence"]) for row in data["intents"]} == want["intents"]
    assert data["out_of_scope_share"] == want["out_of_scope_share"]
    assert (data["csat"]["average"], data["csat"]["count"], data["csat"]["distribution"]) == want["csat"]
    assert (data["bot_reply_seconds"]["average"], data["bot_reply_seconds"]["count"]) == want["bot_reply"]
    assert (data["agent_first_reply_seconds"]["average"], data["agent_first_reply_seconds"]["count"]) == want["first_reply"]
    assert (data["resolution_seconds"]["average"], data["resolution_seconds"]["count"]) == want["resolution"]


@pytest.mark.parametrize("days", [7, 30, 90])
def test_the_json_equals_the_counts_made_from_the_rows(client, shop, days):
    client.force_login(shop)
    response = client.get(f"/desk/insights.json?days={days}")
    assert response.status_code == 200
    data = response.json()
    first = TODAY - timedelta(days=days - 1)
    assert data["period"] == {"from": first.isoformat(), "to": TODAY.isoformat(), "days": days, "group": "day",
                              "time_zone": timezone.get_current_timezone_name()}
    assert_figures(data, expected(first, TODAY))


def test_the_seven_day_figures_are_the_ones_written_by_hand(client, shop):
    """The same figures as numbers a person checked against the fixture, so a shared mistake in
    expected() and the selectors cannot pass unseen."""
    client.force_login(shop)
    data = client.get("/desk/insights.json?days=7").json()
    assert data["conversations"] == 8 and data["conversations_with_shopper"] == 7
    # Automated: the parcel, the cancel, the lone blorp; not the three hand-offs nor the one an agent joined.
    assert data["automated_conversations"] == 3 and data["automation_rate"] == round(3 / 7, 4)
    assert data["handoffs"] == {"complaint": 1, "low_confidence": 1, "requested": 1}
    assert data["handoff_rate"] == round(3 / 7, 4)
    assert data["not_understood"] == [{"text": "blorp", "count": 3}]
    assert data["csat"] == {"average": round(11 / 3, 2), "count": 3, "distribution": {"1": 0, "2": 1, "3": 0, "4": 1, "5": 1}}
    assert data["agent_first_reply_seconds"] == {"average": 65.0, "count": 2}
    assert data["resolution_seconds"] == {"average": 300.0, "count": 1}
    # Shopper messages: 9 of which 3 out of scope.
    assert data["shopper_messages"] == 9 and data["out_of_scope_share"] == round(3 / 9, 4)


def test_a_from_to_period_by_week_and_its_series(client, shop):
    client.force_login(shop)
    first, last = TODAY - timedelta(days=13), TODAY
    data = client.get(f"/desk/insights.json?from={first}&to={last}&group=week").json()
    assert_figures(data, expected(first, last))
    # Each conversation and message falls in the Monday-started week of its local day.
    series = {row["start"]: row for row in data["series"]}
    assert list(series) == sorted(series) and len(series) in (2, 3)
    for row in Conversation.objects.all():
        day = timezone.localtime(row.created_at).date()
        if first <= day <= last:
            assert (day - timedelta(days=day.weekday())).isoformat() in series
    assert sum(row["conversations"] for row in data["series"]) == data["conversations"]
    assert sum(row["messages"] for row in data["series"]) == data["messages"]
    assert sum(row["automated"] for row in data["series"]) == data["automated_conversations"]


def test_local_days_split_at_local_midnight(shop):
    """23:50 and 00:05 local belong to the local days they were written on, whatever UTC says."""
    period = insights.Period.last_days(7)
    series = {row["start"]: row["conversations"] for row in insights.insights(period)["series"]}
    by_day = {}
    for row in Conversation.objects.all():
        day = timezone.localtime(row.created_at).date()
        by_day[day.isoformat()] = by_day.get(day.isoformat(), 0) + 1
    assert series == {day: by_day.get(day, 0) for day in series}
    assert series[(TODAY - timedelta(days=1)).isoformat()] == 1 and series[(TODAY - timedelta(days=2)).isoformat()] == 1


def test_the_page_shows_the_same_numbers_with_charts_and_definitions(client, shop):
    client.force_login(shop)
    response = client.get("/desk/insights/?days=7")
    assert response.status_code == 200
    html = response.content.decode()
    data = client.get("/desk/insights.json?days=7").json()
    assert f'data-figure="conversations">{data["conversations"]}<' in html
    assert f'data-figure="messages">{data["messages"]}<' in html
    assert 'data-figure="automation-rate">42.9%<' in html  # 3 of 7
    assert 'data-figure="csat-count">3<' in html
    # Server-side SVG; no inline script or style (the CSP allows neither), only the admin's files.
    assert 'data-testid="insights-series-chart"' in html and 'data-testid="insights-intents"' in html
    assert not re.search(r"<script(?![^>]*\bsrc=)", html) and " style=" not in html and "<style" not in html
    assert "never handed to a person" in html  # the automation rate is defined on the page


def test_the_csv_holds_the_figures_and_the_series(client, shop):
    client.force_login(shop)
    response = client.get("/desk/insights.csv?days=7")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    figures = {row[0]: row[1] for row in rows if len(row) == 2}
    data = client.get("/desk/insights.json?days=7").json()
    assert figures["conversations"] == str(data["conversations"])
    assert figures["automation_rate"] == str(data["automation_rate"])
    assert figures["handoffs.complaint"] == "1"
    assert figures["intent.out_of_scope.count"] == "3"
    header = rows.index(["start", "conversations", "automated", "handed_off", "messages"])
    assert len(rows[header + 1:]) == 7


@pytest.mark.parametrize("query, code", [
    ("days=0", 400), ("days=abc", 400), ("days=400", 400), ("from=2026-13-01&to=2026-12-01", 400),
    ("from=2026-12-05&to=2026-12-01", 400), ("group=month", 400),
])
def test_bad_periods_get_a_clear_error(client, shop, query, code):
    client.force_login(shop)
    response = client.get(f"/desk/insights.json?{query}")
    assert response.status_code == code
    assert response.json()["error"]
    page = client.get(f"/desk/insights/?{query}")
    assert page.status_code == 400 and b"errorlist" in page.content


def test_only_agents_see_insights(client, shop):
    for url in ("/desk/insights/", "/desk/insights.json?days=7", "/desk/insights.csv?days=7"):
        client.logout()
        anonymous = client.get(url)
        assert anonymous.status_code in (302, 403)
        if anonymous.status_code == 302:
            assert "/admin/login/" in anonymous["Location"]
        staff = get_user_model().objects.get_or_create(username="clerk", defaults={"is_staff": True})[0]
        client.force_login(staff)  # staff, not an agent
        assert client.get(url).status_code == 403
        client.force_login(shop)
        assert client.get(url).status_code == 200


def test_the_admin_home_links_to_insights_and_the_review_queue(client, shop):
    client.force_login(shop)
    html = client.get("/admin/").content.decode()
    assert 'href="/desk/insights/"' in html and 'href="/desk/review/"' in html


def test_a_conversation_from_before_the_period_counts_only_for_its_messages(client, shop):
    """Started 9 days ago, written in, handed off and joined by an agent today: outside the
    7-day conversations (and their automation), inside the 7-day messages and reply times."""
    old = conversation(at(9, 10), [("hello", "greeting", 0.9, 0.5)])
    asked = Message.objects.create(conversation=old, sender="shopper", text="still there?", intent="greeting", confidence=0.8,
                                   created_at=at(0, 7))
    with mock.patch("django.utils.timezone.now", return_value=at(0, 7, second=1.25)):
        turn_store(conversation=old, message=asked, annotation={"intent": "greeting", "confidence": 0.8, "data": {}},
                   patch={}, reply={"sender": "bot", "text": "Yes!", "intent": "greeting", "confidence": None, "data": {}})
    Escalation.objects.create(conversation=old, reason="requested", created_at=at(0, 7, 1), status="queued")
    Message.objects.create(conversation=old, sender="agent", agent=shop, text="Hi", created_at=at(0, 7, 2))
    client.force_login(shop)
    for days in (7, 30):
        data = client.get(f"/desk/insights.json?days={days}").json()
        assert_figures(data, expected(TODAY - timedelta(days=days - 1), TODAY))
    data = client.get("/desk/insights.json?days=7").json()
    assert data["conversations"] == 8 and data["automated_conversations"] == 3  # as without it
