"""The human support desk: escalations handed over by the assistant, and the agents who take them."""

from django.conf import settings
from django.db import models
from django.utils import timezone


class Escalation(models.Model):
    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        ASSIGNED = "assigned", "Assigned"
        ACTIVE = "active", "Active"
        RESOLVED = "resolved", "Resolved"

    class Reason(models.TextChoices):
        REQUESTED = "requested", "Shopper asked for a person"
        COMPLAINT = "complaint", "Complaint"
        LOW_CONFIDENCE = "low_confidence", "Assistant unsure twice in a row"
        ACTION_FAILED = "action_failed", "An action failed"
        VERIFICATION_LOCKED = "verification_locked", "Too many failed verifications"
        ACCOUNT_REQUEST = "account_request", "Account request needing a person"
        PERSISTENT_ISSUE = "persistent_issue", "Problem persists"

    class Priority(models.TextChoices):
        LOW = "low", "Low"
        NORMAL = "normal", "Normal"
        HIGH = "high", "High"
        URGENT = "urgent", "Urgent"

    OPEN = (Status.QUEUED, Status.ASSIGNED, Status.ACTIVE)

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
    resolution_intent = models.CharField(max_length=40, blank=True)
    resolution_note = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    assigned_at = models.DateTimeField(null=True, blank=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    notified_at = models.DateTimeField(null=True, blank=True)
    reminded_at = models.DateTimeField(null=True, blank=True)

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
