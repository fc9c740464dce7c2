"""Which model version serves, read cheaply: every serving process asks the database at most
every settings.SLM_VERSION_CHECK_SECONDS, so a version promoted in the admin (bot.retraining) is
loaded by every process without a restart.

A stamp is (version id, artifact folder); None means the shipped artifact (settings.SLM_ARTIFACT_DIR),
as before any version was registered. A failed read keeps the last stamp seen: a database hiccup
never swaps the model.
"""

from __future__ import annotations

import logging
import threading
import time
from pathlib import Path
from typing import NamedTuple

logger = logging.getLogger(__name__)


class Stamp(NamedTuple):
    version_id: int
    path: Path | None  # None: the shipped artifact (the baseline version)


_lock = threading.Lock()
_stamps: dict[str, Stamp | None] = {}
_checked_at = 0.0
_read_once = False


def _check_seconds() -> float:
    from django.conf import settings

    return float(getattr(settings, "SLM_VERSION_CHECK_SECONDS", 5.0)) if settings.configured else 0.0


def _read() -> dict[str, Stamp | None]:
    """One indexed query: the serving and the shadow version."""
    from django.conf import settings

    from bot.models import ModelVersion

    stamps: dict[str, Stamp | None] = {"serving": None, "shadow": None}
    rows = ModelVersion.objects.filter(status__in=("serving", "shadow")).values_list("pk", "status", "path", "is_baseline")
    for pk, status, path, is_baseline in rows:
        stamps[status] = Stamp(pk, None if is_baseline or not path else Path(settings.ASSISTANT_DATA_DIR) / path)
    return stamps


def _current(kind: str) -> Stamp | None:
    global _checked_at, _read_once
    from django.conf import settings

    if not settings.configured:
        return None
    now = time.monotonic()
    with _lock:
        if _read_once and now - _checked_at < _check_seconds():
            return _stamps.get(kind)
    try:
        fresh = _read()
    except Exception:  # noqa: BLE001 — no table yet, no database here, the database down: keep what we had
        logger.debug("could not read the serving model version; keeping the last one", exc_info=True)
        with _lock:
            # Not again before the next check: a database that is down is not asked on every message.
            _checked_at, _read_once = now, True
            return _stamps.get(kind)
    with _lock:
        _stamps.clear()
        _stamps.update(fresh)
        _checked_at, _read_once = now, True
        return _stamps.get(kind)


def serving_stamp() -> Stamp | None:
    return _current("serving")


def shadow_stamp() -> Stamp | None:
    return _current("shadow")


def stamps_forget() -> None:
    """Read the database on the next call (after a promotion in this process; tests)."""
    global _checked_at, _read_once
    with _lock:
        _stamps.clear()
        _checked_at, _read_once = 0.0, False
