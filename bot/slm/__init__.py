"""The assistant's understanding of a shopper's message: intent, confidence and entities.

    from bot.slm import understand
    understanding = understand("where is my order #10234?")
    understanding.intent, understanding.confidence, understanding.entities, understanding.language

One classifier per language, each a shipped int8 ONNX model: English (settings.SLM_ARTIFACT_DIR,
all-MiniLM-L6-v2) and Japanese (settings.SLM_ARTIFACT_DIR_JA, multilingual-e5-small, pruned).
A message goes to the classifier of its script's language (bot.language.detect_language); a
message with no letters at all ("10234", "👍") to the conversation's language, by default the
shop's first language (settings.SHOP_LANGUAGES). Each classifier is loaded on first use, once
per process, and shared by all threads. Nothing here imports torch or transformers.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import TYPE_CHECKING

from bot.slm.entities import Entity, Gazetteer, extract_entities
from bot.slm.understanding import OUT_OF_SCOPE, Understanding

if TYPE_CHECKING:
    from bot.slm.classifier import IntentClassifier
    from bot.slm.embedder import SentenceEmbedder

__all__ = [
    "CLASSIFIER_LANGUAGES",
    "OUT_OF_SCOPE",
    "Entity",
    "Gazetteer",
    "Understanding",
    "artifact_dir",
    "classifier_language",
    "extract_entities",
    "get_classifier",
    "get_embedder",
    "reset_classifier",
    "understand",
]

PACKAGE_DIR = Path(__file__).resolve().parent.parent
DEFAULT_ARTIFACT_DIRS = {"en": PACKAGE_DIR / "slm_artifact", "ja": PACKAGE_DIR / "slm_artifact_ja"}
DEFAULT_ARTIFACT_DIR = DEFAULT_ARTIFACT_DIRS["en"]
CLASSIFIER_LANGUAGES = tuple(DEFAULT_ARTIFACT_DIRS)
_SETTINGS = {"en": "SLM_ARTIFACT_DIR", "ja": "SLM_ARTIFACT_DIR_JA"}
_lock = threading.Lock()
_classifiers: dict[str, IntentClassifier] = {}


def artifact_dir(language: str = "en") -> Path:
    """The artifact folder of `language`'s classifier (settings, else the shipped folder)."""
    if language not in DEFAULT_ARTIFACT_DIRS:
        raise ValueError(f"no classifier for language {language!r} ({', '.join(CLASSIFIER_LANGUAGES)})")
    from django.conf import settings

    if not settings.configured:
        return DEFAULT_ARTIFACT_DIRS[language]
    return Path(getattr(settings, _SETTINGS[language], DEFAULT_ARTIFACT_DIRS[language]))


def _threads() -> int:
    from django.conf import settings

    return int(getattr(settings, "SLM_THREADS", 1)) if settings.configured else 1


def default_language() -> str:
    """The shop's first language that has a classifier (settings.SHOP_LANGUAGES), else English."""
    from django.conf import settings

    languages = getattr(settings, "SHOP_LANGUAGES", ["en"]) if settings.configured else ["en"]
    return next((code for code in languages if code in DEFAULT_ARTIFACT_DIRS), "en")


def classifier_language(text: str, conversation_language: str | None = None) -> str:
    """Whose classifier reads `text`: its script's language, else the conversation's, else the
    shop's first language (a message of digits or emoji only says nothing by itself)."""
    from bot.language import detect_language

    for language in (detect_language(text), conversation_language):
        if language in DEFAULT_ARTIFACT_DIRS:
            return language
    return default_language()


def get_classifier(language: str = "en") -> IntentClassifier:
    """The process's classifier for `language`, loaded on first call (thread-safe)."""
    classifier = _classifiers.get(language)
    if classifier is None:
        with _lock:
            classifier = _classifiers.get(language)
            if classifier is None:
                from bot.slm.classifier import IntentClassifier

                classifier = IntentClassifier(artifact_dir(language), threads=_threads())
                _classifiers[language] = classifier
    return classifier


def understand(text: str, *, conversation_language: str | None = None, gazetteer: Gazetteer | None = None) -> Understanding:
    """Classify one message with the classifier of its language; the result says which."""
    return get_classifier(classifier_language(text, conversation_language)).classify(text, gazetteer=gazetteer)


def reset_classifier() -> None:
    """Forget the loaded classifiers (tests; after promoting a new artifact)."""
    with _lock:
        _classifiers.clear()


def get_embedder() -> SentenceEmbedder:
    from bot.slm.embedder import get_embedder as _get_embedder

    return _get_embedder()
