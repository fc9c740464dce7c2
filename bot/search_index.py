"""Something cached per process and built again when the rows behind it change: the search
matrices, the index writes that keep them in step, the catalog's gazetteer. The one such
mechanism of the bot."""

from __future__ import annotations

import threading
import time
from typing import Callable, Generic, TypeVar

T = TypeVar("T")
_NEVER = object()  # no version seen yet (a version may itself be None)


class RefreshingIndex(Generic[T]):
    """Holds what ``build()`` returned until ``version()`` (a cheap query) changes, or, with
    ``max_age_seconds``, until it is that old (for what no cheap query can see change).

    The version is read at most every ``check_seconds``: the rows change rarely, and the
    query would otherwise run on every shopper message.
    """

    def __init__(
        self,
        *,
        version: Callable[[], object],
        build: Callable[[], T],
        check_seconds: float = 30.0,
        max_age_seconds: float | None = None,
    ):
        self._version, self._build, self._check_seconds = version, build, check_seconds
        self._max_age = max_age_seconds
        self._lock = threading.Lock()
        self._key: object = _NEVER
        self._checked = 0.0
        self._built = 0.0
        self._value: T | None = None

    def invalidate(self) -> None:
        with self._lock:
            self._key = _NEVER
            self._checked = 0.0

    def _expired(self, now: float) -> bool:
        return self._max_age is not None and now - self._built >= self._max_age

    def get(self) -> T:
        with self._lock:
            now = time.monotonic()
            if self._key is not _NEVER and now - self._checked < self._check_seconds and not self._expired(now):
                return self._value
        key = self._version()
        with self._lock:
            now = time.monotonic()
            self._checked = now
            if key != self._key or self._expired(now):
                self._value = self._build()
                self._key, self._built = key, now
            return self._value
