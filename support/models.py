"""The human support desk: escalations handed over by the assistant, and the agents who take them."""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Escalation(models.Model):
    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        ASSIGNED = "assigned", _("Assigned")
        ACTIVE = "active", _("Active")
        RESOLVED = "resolved", _("Resolved")

    class Reason(models.TextChoices):
        REQUESTED = "requested", _("Shopper asked for a person")
        COMPLAINT = "complaint", _("Complaint")
        LOW_CONFIDENCE = "low_confidence", _("Assistant unsure twice in a row")
        ACTION_FAILED = "action_failed", _("An action failed")
        VERIFICATION_LOCKED = "verification_locked", _("Too many failed verifications")
        ACCOUNT_REQUEST = "account_request", _("Account request needing a person")
        PERSISTENT_ISSUE = "persistent_issue", _("Problem persists")

    class Priority(models.TextChoices):
        LOW = "low", _("Low")
        NORMAL = "normal", _("Normal")
        HIGH = "high", _("High")
        URGENT = "urgent", _("Urgent")

    class Outcome(models.TextChoices):
        RESOLVED = "resolved", _("Resolved by the agent")
        RELEASED = "released", _("Released back to the assistant")

    OPEN = (Status.QUEUED, Status.ASSIGNED, Status.ACTIVE)
    # Waiting for a person: counted in the shopper's queue position.
    WAITING = (Status.QUEUED, Status.ASSIGNED)
    PRIORITY_RANK = {Priority.LOW: 0, Priority.NORMAL: 1, Priority.HIGH: 2, Priority.URGENT: 3}

    conversation = models.ForeignKey("bot.Conversation", on_delete=models.CASCADE, related_name="escalations")
    reason = models.CharField(max_length=30, choices=Reason.choices)
    priority = models.CharField(max_length=10, choices=Priority.choices, default=Priority.NORMAL, db_index=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED, db_index=True)
    summary = models.CharField(max_length=300, blank=True)
    # The hand-off packet: what the bot understood, the verified order, actions it tried.
    context = models.JSONField(default=dict, blank=True)
    assigned_to = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="escalations"
    )
    # No agent was online when it was handed over: the shopper was asked for an e-mail address.
    after_hours = models.BooleanField(default=False)
    outcome = models.CharField(max_length=10, choices=Outcome.choices, blank=True)
    resolution_intent = models.CharField(max_length=40, blank=True)
    resolution_note = models.TextField(blank=True)
    # How often routing has handed it to an agent (re-routes by the SLA watchdog count too).
    route_count = models.PositiveSmallIntegerField(default=0)
    # Bumped with every frame pushed about it: a client keeps the highest version it has seen,
    # so a late push never overwrites a newer state.
    version = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    assigned_at = models.DateTimeField(null=True, blank=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    notified_at = models.DateTimeField(null=True, blank=True)
    reminded_at = models.DateTimeField(null=True, blank=True)
    priority_raised_at = models.DateTimeField(null=True, blank=True)
    transcript_sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at"]
        permissions = [("handle_escalations", "Can work in the agent workspace")]
        constraints = [
            # One open escalation per conversation at a time.
            models.UniqueConstraint(
                fields=["conversation"],
                condition=models.Q(status__in=["queued", "assigned", "active"]),
                name="escalation_one_open_per_conversation",
            )
        ]

    def __str__(self):
        return f"Escalation #{self.pk} ({self.get_status_display()})"

    @property
    def is_open(self) -> bool:
        return self.status in self.OPEN

    @property
    def priority_rank(self) -> int:
        return self.PRIORITY_RANK.get(self.priority, 1)


class AgentProfile(models.Model):
    """A support agent's availability and how many conversations they take at once."""

    class Availability(models.TextChoices):
        ONLINE = "online", _("Online")
        AWAY = "away", _("Away")
        OFFLINE = "offline", _("Offline")

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="agent_profile")
    display_name = models.CharField(
        max_length=60, blank=True, help_text="The name shoppers see; the user's first name when empty."
    )
    availability = models.CharField(
        max_length=10, choices=Availability.choices, default=Availability.OFFLINE, db_index=True
    )
    capacity = models.PositiveSmallIntegerField(default=3, help_text="Open conversations at once.")
    # Open workspace sockets, and when one last spoke: an agent whose workspace went silent
    # (crashed browser, lost network) is not routed to even if the row still says online.
    open_sockets = models.PositiveSmallIntegerField(default=0)
    last_seen_at = models.DateTimeField(null=True, blank=True)
    # Round-robin among equally loaded agents: the one assigned longest ago goes first.
    last_assigned_at = models.DateTimeField(null=True, blank=True)
    availability_changed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["user__username"]

    def __str__(self):
        return f"{self.name} ({self.get_availability_display()})"

    @property
    def name(self) -> str:
        return self.display_name or self.user.first_name or self.user.username


class CannedReply(models.Model):
    """A prepared answer agents insert into a reply and edit before sending."""

    title = models.CharField(max_length=80)
    shortcut = models.SlugField(max_length=40, unique=True, help_text="Typed as /shortcut in the reply box.")
    text = models.TextField()
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["title"]
        verbose_name_plural = "canned replies"

    def __str__(self):
        return self.title


class FollowUpTicket(models.Model):
    """After hours: the shopper left an e-mail address and the desk answers by e-mail."""

    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        DONE = "done", _("Done")

    conversation = models.ForeignKey("bot.Conversation", on_delete=models.CASCADE, related_name="followup_tickets")
    escalation = models.ForeignKey(
        Escalation, null=True, blank=True, on_delete=models.SET_NULL, related_name="followup_tickets"
    )
    email = models.EmailField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN, db_index=True)
    note = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    confirmation_sent_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            # One open ticket per conversation: a second e-mail updates it.
            models.UniqueConstraint(
                fields=["conversation"], condition=models.Q(status="open"), name="followup_one_open_per_conversation"
            )
        ]

    def __str__(self):
        return f"Follow-up #{self.pk} <{self.email}>"
