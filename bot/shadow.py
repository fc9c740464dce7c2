"""A candidate model in shadow: it also reads live shopper messages, after the reply, and the
share it reads as the serving model did is counted on its ModelVersion row (shown in the admin).

The shadow model is loaded once per process and again when another version goes into shadow
(the same cheap version stamp as the serving model, bot.slm.serving).
"""

from __future__ import annotations

import threading

from .slm.serving import shadow_stamp

_lock = threading.Lock()
_loaded: tuple[object, object] | None = None  # (stamp, classifier)


def shadow_classifier():
    """(version id, classifier) of the version in shadow, or None when none is."""
    global _loaded
    stamp = shadow_stamp()
    if stamp is None or stamp.path is None:
        return None
    with _lock:
        if _loaded is None or _loaded[0] != stamp:
            from django.conf import settings

            from .slm.classifier import IntentClassifier

            _loaded = (stamp, IntentClassifier(stamp.path, threads=settings.SLM_THREADS))
        return stamp.version_id, _loaded[1]


def shadow_active() -> bool:
    return shadow_stamp() is not None


def shadow_compare(*, message_id: int) -> bool | None:
    """Classify a stored shopper message with the shadow model and record whether it agrees with
    what the serving model understood (the intent stored on the message, after the same
    catalogue adaptation). None when no version is in shadow, the message was not understood, or
    another language's classifier read it (versions are of the retrained English model)."""
    from .adaptation import adapt
    from .models import Message
    from .retraining import shadow_record
    from .slm import RETRAINED_LANGUAGE, classifier_language
    from .slm.gazetteer import cached_catalog_gazetteer

    loaded = shadow_classifier()
    if loaded is None:
        return None
    version_id, classifier = loaded
    row = (
        Message.objects.filter(pk=message_id, sender=Message.Sender.SHOPPER)
        .values_list("text", "intent", "conversation__language")
        .first()
    )
    if row is None or not row[1] or classifier_language(row[0], row[2]) != RETRAINED_LANGUAGE:
        return None
    text, served_intent, _ = row
    shadow_intent = adapt(classifier.classify(text, gazetteer=cached_catalog_gazetteer())).intent
    agreed = shadow_intent == served_intent
    shadow_record(version_id=version_id, agreed=agreed)
    return agreed
