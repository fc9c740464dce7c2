"""The assistant's understanding of a shopper's message: intent, confidence and entities.

    from bot.slm import understand
    understanding = understand("where is my order #10234?")
    understanding.intent, understanding.confidence, understanding.entities, understanding.language

One classifier per language, each a shipped int8 ONNX model: English (settings.SLM_ARTIFACT_DIR,
all-MiniLM-L6-v2) and Japanese (settings.SLM_ARTIFACT_DIR_JA, multilingual-e5-small, pruned).
A message goes to the classifier of its script's language (bot.language.detect_language); a
message with no letters at all ("10234", "👍") to the conversation's language, by default the
shop's first language (settings.SHOP_LANGUAGES). Each classifier is loaded on first use, once
per process, and shared by all threads. The English one is the version that serves
(bot.slm.serving: a model promoted in the admin, else the shipped artifact) and is loaded again
when another version is promoted. Nothing here imports torch or transformers.
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

logger = logging.getLogger(__name__)
PACKAGE_DIR = Path(__file__).resolve().parent.parent
DEFAULT_ARTIFACT_DIRS = {"en": PACKAGE_DIR / "slm_artifact", "ja": PACKAGE_DIR / "slm_artifact_ja"}
DEFAULT_ARTIFACT_DIR = DEFAULT_ARTIFACT_DIRS["en"]
CLASSIFIER_LANGUAGES = tuple(DEFAULT_ARTIFACT_DIRS)
# Retraining (bot.retraining, bot.slm.serving) versions the English classifier.
RETRAINED_LANGUAGE = "en"
_SETTINGS = {"en": "SLM_ARTIFACT_DIR", "ja": "SLM_ARTIFACT_DIR_JA"}
_lock = threading.Lock()
_classifiers: dict[str, IntentClassifier] = {}
_loaded_stamp: object = None  # the bot.slm.serving stamp the English classifier was loaded for


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
    """The process's classifier for `language`, loaded on first call (thread-safe); the English
    one again once another version serves."""
    if language == RETRAINED_LANGUAGE:
        return _serving_classifier()
    classifier = _classifiers.get(language)
    if classifier is None:
        with _lock:
            classifier = _classifiers.get(language)
            if classifier is None:
                from bot.slm.classifier import IntentClassifier

                classifier = IntentClassifier(artifact_dir(language), threads=_threads())
                _classifiers[language] = classifier
    return classifier


def _serving_classifier() -> IntentClassifier:
    global _loaded_stamp
    from bot.slm.serving import serving_stamp

    language = RETRAINED_LANGUAGE
    stamp = serving_stamp()  # a database read at most every SLM_VERSION_CHECK_SECONDS
    current = _classifiers.get(language)
    if current is None or stamp != _loaded_stamp:
        with _lock:
            current = _classifiers.get(language)
            if current is None or stamp != _loaded_stamp:
                from bot.slm.classifier import ArtifactError, IntentClassifier

                shipped = artifact_dir(language)
                try:
                    current = IntentClassifier(stamp.path if stamp and stamp.path else shipped, threads=_threads())
                except ArtifactError:
                    if not (stamp and stamp.path):
                        raise
                    # A promoted version's folder is gone or broken: keep answering with what we have.
                    logger.exception("cannot load the promoted model version %s; keeping the current model", stamp)
                    current = current or IntentClassifier(shipped, threads=_threads())
                _classifiers[language] = current
                _loaded_stamp = stamp
    return current


def understand(text: str, *, conversation_language: str | None = None, gazetteer: Gazetteer | None = None) -> Understanding:
    """Classify one message with the classifier of its language; the result says which."""
    return get_classifier(classifier_language(text, conversation_language)).classify(text, gazetteer=gazetteer)


def reset_classifier() -> None:
    """Forget the loaded classifiers and the serving stamp (tests; after promoting a new version)."""
    global _loaded_stamp
    from bot.slm.serving import stamps_forget

    with _lock:
        _classifiers.clear()
        _loaded_stamp = None
    stamps_forget()


def get_embedder() -> SentenceEmbedder:
    from bot.slm.embedder import get_embedder as _get_embedder

    return _get_embedder()
