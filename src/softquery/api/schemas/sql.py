"""SQL statements: POST /sql (a script in, one result per statement out), the user's history,
and what the console completes."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from urllib.parse import quote

from pydantic import BaseModel, ConfigDict, Field

from softquery.domain.sql_history import SqlHistoryEntry
from softquery.services.sql_completions import Completions
from softquery.services.sql_requests import MAX_SCRIPT_CHARS
from softquery.services.sql_results import Link, ScriptResult, StatementResult


class SqlRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    sql: str = Field(max_length=MAX_SCRIPT_CHARS, description="One or more statements separated by `;` "
                     "(`--` and `/* */` comments; `${var}` replaced from `params`).",
                     examples=["select * from houses limit 5"])
    source: str | None = Field(None, max_length=63, description="The data source statements read when they "
                               "name none (`source.table` names another).", examples=["demo"])
    params: dict[str, str] = Field(default_factory=dict, description="Values of `${var}` in `sql`.")
    wait: bool = Field(False, description="Wait for the runs statements start (train, batch predict) and answer "
                       "their outcome; false answers each such statement with its run id at once.")


class ColumnPublic(BaseModel):
    name: str
    type: str = Field(description="Arrow type name: int64, double, string, bool, timestamp[us] …")


class LinkPublic(BaseModel):
    kind: str = Field(description="model | version | run | table")
    model: str | None = None
    version: int | None = None
    run_id: str | None = None
    source: str | None = None
    table: str | None = None
    href: str | None = Field(None, description="The web page of what the link names.")

    @classmethod
    def of(cls, link: Link) -> LinkPublic:
        return cls(kind=link.kind, model=link.model, version=link.version, run_id=link.run_id,
                   source=link.source, table=link.table, href=_href(link))


def _href(link: Link) -> str | None:
    if link.kind == "run" and link.run_id:
        return f"/runs/{quote(link.run_id)}"
    if link.kind == "version" and link.model and link.version is not None:
        return f"/models/{quote(link.model)}/versions/{link.version}"
    if link.kind in ("model", "table") and link.model:
        return f"/models/{quote(link.model)}" + ("/output" if link.kind == "table" else "")
    return None


class StatementResultPublic(BaseModel):
    statement: int = Field(description="1-based number of the statement in the script.")
    line: int
    column: int
    verb: str = Field(description="select, create_model, drop_model, load, train …")
    kind: str = Field(description="table | message | run")
    message: str
    columns: list[ColumnPublic]
    rows: list[list[Any]]
    row_count: int = Field(description="Rows the statement produced; `rows` holds at most the first 1,000.")
    truncated: bool
    run_id: str | None
    run_status: str | None
    links: list[LinkPublic]
    notes: list[str] = Field(description="Things to know, such as options that have no meaning here.")
    seconds: float

    @classmethod
    def of(cls, result: StatementResult) -> StatementResultPublic:
        return cls(statement=result.statement, line=result.line, column=result.column, verb=result.verb,
                   kind=result.kind, message=result.message,
                   columns=[ColumnPublic(name=c.name, type=c.type) for c in result.columns],
                   rows=result.rows, row_count=result.row_count, truncated=result.truncated,
                   run_id=result.run_id, run_status=result.run_status,
                   links=[LinkPublic.of(link) for link in result.links], notes=result.notes,
                   seconds=result.seconds)


class StatementError(BaseModel):
    code: str
    message: str
    details: dict[str, Any] = Field(description="`line`, `column`, `excerpt` (the line with a caret) and, "
                                    "where a known name is close, `suggestion`.")


class SqlAnswer(BaseModel):
    """One result per statement that ran; when one failed, its error and number (the script stopped there)."""

    results: list[StatementResultPublic]
    error: StatementError | None = None
    failed_statement: int | None = Field(None, description="1-based; the statements before it are in `results`.")
    seconds: float

    @classmethod
    def of(cls, script: ScriptResult) -> SqlAnswer:
        error = None
        if script.error is not None:
            error = StatementError(code=str(script.error.get("code", "error")),
                                   message=str(script.error.get("message", "")),
                                   details=dict(script.error.get("details") or {}))
        return cls(results=[StatementResultPublic.of(r) for r in script.results], error=error,
                   failed_statement=script.failed_statement, seconds=script.seconds)


class SqlHistoryPublic(BaseModel):
    id: int
    at: datetime
    source: str | None
    sql: str
    statements: int
    error: str | None
    seconds: float

    @classmethod
    def of(cls, entry: SqlHistoryEntry) -> SqlHistoryPublic:
        return cls(id=entry.id, at=entry.at, source=entry.source, sql=entry.sql, statements=entry.statements,
                   error=entry.error, seconds=entry.seconds)


class CompletionTablePublic(BaseModel):
    name: str
    sql_name: str
    columns: list[str]


class CompletionsPublic(BaseModel):
    source: str | None
    tables: list[CompletionTablePublic]
    models: list[str] = Field(description="The models the caller can see.")
    functions: list[str] = Field(description="The ML table functions statements may call (ML.PREDICT …).")
    words: list[str]
    options: list[str] = Field(description="CREATE MODEL's OPTIONS(...) names.")
    model_types: list[str] = Field(description="The values OPTIONS(model_type=...) takes.")
    type_options: dict[str, list[str]] = Field(description="The OPTIONS(...) names that apply to each model type.")
    option_values: dict[str, list[str]] = Field(
        description="The values of the OPTIONS(...) that take one of a known few (write_mode, deploy …).")
    error: dict[str, Any] | None

    @classmethod
    def of(cls, found: Completions) -> CompletionsPublic:
        return cls(source=found.source, models=found.models, functions=found.functions, words=found.words,
                   options=found.options, model_types=found.model_types, type_options=found.type_options,
                   option_values=found.option_values, error=found.error,
                   tables=[CompletionTablePublic(name=t.name, sql_name=t.sql_name, columns=t.columns)
                           for t in found.tables])
