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
from softquery.services.source_catalog import CatalogTable, SourceCatalog

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


class CatalogColumnPublic(BaseModel):
    name: str
    type: str = Field(description="SQLite: the declared type; elsewhere the Arrow type a query reads.")
    sql_name: str = Field(description="The name as a query writes it (quoted where the dialect needs it).")


class CatalogTablePublic(BaseModel):
    name: str
    schema_name: str | None = Field(description="Its schema; null: the connection's default schema.")
    kind: str = Field(description="table or view.")
    sql_name: str = Field(description="The name as a query writes it (schema-qualified outside the default).")
    rows: int | None = Field(description="Row count, estimate or cap (see rows_are); null: not counted.")
    rows_are: str = Field(description="exact, estimate (the database's own), at_least (a count that stopped "
                                      "at the cap) or unknown (no time left to count).")
    columns: list[CatalogColumnPublic]
    error: str | None = Field(description="Why its columns could not be read.")

    @classmethod
    def of(cls, table: CatalogTable) -> CatalogTablePublic:
        return cls(name=table.name, schema_name=table.schema, kind=table.kind, sql_name=table.sql_name,
                   rows=table.rows, rows_are=table.rows_are, error=table.error,
                   columns=[CatalogColumnPublic(name=c.name, type=c.type, sql_name=c.sql_name)
                            for c in table.columns])


class SourceCatalogPublic(BaseModel):
    source: str
    dialect: str
    tables: list[CatalogTablePublic]
    truncated: bool = Field(description="The source has more tables than were listed.")
    error: PreviewError | None = Field(description="Set when the source could not be read.")

    @classmethod
    def of(cls, catalog: SourceCatalog) -> SourceCatalogPublic:
        error = None if catalog.error is None else PreviewError(
            code=str(catalog.error.get("code")), message=str(catalog.error.get("message")),
            details=dict(catalog.error.get("details") or {}))
        return cls(source=catalog.source, dialect=catalog.dialect, truncated=catalog.truncated, error=error,
                   tables=[CatalogTablePublic.of(t) for t in catalog.tables])
