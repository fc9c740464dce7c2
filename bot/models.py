"""Conversations with shoppers, their messages, and the training examples agents give back."""

import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Conversation(models.Model):
    class Status(models.TextChoices):
        BOT = "bot", _("With the assistant")
        WAITING = "waiting", _("Waiting for a person")
        AGENT = "agent", _("With an agent")
        CLOSED = "closed", _("Closed")

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.BOT, db_index=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="conversations"
    )
    # Dialogue state (slots, pending confirmation, verified orders, failure counters): plain JSON,
    # read and written by bot.services around the pure policy in bot.dialogue.
    state = models.JSONField(default=dict, blank=True)
    shopper_email = models.EmailField(blank=True)
    # The language the shopper is answered in (a code of settings.LANGUAGES): the storefront's at
    # the start, then the language of the shopper's own messages (bot.language).
    language = models.CharField(max_length=8, default="en", db_index=True)
    rating = models.PositiveSmallIntegerField(null=True, blank=True)
    rating_comment = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]
        # The desk's insights: ratings of a period from the index alone (support/insights.py).
        indexes = [models.Index(fields=["created_at", "rating"], name="conversation_created_rating")]

    def __str__(self):
        return f"Conversation {self.public_id.hex[:8]}"


class Message(models.Model):
    class Sender(models.TextChoices):
        SHOPPER = "shopper", _("Shopper")
        BOT = "bot", _("Assistant")
        AGENT = "agent", _("Agent")
        SYSTEM = "system", _("System")

    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="messages")
    sender = models.CharField(max_length=10, choices=Sender.choices)
    text = models.TextField()
    client_id = models.CharField(max_length=64, null=True, blank=True)
    agent = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    # What the assistant understood (shopper messages) or said with it (bot messages).
    intent = models.CharField(max_length=40, blank=True)
    confidence = models.FloatField(null=True, blank=True)
    data = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    # An assistant's reply: seconds from the shopper's message it answers (that row's created_at)
    # to its own created_at. A fact of this row, written in the INSERT that stores it and never
    # changed (bot.conversations.turn_store); NULL on every other message. The desk's insights
    # average it (support/insights.py) instead of pairing messages with a window at read time.
    reply_seconds = models.FloatField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["pk"]
        indexes = [
            # The desk's insights and review queue read messages by period, sender and intent
            # (support/insights.py, support/review.py).
            # Covering: counts by period and sender, intents with their confidence, and the
            # conversations with a shopper's or an agent's message since a day, read from the index alone.
            models.Index(fields=["created_at", "sender"], name="message_created_sender"),
            models.Index(
                fields=["sender", "created_at", "intent", "confidence", "conversation"], name="message_sender_created_cover"
            ),
            models.Index(fields=["conversation", "sender", "created_at"], name="message_conv_sender_created"),
            # The assistant's reply times of a period, from this small index alone.
            models.Index(
                fields=["created_at", "reply_seconds"], name="message_reply_seconds", condition=models.Q(reply_seconds__isnull=False)
            ),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["conversation", "client_id"],
                condition=models.Q(client_id__isnull=False),
                name="message_unique_client_id",
            )
        ]

    def __str__(self):
        return f"{self.sender}: {self.text[:60]}"


class TrainingExample(models.Model):
    """A labelled shopper message, from an agent's resolution, the review queue or a correction;
    train_slm uses them. One label per message: labelling a message again updates its row
    (who, when, which intent), so the latest word of an agent is what training reads."""

    class Source(models.TextChoices):
        AGENT_LABEL = "agent_label", _("Agent's label at resolution")
        CORRECTION = "correction", _("Correction")
        CONFIRMATION = "confirmation", _("Agent confirmed the assistant\'s guess")

    text = models.TextField()
    intent = models.CharField(max_length=40)
    source = models.CharField(max_length=20, choices=Source.choices, default=Source.AGENT_LABEL)
    message = models.ForeignKey(Message, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    # The conversation the message came from (kept when the message row goes).
    conversation = models.ForeignKey(
        Conversation, null=True, blank=True, on_delete=models.SET_NULL, related_name="training_examples"
    )
    better_answer = models.TextField(blank=True)
    # Who gave the current label, and when (created_at: when the message was first labelled).
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    labelled_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at"]
        # Not partial: ON CONFLICT (message_id) needs a plain unique index (NULLs never clash).
        constraints = [models.UniqueConstraint(fields=["message"], name="training_example_one_label_per_message")]

    def __str__(self):
        return f"{self.intent}: {self.text[:60]}"


class ArticlePassage(models.Model):
    """A paragraph of a knowledge-base article with its sentence embedding (float32 bytes)."""

    article = models.ForeignKey("catalog.Article", on_delete=models.CASCADE, related_name="passages")
    # The language of the text: the article's own (English) or one of its translations.
    language = models.CharField(max_length=12, default="en")
    position = models.PositiveSmallIntegerField()
    text = models.TextField()
    embedding = models.BinaryField()
    indexed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["article", "language", "position"]
        constraints = [models.UniqueConstraint(fields=["article", "language", "position"], name="passage_unique_language_position")]

    def __str__(self):
        return f"{self.article.title} §{self.position}"


class ProductEmbedding(models.Model):
    """A product's sentence embedding for semantic search, kept until its text changes."""

    product = models.OneToOneField("catalog.Product", on_delete=models.CASCADE, related_name="embedding")
    text_hash = models.CharField(max_length=64)
    embedding = models.BinaryField()
    indexed_at = models.DateTimeField(default=timezone.now)

    def __str__(self):
        return f"Embedding of {self.product_id}"


class ModelVersion(models.Model):
    """One intent model the assistant can serve: the shipped artifact (the baseline, registered
    lazily) or a candidate retrained on the shop's labels (bot.retraining), with its gate report.

    At most one version serves at a time, and at most one runs in shadow.
    """

    class Status(models.TextChoices):
        CANDIDATE = "candidate", _("Candidate")
        SHADOW = "shadow", _("In shadow")
        SERVING = "serving", _("Serving")
        RETIRED = "retired", _("Retired")
        FAILED = "failed", _("Failed the gate")

    version = models.CharField(max_length=80, unique=True)
    language = models.CharField(max_length=8, default="en")
    # The artifact folder under ASSISTANT_DATA_DIR/models/<version>/; empty for the baseline,
    # which is always settings.SLM_ARTIFACT_DIR (the shipped artifact, never overwritten).
    path = models.CharField(max_length=500, blank=True)
    is_baseline = models.BooleanField(default=False)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.CANDIDATE, db_index=True)
    # Figures per guard set and on the shop's held-out labels, for this version and for the
    # version serving when it was judged (bot.retraining.gate_decide).
    report = models.JSONField(default=dict, blank=True)
    gate_passed = models.BooleanField(null=True)
    gate_reason = models.TextField(blank=True)
    # Shadow: live messages this version also classified, and how many it read as the serving one did.
    shadow_messages = models.PositiveIntegerField(default=0)
    shadow_agreements = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now)
    promoted_at = models.DateTimeField(null=True, blank=True)
    promoted_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    # The version that served before this one was promoted: what a rollback goes back to.
    replaced = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(fields=["status"], condition=models.Q(status="serving"), name="model_version_one_serving"),
            models.UniqueConstraint(fields=["status"], condition=models.Q(status="shadow"), name="model_version_one_shadow"),
        ]

    def __str__(self):
        return self.version

    @property
    def shadow_agreement(self) -> float | None:
        return self.shadow_agreements / self.shadow_messages if self.shadow_messages else None


class RetrainJob(models.Model):
    """One retraining run (bot.retraining.retrain_run) and its progress, which the admin polls.

    A partial unique constraint lets only one job be RUNNING; a job whose worker stops beating
    (killed mid-training) is marked STALE by the next start.
    """

    class Status(models.TextChoices):
        RUNNING = "running", _("Running")
        SUCCEEDED = "succeeded", _("Finished")
        FAILED = "failed", _("Failed")
        STALE = "stale", _("Stopped (worker lost)")

    class Stage(models.TextChoices):
        QUEUED = "queued", _("Queued")
        DATA = "data", _("Preparing the data")
        TRAIN = "train", _("Training")
        EXPORT = "export", _("Exporting")
        EVALUATE = "evaluate", _("Evaluating")
        GATE = "gate", _("Judging the candidate")
        DONE = "done", _("Done")

    status = models.CharField(max_length=10, choices=Status.choices, default=Status.RUNNING, db_index=True)
    stage = models.CharField(max_length=10, choices=Stage.choices, default=Stage.QUEUED)
    epoch = models.PositiveSmallIntegerField(default=0)
    epochs = models.PositiveSmallIntegerField(default=0)
    percent = models.FloatField(default=0.0)
    message = models.TextField(blank=True)
    shadow = models.BooleanField(default=False)  # the candidate goes into shadow instead of serving at once
    trigger = models.CharField(max_length=20, default="admin")  # admin, schedule, command
    labels_seen = models.PositiveIntegerField(default=0)  # the TrainingExample rows it read (English messages)
    candidate = models.ForeignKey(ModelVersion, null=True, blank=True, on_delete=models.SET_NULL, related_name="jobs")
    started_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    started_at = models.DateTimeField(default=timezone.now)
    heartbeat_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-started_at", "-pk"]
        constraints = [
            models.UniqueConstraint(fields=["status"], condition=models.Q(status="running"), name="retrain_job_one_running"),
        ]

    def __str__(self):
        return f"Retraining #{self.pk} ({self.status})"
