"""Write prediction batches to a table atomically.

Every batch goes to a staging table ``_sq_stage_<run_id>`` first (committed
as it goes, so memory stays bounded and readers are not blocked). ``commit``
then, in ONE transaction:

* replace: drops the target and renames the staging table to it, so readers
  see the old table or the new one, never a half-written one;
* append: creates the target from the staging table, or inserts the staged
  rows into it, then drops the staging table (all rows or none).

``abort`` (or an exception inside ``with``) drops the staging table and leaves
the target untouched.

Column names change between releases (a binary classifier's ``probability`` is
now ``probability_<class>``): ``aliases`` maps a column to the name it had. Appending
to a table that has the old name writes that column under it, and says so in
``notes``; replacing such a table says the column was renamed.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from types import TracebackType

import pyarrow as pa

from softquery.data.query_errors import clean_message, driver_error_types
from softquery.data.sinks import Sink, open_sink
from softquery.data.source_urls import mask_url
from softquery.errors import DataError, InvalidInputError, QueryError, SoftqueryError
from softquery.identifiers import check_identifier

MODES = ("replace", "append")
STAGE_PREFIX = "_sq_stage_"  # a writer killed midway leaves its table: see services.interrupted_writes


def staging_name(run_id: str) -> str:
    return check_identifier((STAGE_PREFIX + re.sub(r"[^A-Za-z0-9_]", "_", run_id))[:63], "staging table")


class TableWriter:
    def __init__(self, sink: Sink, table: str, mode: str, *, run_id: str,
                 aliases: dict[str, str] | None = None) -> None:
        self.sink = sink
        self.aliases = dict(aliases or {})
        self.notes: list[str] = []
        self._written: list[str] | None = None  # the batch's columns as the table names them
        self.table = table
        self.mode = mode
        self.stage = staging_name(run_id)
        self.run_id = run_id
        self.rows = 0
        self._columns: list[str] | None = None
        self._done = False
        self._staged = False

    # -- context manager -----------------------------------------------------------
    def __enter__(self) -> TableWriter:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        if not self._done:
            self.abort()

    # -- writing -------------------------------------------------------------------
    def write(self, batch: pa.RecordBatch) -> None:
        if self._done:
            raise RuntimeError("this writer is already committed or aborted")
        if self._columns is None:
            self._start(batch.schema)
        elif batch.schema.names != self._columns:
            raise DataError(
                f"Prediction batches changed columns mid-run: {batch.schema.names} after {self._columns}.",
                details={"table": self.table})
        if self._written != self._columns:
            batch = batch.rename_columns(self._written or [])
        with self._errors("write"):
            self.sink.append(self.stage, batch, create=not self._staged)
        self._staged = True
        self.rows += batch.num_rows

    def _start(self, schema: pa.Schema) -> None:
        self._columns = list(schema.names)
        for name in self._columns:
            check_identifier(name, "column name")
        self._written = list(self._columns)
        with self._errors("prepare"):
            self.sink.transaction([f"drop table if exists {self.sink.quote(self.stage)}"])
            existing = self.sink.columns(self.table) if self.mode == "append" or self.aliases else None
        if existing is not None and self.mode == "replace":
            self._renamed_notes(existing)
            existing = None
        if existing is not None and sorted(existing) != sorted(self._columns):
            self._keep_old_names(existing)
        if existing is not None and sorted(existing) != sorted(self._written):
            raise DataError(
                f"Cannot append to table {self.table}: it has columns {', '.join(existing)} but the "
                f"predictions have {', '.join(self._columns)}. Use mode 'replace' or another table name.",
                details={"table": self.table, "table_columns": existing, "columns": self._columns},
            )

    def _keep_old_names(self, existing: list[str]) -> None:
        """Appending to a table written by an earlier release: its old column names stay."""
        have = set(existing)
        old = {c: self.aliases[c] for c in self._columns or []
               if c not in have and self.aliases.get(c) in have}
        written = [old.get(c, c) for c in self._columns or []]
        if old and sorted(written) == sorted(existing):
            self._written = written
            for new, was in old.items():
                self.notes.append(f"Table {self.table} has the column {was!r} from an earlier release; the "
                                  f"appended rows' {new!r} went into it. Replace the table (write mode "
                                  f"'replace') to get the column {new!r}.")

    def _renamed_notes(self, existing: list[str]) -> None:
        have = set(existing)
        for new, was in self.aliases.items():
            if new in (self._columns or []) and was in have and new not in have:
                self.notes.append(f"The column {was!r} of table {self.table} is now {new!r} (it names its "
                                  "class); update queries that read it.")

    def commit(self) -> int:
        """Swap/append the staged rows in one transaction; returns rows written."""
        if self._done:
            raise RuntimeError("this writer is already committed or aborted")
        if not self._staged:
            self._done = True
            self.sink.close()
            return 0
        q = self.sink.quote
        target, stage = q(self.table), q(self.stage)
        if self.mode == "replace":
            statements = [f"drop table if exists {target}", f"alter table {stage} rename to {target}"]
        elif self.sink.columns(self.table) is None:
            statements = [f"alter table {stage} rename to {target}"]
        else:
            cols = ", ".join(q(c) for c in self._written or [])
            statements = [f"insert into {target} ({cols}) select {cols} from {stage}",  # noqa: S608
                          f"drop table {stage}"]
            if "run_id" in (self._written or []) and re.fullmatch(r"[A-Za-z0-9_]+", self.run_id):
                # A run delivered twice appends its rows once: its earlier rows are replaced.
                statements.insert(0, f"delete from {target} where {q('run_id')} = '{self.run_id}'")  # noqa: S608
        try:
            with self._errors("commit"):
                self.sink.transaction(statements)
        except BaseException:
            self.abort()
            raise
        self._done = True
        self.sink.close()
        return self.rows

    def abort(self) -> None:
        """Drop the staging table; the target table is left as it was."""
        if self._done:
            return
        self._done = True
        try:
            if self._staged or self._columns is not None:
                self.sink.transaction([f"drop table if exists {self.sink.quote(self.stage)}"])
        except Exception:  # noqa: BLE001 - best effort; the original error matters more
            pass
        finally:
            self.sink.close()

    @contextmanager
    def _errors(self, step: str) -> Iterator[None]:
        """Driver errors → ``QueryError`` naming the table and the step."""
        try:
            yield
        except SoftqueryError:
            raise
        except driver_error_types() as exc:
            message = clean_message(exc, self.sink.url)
            raise QueryError(
                f"Writing predictions to table {self.table} failed ({step}): {message}",
                details={"table": self.table, "mode": self.mode, "step": step,
                         "url": mask_url(self.sink.url), "database_message": message},
            ) from exc


def open_writer(url: str, table: str, mode: str, *, run_id: str,
                aliases: dict[str, str] | None = None) -> TableWriter:
    """A writer of ``table`` in ``url``; ``mode`` is 'replace' or 'append'; ``aliases``: column ->
    the name an earlier release gave it."""
    check_identifier(table, "table name")
    if mode not in MODES:
        raise InvalidInputError(f"Write mode {mode!r} is not allowed: use 'replace' or 'append'.",
                                details={"field": "mode", "value": mode})
    return TableWriter(open_sink(url), table, mode, run_id=run_id, aliases=aliases)
