"""The support desk on an agent's admin pages: `{% desk_home %}` (workspace, their escalations, the queue)."""

from urllib.parse import urlencode

from django import template
from django.urls import reverse

from support import selectors
from support.models import Escalation

register = template.Library()


@register.inclusion_tag("support/desk_home.html", takes_context=True)
def desk_home(context):
    request = context.get("request")
    user = getattr(request, "user", None)
    desk = selectors.desk_home(user=user) if user is not None else None
    if desk is None:
        return {"desk": None}
    changelist = reverse("admin:support_escalation_changelist")
    mine = {"assigned_to": user.pk, "status__in": f"{Escalation.Status.ASSIGNED},{Escalation.Status.ACTIVE}"}
    return {
        "desk": desk,
        "workspace_url": reverse("desk:workspace"),
        "insights_url": reverse("desk:insights"),
        "review_url": reverse("desk:review"),
        "mine_url": f"{changelist}?{urlencode(mine)}",
        "queue_url": f"{changelist}?{urlencode({'status__exact': Escalation.Status.QUEUED})}",
    }
