"""Use cases: preview a query's first rows and what a model definition would learn from.

Only SQL runs here (through the data source's reader, with a row limit); no
user Python is executed. A query the database refuses is a result (``error``),
not an exception: the editor shows the database's message next to the query.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import pyarrow as pa

from softquery.data import detect_id_columns, detect_label, open_source
from softquery.errors import DataError, InvalidInputError, SoftqueryError
from softquery.services.context import ServiceContext

MAX_PREVIEW_ROWS = 1000
DEFAULT_PREVIEW_ROWS = 20
PREVIEW_TIMEOUT_SECONDS = 30.0  # previews run in the server process


@dataclass
class PreviewColumn:
    name: str
    type: str  # Arrow type name, e.g. int64, double, string, timestamp[us]


@dataclass
class QueryPreview:
    what: str
    columns: list[PreviewColumn] = field(default_factory=list)
    rows: list[list[Any]] = field(default_factory=list)  # JSON-safe values, in column order
    limit: int = DEFAULT_PREVIEW_ROWS
    truncated: bool = False  # the query has more rows than were returned
    error: dict[str, Any] | None = None  # {"code", "message", "details"} when the query failed

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]


@dataclass
class ModelPreview:
    train: QueryPreview
    predict: QueryPreview
    label: str | None = None
    id_columns: list[str] = field(default_factory=list)
    features: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def json_safe(value: Any) -> Any:
    """A JSON-ready copy: dates/times as ISO text, bytes as hex, NaN/inf as None."""
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, Decimal):
        return float(value) if value.is_finite() else None
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, dt.timedelta):
        return value.total_seconds()
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value).hex()
    if isinstance(value, dict):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [json_safe(v) for v in value]
    return str(value)


def _rows(table: pa.Table) -> list[list[Any]]:
    columns = [table.column(i).to_pylist() for i in range(table.num_columns)]
    return [[json_safe(col[r]) for col in columns] for r in range(table.num_rows)]


def _clamp(limit: int) -> int:
    if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
        raise InvalidInputError(f"The preview row limit must be a whole number from 1 to {MAX_PREVIEW_ROWS}.",
                                details={"field": "limit", "value": str(limit)})
    return min(limit, MAX_PREVIEW_ROWS)


def _timeout(ctx: ServiceContext) -> float:
    """Previews run in the server process: at most PREVIEW_TIMEOUT_SECONDS."""
    return min(ctx.settings.statement_timeout_seconds, PREVIEW_TIMEOUT_SECONDS)


def _run_preview(url: str, sql: str, what: str, limit: int, timeout: float) -> QueryPreview:
    preview = QueryPreview(what=what, limit=limit)
    if not sql or not sql.strip():
        preview.error = InvalidInputError(f"The {what} is empty; write the SELECT that returns its rows.",
                                          details={"query": what}).to_dict()
        return preview
    try:
        with open_source(url, timeout=timeout) as conn:
            table = conn.preview(sql, what=what, limit=limit + 1)
    except SoftqueryError as exc:  # QueryError (the database's message), SourceError (connection)
        preview.error = exc.to_dict()
        return preview
    preview.columns = [PreviewColumn(f.name, str(f.type)) for f in table.schema]
    preview.truncated = table.num_rows > limit
    preview.rows = _rows(table.slice(0, limit))
    return preview


def preview_query(ctx: ServiceContext, source: str, sql: str, *, what: str = "query",
                  limit: int = DEFAULT_PREVIEW_ROWS) -> QueryPreview:
    """The first ``limit`` rows of ``sql`` on ``source`` (NotFoundError for an unknown source)."""
    url = ctx.sources.get(source).url
    return _run_preview(url, sql, what, _clamp(limit), _timeout(ctx))


def preview_model(ctx: ServiceContext, source: str, train_sql: str, predict_sql: str,
                  label: str | None = None, id_columns: list[str] | None = None,
                  limit: int = DEFAULT_PREVIEW_ROWS) -> ModelPreview:
    """Both queries' first rows plus the label, id columns and features training would use."""
    url = ctx.sources.get(source).url
    limit = _clamp(limit)
    result = ModelPreview(train=_run_preview(url, train_sql, "train query", limit, _timeout(ctx)),
                          predict=_run_preview(url, predict_sql, "predict query", limit, _timeout(ctx)))
    for part in (result.train, result.predict):
        if part.error is not None:
            result.problems.append(str(part.error["message"]))
    if result.train.error is not None:
        return result
    train_columns = result.train.column_names
    label_known = False
    if result.predict.error is None or label:
        try:
            result.label = detect_label(train_columns, result.predict.column_names, label or None)
            label_known = True
        except DataError as exc:
            prefix = "" if label else "label could not be detected: "
            result.problems.append(prefix + exc.message)
    try:
        result.id_columns = detect_id_columns(train_columns, id_columns or None)
    except DataError as exc:
        result.problems.append(exc.message)
    excluded = set(result.id_columns) | ({result.label} if result.label else set())
    result.features = [name for name in train_columns if name not in excluded]
    if not result.features:
        result.problems.append("No feature columns are left once the label and id columns are set aside; "
                               "add the columns the model should learn from to the train query.")
    elif label_known and result.predict.error is None:
        missing = [name for name in result.features if name not in result.predict.column_names]
        if missing:
            result.problems.append("The predict query lacks feature column(s) " + ", ".join(missing)
                                   + " that the train query has; select them in the predict query.")
    return result
