"""The review queue: shopper messages the assistant may have got wrong, for agents to label.

A message is in the queue when the assistant acted on out_of_scope (it did not understand), when
the model's confidence was below the dialogue's clarifying threshold (bot.dialogue.CLARIFY_BELOW),
or when it led to a hand-off for confusion (an escalation with reason low_confidence created at
or after it in the same conversation). It leaves the queue once an agent has labelled it
(a TrainingExample row for the message, written by agent_actions.message_label).
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Exists, OuterRef, Q, QuerySet

from bot.dialogue import CLARIFY_BELOW
from bot.models import Message, TrainingExample
from bot.slm.understanding import OUT_OF_SCOPE

from .models import Escalation

OUT_OF_SCOPE_WHY = "out_of_scope"
LOW_CONFIDENCE_WHY = "low_confidence"
ESCALATED_WHY = "escalated"
WHYS = (OUT_OF_SCOPE_WHY, LOW_CONFIDENCE_WHY, ESCALATED_WHY)


def _confused():
    return Exists(
        Escalation.objects.filter(
            conversation=OuterRef("conversation"), reason=Escalation.Reason.LOW_CONFIDENCE, created_at__gte=OuterRef("created_at")
        )
    )


def review_queue(*, why: str | None = None) -> QuerySet[Message]:
    """Unlabelled shopper messages to review, newest first; `why` keeps one kind only."""
    conditions = {
        OUT_OF_SCOPE_WHY: Q(intent=OUT_OF_SCOPE),
        LOW_CONFIDENCE_WHY: Q(confidence__lt=CLARIFY_BELOW) & ~Q(intent=OUT_OF_SCOPE),
        ESCALATED_WHY: Q(confused=True),
    }
    if why is not None and why not in conditions:
        raise ValueError(f"why must be one of {', '.join(WHYS)}")
    selected = conditions[why] if why else conditions[OUT_OF_SCOPE_WHY] | Q(confidence__lt=CLARIFY_BELOW) | conditions[ESCALATED_WHY]
    return (
        Message.objects.filter(sender=Message.Sender.SHOPPER)
        .annotate(confused=_confused())
        .filter(selected)
        .exclude(Exists(TrainingExample.objects.filter(message=OuterRef("pk"))))
        .select_related("conversation")
        .order_by("-created_at", "-pk")
    )


def model_guess(message: Message) -> str:
    """The intent the model thought most likely: what the assistant acted on, or, when it acted
    on out_of_scope because it was unsure, the model's own top intent."""
    top = (message.data or {}).get("top") or []
    if message.intent == OUT_OF_SCOPE and top and isinstance(top[0], (list, tuple)) and top[0]:
        return str(top[0][0])
    return message.intent


@dataclass(frozen=True)
class ReviewItem:
    message: Message
    guess: str
    confidence: float | None
    whys: tuple[str, ...]
    label: TrainingExample | None = None


def review_item(message: Message, *, label: TrainingExample | None = None) -> ReviewItem:
    whys = []
    if message.intent == OUT_OF_SCOPE:
        whys.append(OUT_OF_SCOPE_WHY)
    if message.confidence is not None and message.confidence < CLARIFY_BELOW:
        whys.append(LOW_CONFIDENCE_WHY)
    if getattr(message, "confused", False):
        whys.append(ESCALATED_WHY)
    return ReviewItem(message=message, guess=model_guess(message), confidence=message.confidence, whys=tuple(whys), label=label)


def transcript_items(*, conversation) -> list[tuple[Message, ReviewItem | None]]:
    """A conversation's messages in order; the shopper's come with their review item (guess and
    current label) so an agent can label any of them from the transcript."""
    messages = list(conversation.messages.annotate(confused=_confused()).select_related("agent").order_by("pk"))
    labels = {
        example.message_id: example
        for example in TrainingExample.objects.filter(message__in=[m.pk for m in messages]).select_related("created_by")
    }
    return [
        (m, review_item(m, label=labels.get(m.pk)) if m.sender == Message.Sender.SHOPPER else None) for m in messages
    ]
