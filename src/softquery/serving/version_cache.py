"""Which version answers: a cache of (model, version or active) → served version.

A DB query per request costs more than the whole 2 ms budget, so answers are
cached, with two ways to become stale:

* **this process changed the models table** (activate through the API or the
  web pages, a training finished in this server's job slots, a model deleted):
  a SQLAlchemy listener on every engine of the process notices the write, and
  when that connection goes back to its pool (after its commit) every cached
  entry read before that moment is stale. The next request reads the DB, so a
  swap is seen by the very next request: immediate.
* **another process changed it** (``softquery activate`` on the command line,
  an RQ worker's training): entries are trusted for at most ``refresh_seconds``
  (``SOFTQUERY_SERVING_REFRESH_SECONDS``, 0.5 s), then read again.

Reads are serialised, so the cache never goes back to a value older than one
it already holds (a request never sees version N after another saw N+1 from a
later read).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any, Generic, TypeVar

from sqlalchemy import Delete, Engine, Insert, Pool, Update, event

T = TypeVar("T")
MODELS_TABLE = "models"
MAX_ENTRIES = 4096
_FLAG = "softquery_models_changed"


class VersionCache(Generic[T]):
    def __init__(self, read: Callable[[str, int | None], T], refresh_seconds: float):
        self._read = read
        self.refresh_seconds = refresh_seconds
        self._entries: dict[tuple[str, int | None], tuple[T, float]] = {}
        self._changed_at = 0.0
        self._lock = threading.Lock()
        self._listening = False

    # -- invalidation ----------------------------------------------------------------
    def listen(self) -> None:
        if not self._listening:
            event.listen(Engine, "after_execute", self._after_execute)
            event.listen(Pool, "checkin", self._checkin)
            self._listening = True

    def stop(self) -> None:
        if self._listening:
            event.remove(Engine, "after_execute", self._after_execute)
            event.remove(Pool, "checkin", self._checkin)
            self._listening = False

    def _after_execute(self, conn: Any, clause: Any, *_args: Any) -> None:
        if isinstance(clause, Update | Delete | Insert) and getattr(clause.table, "name", None) == MODELS_TABLE:
            conn.info[_FLAG] = True
            self.changed()  # now, and again when the transaction is over (checkin)

    def _checkin(self, _dbapi_conn: Any, record: Any) -> None:
        if record is not None and record.info.pop(_FLAG, False):
            self.changed()

    def changed(self) -> None:
        """Every entry read before now is stale."""
        self._changed_at = time.monotonic()

    # -- lookups ---------------------------------------------------------------------
    def cached(self, model: str, number: int | None) -> T | None:
        """The fresh cached value, or None (then call ``read``, off the event loop)."""
        entry = self._entries.get((model, number))
        if entry is not None:
            value, read_at = entry
            if read_at > self._changed_at and time.monotonic() - read_at < self.refresh_seconds:
                return value
        return None

    def read(self, model: str, number: int | None) -> T:
        """Read from the DB (blocking) and cache; errors (unknown model...) are not cached."""
        with self._lock:
            fresh = self.cached(model, number)  # another thread may just have read it
            if fresh is not None:
                return fresh
            started = time.monotonic()
            value = self._read(model, number)
            if len(self._entries) >= MAX_ENTRIES:
                self._entries.clear()
            self._entries[(model, number)] = (value, started)
            return value
