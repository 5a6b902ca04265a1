"""What one statement answers: a table, a message, or a run (queued, or awaited)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class ResultColumn:
    name: str
    type: str  # Arrow type name: int64, double, string, bool, timestamp[us], list<item: double> …


@dataclass
class Link:
    """A page a result points to (the console links model, version and run pages)."""

    kind: str  # model | version | run | table
    model: str | None = None
    version: int | None = None
    run_id: str | None = None
    source: str | None = None
    table: str | None = None


@dataclass
class StatementResult:
    statement: int  # 1-based index in the script
    line: int
    column: int
    verb: str  # select, create_model, drop_model, load, train, …
    kind: str  # table | message | run
    message: str = ""
    columns: list[ResultColumn] = field(default_factory=list)
    rows: list[list[Any]] = field(default_factory=list)  # JSON-safe values, in column order
    row_count: int = 0  # rows the statement produced (rows may hold fewer: truncated)
    truncated: bool = False
    run_id: str | None = None
    run_status: str | None = None
    links: list[Link] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # e.g. "option kafkaParam is ignored here"
    seconds: float = 0.0


@dataclass
class ScriptResult:
    results: list[StatementResult]
    error: dict[str, Any] | None = None  # the failing statement's error ({"code", "message", "details"})
    failed_statement: int | None = None  # 1-based; the statements before it are in ``results``
    seconds: float = 0.0
