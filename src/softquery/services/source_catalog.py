"""Use case: what a data source holds, for the editor's table browser and SQL completion.

Tables and views with their columns and row counts, read-only and time-limited like a
preview (same permission). Row counts stay cheap on big tables: the database's estimate
where it keeps one (PostgreSQL, DuckDB, MySQL), else a count that stops at
``COUNT_CAP`` rows, each under ``COUNT_SECONDS`` and all within ``COUNT_BUDGET_SECONDS``
(a table left over says its rows were not counted).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from softquery.data import open_source
from softquery.data.catalog import CatalogTable, count_rows, list_tables, read_columns
from softquery.errors import SoftqueryError
from softquery.services.context import ServiceContext

MAX_TABLES = 200
COUNT_CAP = 1_000_000
COUNT_SECONDS = 2.0
COUNT_BUDGET_SECONDS = 5.0
LIST_SECONDS = 15.0

__all__ = ["CatalogTable", "SourceCatalog", "describe_source"]


@dataclass
class SourceCatalog:
    source: str
    dialect: str = ""
    tables: list[CatalogTable] = field(default_factory=list)
    truncated: bool = False  # the source has more than MAX_TABLES tables and views
    error: dict[str, Any] | None = None  # {"code", "message", "details"} when the source cannot be read


def describe_source(ctx: ServiceContext, source: str, *, max_tables: int = MAX_TABLES,
                    count_budget: float = COUNT_BUDGET_SECONDS) -> SourceCatalog:
    """The tables of ``source`` (NotFoundError for an unknown one); a source that cannot be
    read is a result with ``error``, like a preview."""
    url = ctx.sources.get(source).url
    catalog = SourceCatalog(source=source)
    timeout = min(ctx.settings.statement_timeout_seconds, LIST_SECONDS)
    try:
        with open_source(url, timeout=timeout) as conn:
            catalog.dialect = conn.dialect
            catalog.tables, catalog.truncated = list_tables(conn, limit=max_tables)
            read_columns(conn, catalog.tables)
            deadline = time.monotonic() + count_budget
            for table in catalog.tables:
                left = deadline - time.monotonic()
                if left <= 0.05:
                    break
                conn.timeout = min(COUNT_SECONDS, left, timeout)
                count_rows(conn, table, cap=COUNT_CAP)
    except SoftqueryError as exc:  # SourceError (connection), QueryError (catalog refused)
        catalog.error = exc.to_dict()
    return catalog
