from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from . import selectors
from .models import AgentProfile, CannedReply, Escalation, FollowUpTicket


class AgentCanView:
    """Agents see these pages (read-only unless also given change permissions).

    The workspace permission (support.handle_escalations) is what makes someone an agent, so it
    is what opens the desk's admin pages too: a shop that grants only that permission still gets
    a working desk (admin home, Support desk breadcrumb, escalation and ticket lists).
    """

    def has_module_permission(self, request):
        return super().has_module_permission(request) or selectors.user_is_agent(request.user)

    def has_view_permission(self, request, obj=None):
        return super().has_view_permission(request, obj) or selectors.user_is_agent(request.user)


@admin.register(Escalation)
class EscalationAdmin(AgentCanView, admin.ModelAdmin):
    list_display = ("id", "status", "priority", "reason", "assigned_agent", "after_hours", "created_at", "claimed_at", "resolved_at")
    list_filter = ("status", "priority", "reason", "after_hours", "outcome")
    search_fields = ("summary", "conversation__public_id", "assigned_to__username")
    readonly_fields = (
        "conversation", "reason", "summary", "context", "created_at", "assigned_at", "claimed_at", "resolved_at",
        "notified_at", "reminded_at", "priority_raised_at", "transcript_sent_at", "route_count", "outcome",
        "resolution_intent", "resolution_note", "status", "assigned_agent", "after_hours",
    )
    # Shown by name: the admin would link the user to the user admin, which agents may not open.
    exclude = ("assigned_to",)
    list_select_related = ("assigned_to", "assigned_to__agent_profile")
    date_hierarchy = "created_at"

    def changelist_view(self, request, extra_context=None):
        extra_context = {**(extra_context or {}), "workspace_url": reverse("desk:workspace")}
        return super().changelist_view(request, extra_context=extra_context)

    @admin.display(description=_("Assigned to"), ordering="assigned_to__username")
    def assigned_agent(self, obj):
        return selectors.agent_name(obj.assigned_to) if obj.assigned_to_id else "—"

    def has_add_permission(self, request):
        # Escalations come from the assistant's hand-off only; agents work them in the workspace.
        return False


@admin.register(AgentProfile)
class AgentProfileAdmin(admin.ModelAdmin):
    list_display = ("user", "display_name", "availability", "capacity", "open_sockets", "last_seen_at", "last_assigned_at")
    list_filter = ("availability",)
    readonly_fields = ("open_sockets", "last_seen_at", "last_assigned_at", "availability_changed_at")
    autocomplete_fields = ("user",)
    search_fields = ("user__username", "display_name")


@admin.register(CannedReply)
class CannedReplyAdmin(AgentCanView, admin.ModelAdmin):
    list_display = ("title", "shortcut", "is_active")
    list_filter = ("is_active",)
    search_fields = ("title", "shortcut", "text")
    prepopulated_fields = {"shortcut": ("title",)}


@admin.register(FollowUpTicket)
class FollowUpTicketAdmin(AgentCanView, admin.ModelAdmin):
    list_display = ("id", "email", "status", "created_at", "confirmation_sent_at", "escalation_link")
    list_filter = ("status",)
    search_fields = ("email",)
    readonly_fields = ("conversation", "escalation", "email", "created_at", "confirmation_sent_at", "closed_at")

    @admin.display(description="Escalation")
    def escalation_link(self, obj):
        if not obj.escalation_id:
            return "—"
        url = reverse("admin:support_escalation_change", args=[obj.escalation_id])
        return format_html('<a href="{}">#{}</a>', url, obj.escalation_id)

from . import model_versions_admin  # noqa: E402,F401 — registers the Intent models page
