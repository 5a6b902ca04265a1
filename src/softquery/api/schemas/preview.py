"""Query previews: first rows, column types, and what a model would learn from."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from softquery.services.preview import (
    DEFAULT_PREVIEW_ROWS,
    MAX_PREVIEW_ROWS,
    ModelPreview,
    QueryPreview,
)

Limit = Field(DEFAULT_PREVIEW_ROWS, ge=1, le=MAX_PREVIEW_ROWS, description="Rows to return.")


class QueryPreviewRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    sql: str = Field(max_length=1_000_000)
    limit: int = Limit


class ModelPreviewRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    source: str
    train_sql: str = Field(max_length=1_000_000)
    predict_sql: str = Field(max_length=1_000_000)
    label: str | None = Field(None, description="Label column; detected when empty.")
    id_columns: list[str] | None = Field(None, description="Id columns; id and *_id when empty.")
    limit: int = Limit


class ColumnPublic(BaseModel):
    name: str
    type: str = Field(description="Arrow type name, e.g. int64, double, string.")


class PreviewError(BaseModel):
    code: str
    message: str = Field(description="The database's own message, for the analyst.")
    details: dict[str, Any]


class QueryPreviewPublic(BaseModel):
    what: str
    columns: list[ColumnPublic]
    rows: list[list[Any]] = Field(description="Values in column order; dates ISO, bytes hex, NaN null.")
    limit: int
    truncated: bool = Field(description="The query has more rows than were returned.")
    error: PreviewError | None = Field(description="Set when the query failed; columns and rows are empty.")

    @classmethod
    def of(cls, preview: QueryPreview) -> QueryPreviewPublic:
        error = None if preview.error is None else PreviewError(
            code=str(preview.error.get("code")), message=str(preview.error.get("message")),
            details=dict(preview.error.get("details") or {}))
        return cls(what=preview.what, columns=[ColumnPublic(name=c.name, type=c.type) for c in preview.columns],
                   rows=preview.rows, limit=preview.limit, truncated=preview.truncated, error=error)


class ModelPreviewPublic(BaseModel):
    train: QueryPreviewPublic
    predict: QueryPreviewPublic
    label: str | None
    id_columns: list[str]
    features: list[str]
    problems: list[str] = Field(description="What would stop training, in words; empty when fine.")

    @classmethod
    def of(cls, preview: ModelPreview) -> ModelPreviewPublic:
        return cls(train=QueryPreviewPublic.of(preview.train), predict=QueryPreviewPublic.of(preview.predict),
                   label=preview.label, id_columns=preview.id_columns, features=preview.features,
                   problems=preview.problems)
