"""The desk's pages: the agent workspace (its script speaks the agent protocol, ws/agent/),
insights, and the review queue where agents label what the assistant got wrong."""

import csv
from functools import wraps

from django.contrib import admin, messages
from django.contrib.admin.views.decorators import staff_member_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from bot.models import Conversation

from . import agent_actions, charts, insights, review, selectors
from .desk import DeskError
from .forms import DAYS_CHOICES, InsightsPeriodForm, MessageLabelForm
from .models import Escalation

REVIEW_PAGE_SIZE = 25


def agent_required(view):
    """Staff with the agent permission (support | Can work in the agent workspace); others are
    sent to the admin login (anonymous) or refused (403)."""

    @staff_member_required
    @wraps(view)
    def guarded(request, *args, **kwargs):
        if not selectors.user_is_agent(request.user):
            raise PermissionDenied(_("You need the support-agent permission (support | Can work in the agent workspace)."))
        return view(request, *args, **kwargs)

    return guarded


def _desk_context(request, title: str) -> dict:
    return {**admin.site.each_context(request), "title": title}


@agent_required
def workspace(request):
    context = {
        **_desk_context(request, _("Agent workspace")),
        "is_nav_sidebar_enabled": False,  # the workspace needs the width
        "canned_replies": selectors.canned_reply_list(),
        "intent_labels": list(selectors.intent_labels()),
        "agent_name": selectors.agent_name(request.user),
        # Orders link to the order admin only for agents who may open it.
        "can_view_orders": request.user.has_perm("catalog.view_order"),
    }
    return render(request, "support/workspace.html", context)


# --- Insights ---------------------------------------------------------------------------------


def _period_form(request) -> InsightsPeriodForm:
    return InsightsPeriodForm(request.GET)


def _form_error(form) -> str:
    return " ".join(str(error) for errors in form.errors.values() for error in errors)


def _percent(value):
    return "—" if value is None else f"{value * 100:.1f}%"


@agent_required
def insights_page(request):
    form = _period_form(request)
    context = {**_desk_context(request, _("Insights")), "form": form, "days_choices": DAYS_CHOICES}
    if not form.is_valid():
        return render(request, "support/insights.html", context, status=400)
    period = form.cleaned_data["period"]
    data = insights.insights(period)
    reasons = dict(Escalation.Reason.choices)
    context.update(
        data=data,
        period=period,
        query=request.GET.urlencode(),
        automation_percent=_percent(data["automation_rate"]),
        handoff_percent=_percent(data["handoff_rate"]),
        out_of_scope_percent=_percent(data["out_of_scope_share"]),
        columns=charts.stacked_columns(data["series"], ("automated", "handed_off"), total="conversations"),
        handoff_bars=charts.bars(
            [(reasons.get(reason, reason), count, f"{count} · {_percent(data['handoff_rates'][reason])}")
             for reason, count in sorted(data["handoffs"].items(), key=lambda item: -item[1])]
        ),
        intent_bars=charts.bars(
            [(row["intent"], row["count"], f"{row['count']} · {row['avg_confidence'] if row['avg_confidence'] is not None else '—'}")
             for row in data["intents"][:20]]
        ),
        csat_bars=charts.bars([(f"{score} ★", count, str(count)) for score, count in reversed(data["csat"]["distribution"].items())]),
    )
    return render(request, "support/insights.html", context)


@agent_required
def insights_json(request):
    form = _period_form(request)
    if not form.is_valid():
        return JsonResponse({"error": _form_error(form), "fields": form.errors.get_json_data()}, status=400)
    return JsonResponse(insights.insights(form.cleaned_data["period"]))


def insights_csv_rows(data: dict):
    """The figures as (name, value) rows, the not-understood messages, then the series."""
    yield ["figure", "value"]
    yield ["from", data["period"]["from"]]
    yield ["to", data["period"]["to"]]
    for key in ("conversations", "conversations_with_shopper", "automated_conversations", "automation_rate",
                "handed_off_conversations", "handoff_rate", "messages", "shopper_messages", "out_of_scope_share"):
        yield [key, data[key]]
    for sender, count in data["messages_by_sender"].items():
        yield [f"messages.{sender}", count]
    for reason, count in data["handoffs"].items():
        yield [f"handoffs.{reason}", count]
        yield [f"handoff_rate.{reason}", data["handoff_rates"][reason]]
    for row in data["intents"]:
        yield [f"intent.{row['intent']}.count", row["count"]]
        yield [f"intent.{row['intent']}.avg_confidence", row["avg_confidence"]]
    yield ["csat.average", data["csat"]["average"]]
    yield ["csat.count", data["csat"]["count"]]
    for score, count in data["csat"]["distribution"].items():
        yield [f"csat.{score}", count]
    for key in ("bot_reply_seconds", "agent_first_reply_seconds", "resolution_seconds"):
        yield [f"{key}.average", data[key]["average"]]
        yield [f"{key}.count", data[key]["count"]]
    yield []
    yield ["not_understood", "text", "count"]
    for row in data["not_understood"]:
        yield ["not_understood", row["text"], row["count"]]
    yield []
    yield ["start", "conversations", "automated", "handed_off", "messages"]
    for row in data["series"]:
        yield [row["start"], row["conversations"], row["automated"], row["handed_off"], row["messages"]]


@agent_required
def insights_csv(request):
    form = _period_form(request)
    if not form.is_valid():
        return HttpResponse(_form_error(form), status=400, content_type="text/plain; charset=utf-8")
    data = insights.insights(form.cleaned_data["period"])
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="insights-{data["period"]["from"]}-{data["period"]["to"]}.csv"'
    writer = csv.writer(response)
    for row in insights_csv_rows(data):
        writer.writerow(["" if value is None else value for value in row])
    return response


# --- The review queue ---------------------------------------------------------------------------


@agent_required
def review_queue(request):
    why = request.GET.get("why") or None
    if why is not None and why not in review.WHYS:
        why = None
        messages.error(request, _("Unknown filter: showing every message to review."))
    paginator = Paginator(review.review_queue(why=why), REVIEW_PAGE_SIZE)
    page = paginator.get_page(request.GET.get("page"))
    context = {
        **_desk_context(request, _("Review queue")),
        "page": page,
        "items": [review.review_item(m) for m in page.object_list],
        "intents": selectors.intent_labels(),
        "why": why,
        "whys": review.WHYS,
        "next": request.get_full_path(),
    }
    return render(request, "support/review.html", context)


@require_POST
@agent_required
def review_label(request, message_id: int):
    form = MessageLabelForm(request.POST)
    back = form.data.get("next") or ""
    if not url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        back = reverse("desk:review")
    if not form.is_valid():
        messages.error(request, _("That label is not one of the model's intents; nothing was saved."))
        return redirect(back)
    try:
        example = agent_actions.message_label(message_id=message_id, intent=form.cleaned_data["intent"], agent=request.user)
    except DeskError as error:
        messages.error(request, error.detail)
        return redirect(back)
    messages.success(
        request, _("Labelled “%(text)s” as %(intent)s.") % {"text": example.text[:80], "intent": example.intent}
    )
    return redirect(back)


@agent_required
def conversation_transcript(request, public_id):
    conversation = get_object_or_404(Conversation, public_id=public_id)
    context = {
        **_desk_context(request, _("Conversation %(id)s") % {"id": conversation.public_id.hex[:8]}),
        "conversation": conversation,
        "rows": review.transcript_items(conversation=conversation),
        "intents": selectors.intent_labels(),
        "next": request.get_full_path(),
        "escalations": list(conversation.escalations.order_by("created_at")),
    }
    return render(request, "support/transcript.html", context)
