"""The assistant's understanding of a shopper's message: intent, confidence and entities.

    from bot.slm import get_classifier
    understanding = get_classifier().classify("where is my order #10234?")
    understanding.intent, understanding.confidence, understanding.entities

The classifier is the int8 ONNX model of the version that serves (bot.slm.serving: a model
promoted in the admin, else the shipped settings.SLM_ARTIFACT_DIR), loaded on first use, once per
process, shared by all threads, and loaded again when another version is promoted. Nothing here
imports torch or transformers.
"""

from __future__ import annotations

import logging
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

logger = logging.getLogger(__name__)
DEFAULT_ARTIFACT_DIR = Path(__file__).resolve().parent.parent / "slm_artifact"
_lock = threading.Lock()
_classifier: IntentClassifier | None = None
_loaded_stamp: object = None  # the bot.slm.serving stamp _classifier was loaded for


def _settings() -> tuple[Path, int]:
    from django.conf import settings

    if not settings.configured:
        return DEFAULT_ARTIFACT_DIR, 1
    return Path(getattr(settings, "SLM_ARTIFACT_DIR", DEFAULT_ARTIFACT_DIR)), int(getattr(settings, "SLM_THREADS", 1))


def get_classifier() -> IntentClassifier:
    """The process's classifier, loaded on first call and again once another version serves (thread-safe)."""
    global _classifier, _loaded_stamp
    from bot.slm.serving import serving_stamp

    stamp = serving_stamp()  # a database read at most every SLM_VERSION_CHECK_SECONDS
    if _classifier is None or stamp != _loaded_stamp:
        with _lock:
            if _classifier is None or stamp != _loaded_stamp:
                from bot.slm.classifier import ArtifactError, IntentClassifier

                artifact_dir, threads = _settings()
                try:
                    _classifier = IntentClassifier(stamp.path if stamp and stamp.path else artifact_dir, threads=threads)
                except ArtifactError:
                    if not (stamp and stamp.path):
                        raise
                    # A promoted version's folder is gone or broken: keep answering with what we have.
                    logger.exception("cannot load the promoted model version %s; keeping the current model", stamp)
                    _classifier = _classifier or IntentClassifier(artifact_dir, threads=threads)
                _loaded_stamp = stamp
    return _classifier


def reset_classifier() -> None:
    """Forget the loaded classifier and the serving stamp (tests; after promoting a new version)."""
    global _classifier, _loaded_stamp
    from bot.slm.serving import stamps_forget

    with _lock:
        _classifier = None
        _loaded_stamp = None
    stamps_forget()


def get_embedder() -> SentenceEmbedder:
    from bot.slm.embedder import get_embedder as _get_embedder

    return _get_embedder()
