"""Conversations with shoppers, their messages, and the training examples agents give back."""

import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone


class Conversation(models.Model):
    class Status(models.TextChoices):
        BOT = "bot", "With the assistant"
        WAITING = "waiting", "Waiting for a person"
        AGENT = "agent", "With an agent"
        CLOSED = "closed", "Closed"

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

    def __str__(self):
        return f"Conversation {self.public_id.hex[:8]}"


class Message(models.Model):
    class Sender(models.TextChoices):
        SHOPPER = "shopper", "Shopper"
        BOT = "bot", "Assistant"
        AGENT = "agent", "Agent"
        SYSTEM = "system", "System"

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

    class Meta:
        ordering = ["pk"]
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
    """A labelled shopper message, from an agent's resolution or correction; train_slm uses them."""

    class Source(models.TextChoices):
        AGENT_LABEL = "agent_label", "Agent's label at resolution"
        CORRECTION = "correction", "Correction"

    text = models.TextField()
    intent = models.CharField(max_length=40)
    source = models.CharField(max_length=20, choices=Source.choices, default=Source.AGENT_LABEL)
    message = models.ForeignKey(Message, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    better_answer = models.TextField(blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at"]
        constraints = [models.UniqueConstraint(fields=["message", "intent"], name="training_example_unique_label")]

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
