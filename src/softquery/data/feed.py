"""Read one source query in a background thread, for the trusted supervisor.

``SourceFeed`` opens the data source and streams a query's record batches into
a small bounded queue from a daemon thread. The supervisor keeps ticking
(heartbeats, stop requests, the time limit) while a slow query runs, and
reading overlaps the job child's work. The connection is opened, used and
closed in that thread; the end of the stream is queued only after it is
closed, so a single-writer file (SQLite, DuckDB) accepts writes from then on.

Errors of the reader (``QueryError``, ``SourceError``, ``DataError``) are
raised again, unchanged, by ``schema``/``probed_schema``/``get``.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable
from types import TracebackType
from typing import Any, TypeVar

import pyarrow as pa

from softquery.data.backends import open_source
from softquery.data.connection import (
    DEFAULT_CHUNK_ROWS,
    DEFAULT_STATEMENT_TIMEOUT_SECONDS,
    SourceConnection,
)

T = TypeVar("T")
QUEUE_BATCHES = 2
POLL_SECONDS = 0.1
_END = object()


class NotReady(Exception):  # noqa: N818 - a "try again", not a failure
    """Nothing arrived within the timeout: tick, then ask again."""


class _Failed:
    def __init__(self, error: BaseException):
        self.error = error


class SourceFeed:
    """Batches of ``sql`` from ``url``, of about ``chunk_rows`` rows (None: cut as
    ``read_table`` cuts them, so they add up to its exact result); ``probe``: (sql, what)
    of another query whose schema is read first on the same connection (training
    reads the predict query's)."""

    def __init__(self, url: str, sql: str, *, what: str, chunk_rows: int | None = DEFAULT_CHUNK_ROWS,
                 timeout: float | None = DEFAULT_STATEMENT_TIMEOUT_SECONDS,
                 probe: tuple[str, str] | None = None):
        self._url, self._sql, self._what, self._probe = url, sql, what, probe
        self._chunk_rows, self._timeout = chunk_rows, timeout
        self._queue: queue.Queue[Any] = queue.Queue(maxsize=QUEUE_BATCHES)
        self._closed = threading.Event()
        self._probe_ready, self._schema_ready = threading.Event(), threading.Event()
        self._probed: pa.Schema | None = None
        self._schema: pa.Schema | None = None
        self._error: BaseException | None = None
        self._conn: SourceConnection | None = None
        self._ended = False
        self._thread = threading.Thread(target=self._read, name="softquery-source-feed", daemon=True)

    # -- the reading thread --------------------------------------------------------
    def _read(self) -> None:
        try:
            with open_source(self._url, timeout=self._timeout) as conn:
                self._conn = conn
                if self._probe is not None:
                    self._probed = conn.query_schema(self._probe[0], what=self._probe[1])
                    self._probe_ready.set()
                chunk_rows = conn.table_chunk_rows if self._chunk_rows is None else self._chunk_rows
                schema, batches = conn.read_batches(self._sql, what=self._what, chunk_rows=chunk_rows)
                self._schema = schema
                self._schema_ready.set()
                try:
                    for batch in batches:
                        if self._closed.is_set() or not self._put(batch):
                            return
                finally:  # the cursor closes before the connection
                    getattr(batches, "close", lambda: None)()
            self._put(_END)
        except BaseException as exc:  # noqa: BLE001 - handed to the supervisor
            if not self._closed.is_set():  # else: most likely our own interrupt
                self._error = exc
                self._put(_Failed(exc))
        finally:
            self._conn = None
            self._probe_ready.set()
            self._schema_ready.set()

    def _put(self, item: Any) -> bool:
        while not self._closed.is_set():
            try:
                self._queue.put(item, timeout=POLL_SECONDS)
                return True
            except queue.Full:
                continue
        return False

    # -- the supervisor's side -------------------------------------------------------
    def start(self) -> SourceFeed:
        if self._thread.ident is None:
            self._thread.start()
        return self

    def _ready(self, event: threading.Event, timeout: float) -> None:
        if not event.wait(timeout):
            raise NotReady
        if self._error is not None:
            raise self._error

    def probed_schema(self, timeout: float) -> pa.Schema:
        """The probe query's schema (NotReady while it is being read)."""
        self._ready(self._probe_ready, timeout)
        assert self._probed is not None
        return self._probed

    def schema(self, timeout: float) -> pa.Schema:
        """The query's schema (NotReady while the query starts)."""
        self._ready(self._schema_ready, timeout)
        assert self._schema is not None
        return self._schema

    def get(self, timeout: float) -> pa.RecordBatch | None:
        """The next batch; None at the end (the connection is closed by then)."""
        if self._ended:
            return None
        if self._closed.is_set():
            raise self._error or RuntimeError("this source feed is closed")
        try:
            item = self._queue.get(timeout=timeout)
        except queue.Empty:
            raise NotReady from None
        if item is _END:
            self._ended = True
            return None
        if isinstance(item, _Failed):
            self._ended = True
            raise item.error
        return item

    def close(self, join_seconds: float = 1.0) -> None:
        """Stop reading: the thread leaves at its next batch and closes the connection.
        A statement still running is interrupted where the backend allows it."""
        if self._closed.is_set():
            return
        self._closed.set()
        conn = self._conn
        if conn is not None and self._thread.is_alive():
            conn.interrupt()
        while True:  # free a put() that waits for room
            try:
                self._queue.get_nowait()
            except queue.Empty:
                break
        if self._thread.ident is not None:
            self._thread.join(join_seconds)

    def __enter__(self) -> SourceFeed:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()


def waiting(fetch: Callable[[float], T], idle: Callable[[], None], poll: float = POLL_SECONDS) -> T:
    """``fetch(poll)`` until it stops raising ``NotReady``, calling ``idle()`` in between."""
    while True:
        try:
            return fetch(poll)
        except NotReady:
            idle()
