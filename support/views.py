"""The agent workspace page: an admin page whose script speaks the agent protocol (ws/agent/)."""

from django.contrib import admin
from django.contrib.admin.views.decorators import staff_member_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import render
from django.utils.translation import gettext as _

from . import selectors


@staff_member_required
def workspace(request):
    if not selectors.user_is_agent(request.user):
        raise PermissionDenied(_("You need the support-agent permission (support | Can work in the agent workspace)."))
    context = {
        **admin.site.each_context(request),
        "title": _("Agent workspace"),
        "is_nav_sidebar_enabled": False,  # the workspace needs the width
        "canned_replies": selectors.canned_reply_list(),
        "intent_labels": list(selectors.intent_labels()),
        "agent_name": selectors.agent_name(request.user),
        # Orders link to the order admin only for agents who may open it.
        "can_view_orders": request.user.has_perm("catalog.view_order"),
    }
    return render(request, "support/workspace.html", context)
