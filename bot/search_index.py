"""Something cached per process and built again when the rows behind it change: the search
matrices, and the index writes that keep them in step (the one such mechanism of the bot)."""

from __future__ import annotations

import threading
import time
from typing import Callable, Generic, TypeVar

T = TypeVar("T")


class RefreshingIndex(Generic[T]):
    """Holds what ``build()`` returned until ``version()`` (a cheap query) changes.

    The version is read at most every ``check_seconds``: the rows change rarely, and the
    query would otherwise run on every shopper message.
    """

    def __init__(self, *, version: Callable[[], object], build: Callable[[], T], check_seconds: float = 30.0):
        self._version, self._build, self._check_seconds = version, build, check_seconds
        self._lock = threading.Lock()
        self._key = None
        self._checked = 0.0
        self._value: T | None = None

    def invalidate(self) -> None:
        with self._lock:
            self._key = None
            self._checked = 0.0

    def get(self) -> T:
        with self._lock:
            if self._key is not None and time.monotonic() - self._checked < self._check_seconds:
                return self._value
        key = self._version()
        with self._lock:
            self._checked = time.monotonic()
            if key != self._key:
                self._value = self._build()
                self._key = key
            return self._value
