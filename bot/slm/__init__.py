"""The assistant's understanding of a shopper's message: intent, confidence and entities.

    from bot.slm import get_classifier
    understanding = get_classifier().classify("where is my order #10234?")
    understanding.intent, understanding.confidence, understanding.entities

The classifier is the shipped int8 ONNX model (settings.SLM_ARTIFACT_DIR), loaded on first
use, once per process, and shared by all threads. Nothing here imports torch or transformers.
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
    "OUT_OF_SCOPE",
    "Entity",
    "Gazetteer",
    "Understanding",
    "extract_entities",
    "get_classifier",
    "get_embedder",
    "reset_classifier",
]

DEFAULT_ARTIFACT_DIR = Path(__file__).resolve().parent.parent / "slm_artifact"
_lock = threading.Lock()
_classifier: IntentClassifier | None = None


def _settings() -> tuple[Path, int]:
    from django.conf import settings

    if not settings.configured:
        return DEFAULT_ARTIFACT_DIR, 1
    return Path(getattr(settings, "SLM_ARTIFACT_DIR", DEFAULT_ARTIFACT_DIR)), int(getattr(settings, "SLM_THREADS", 1))


def get_classifier() -> IntentClassifier:
    """The process's classifier, loaded on first call (thread-safe)."""
    global _classifier
    if _classifier is None:
        with _lock:
            if _classifier is None:
                from bot.slm.classifier import IntentClassifier

                artifact_dir, threads = _settings()
                _classifier = IntentClassifier(artifact_dir, threads=threads)
    return _classifier


def reset_classifier() -> None:
    """Forget the loaded classifier (tests; after promoting a new artifact)."""
    global _classifier
    with _lock:
        _classifier = None


def get_embedder() -> SentenceEmbedder:
    from bot.slm.embedder import get_embedder as _get_embedder

    return _get_embedder()
