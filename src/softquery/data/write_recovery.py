"""Undo what a killed writer left in a data source.

A prediction writes its rows to a staging table and swaps it in at the end
(``softquery.prediction.table_writer``). A writer killed on the way (``kill -9``,
a crash, a lost machine) leaves the staging table behind and, on SQLite, a hot
rollback journal that makes the file unreadable to read-only connections
(``softquery.data.sqlite_journal``). ``recover_writes`` opens the source the way
the writer does, read-write, which on SQLite rolls the journal back, and drops
the staging tables the caller says are over.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from softquery.data.native import existing_file
from softquery.data.sinks import open_sink
from softquery.data.source_urls import dialect_of
from softquery.data.sqlite_journal import pending_journal


@dataclass
class WriteRecovery:
    rolled_back: Path | None = None  # the journal of an interrupted SQLite write, now undone
    dropped: list[str] = field(default_factory=list)  # staging tables of writes that are over
    kept: list[str] = field(default_factory=list)  # staging tables of writes that may still run

    @property
    def changed(self) -> bool:
        return self.rolled_back is not None or bool(self.dropped)


def sqlite_journal_of(url: str) -> Path | None:
    """The pending rollback journal of a SQLite source's file (None: none, or not SQLite)."""
    if dialect_of(url) != "sqlite":
        return None
    path = existing_file(url, "SQLite")
    return None if path is None else pending_journal(path)


def recover_writes(url: str, prefix: str, is_over: Callable[[str], bool]) -> WriteRecovery:
    """Roll back an interrupted SQLite write of ``url`` and drop each table named
    ``prefix…`` for which ``is_over(name)`` is true (the other ones are kept)."""
    journal = sqlite_journal_of(url)
    result = WriteRecovery()
    sink = open_sink(url)
    try:
        staged = [name for name in sink.table_names() if name.startswith(prefix)]
        if journal is not None and sqlite_journal_of(url) is None:
            result.rolled_back = journal
        for name in staged:
            if is_over(name):
                sink.transaction([f"drop table if exists {sink.quote(name)}"])
                result.dropped.append(name)
            else:
                result.kept.append(name)
    finally:
        sink.close()
    return result
