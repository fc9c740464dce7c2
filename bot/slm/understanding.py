"""What the assistant understood from one shopper message."""

from __future__ import annotations

from dataclasses import dataclass, field

from bot.slm.entities import Entity

OUT_OF_SCOPE = "out_of_scope"


@dataclass(frozen=True)
class Understanding:
    text: str
    intent: str  # the intent the bot acts on: out_of_scope when the model is too unsure
    raw_intent: str  # the model's most likely intent, whatever its confidence
    confidence: float  # calibrated probability of raw_intent
    top: list[tuple[str, float]] = field(default_factory=list)  # the three most likely intents
    entities: list[Entity] = field(default_factory=list)
    language: str = "en"  # the language whose classifier read the message (bot.slm.classifier_language)

    @property
    def is_confident(self) -> bool:
        return self.intent == self.raw_intent

    def as_dict(self) -> dict:
        """The public JSON shape of `manage.py classify`."""
        return {
            "text": self.text,
            "intent": self.intent,
            "confidence": round(float(self.confidence), 4),
            "top": [[intent, round(float(p), 4)] for intent, p in self.top],
            "entities": [entity.as_dict() for entity in self.entities],
            "language": self.language,
        }
