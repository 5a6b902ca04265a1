"""What a data source holds: its tables and views, their columns, and row counts that stay
cheap on big tables (the database's own estimate where it keeps one, else a count that
stops at a cap, under the connection's statement time limit).

Everything is read through a ``SourceConnection`` (read-only, time-limited) with plain
SELECTs on each dialect's catalog; only SQLite's declared column types come from its own
``pragma table_info`` on a separate read-only connection (the reader's guard refuses
pragmas in queries).
"""

from __future__ import annotations

import contextlib
import sqlite3
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import pyarrow as pa

from softquery.data.connection import SourceConnection
from softquery.data.native import existing_file
from softquery.data.sinks import quoter
from softquery.errors import QueryError, SoftqueryError

# Columns every listing query returns: table_schema (NULL: the connection's default
# schema), table_name, table_kind ('table' | 'view'), estimate (NULL: none kept).
_LIST_SQL = {
    "sqlite": (
        "select null as table_schema, name as table_name, type as table_kind, null as estimate "
        "from sqlite_master where type in ('table', 'view') and name not like 'sqlite\\_%' escape '\\' "
        "order by name"
    ),
    "postgresql": (
        "select case when n.nspname = current_schema() then null else n.nspname end as table_schema, "
        "c.relname as table_name, case when c.relkind in ('v', 'm') then 'view' else 'table' end as table_kind, "
        "case when c.reltuples >= 0 then c.reltuples::bigint end as estimate "
        "from pg_class c join pg_namespace n on n.oid = c.relnamespace "
        "where c.relkind in ('r', 'p', 'v', 'm', 'f') and not c.relispartition "
        "and n.nspname not in ('pg_catalog', 'information_schema') and n.nspname not like 'pg\\_toast%' "
        "and n.nspname not like 'pg\\_temp%' and has_table_privilege(c.oid, 'select') "
        "order by n.nspname <> current_schema(), n.nspname, c.relname"
    ),
    "duckdb": (
        "select case when schema_name = current_schema() then null else schema_name end as table_schema, "
        "table_name, 'table' as table_kind, estimated_size as estimate from duckdb_tables() "
        "where not internal and database_name = current_database() "
        "union all select case when schema_name = current_schema() then null else schema_name end, "
        "view_name, 'view', null from duckdb_views() where not internal and database_name = current_database() "
        "order by table_schema nulls first, table_name"
    ),
    "mysql": (
        "select null as table_schema, table_name as table_name, "
        "case when table_type = 'VIEW' then 'view' else 'table' end as table_kind, table_rows as estimate "
        "from information_schema.tables where table_schema = database() order by table_name"
    ),
}
_LIST_SQL["mariadb"] = _LIST_SQL["mysql"]
_GENERIC_LIST_SQL = (
    "select table_schema as table_schema, table_name as table_name, "
    "case when table_type = 'VIEW' then 'view' else 'table' end as table_kind, null as estimate "
    "from information_schema.tables where table_schema not in ('information_schema', 'pg_catalog', 'sys') "
    "order by table_schema, table_name"
)


@dataclass
class CatalogColumn:
    name: str
    type: str  # SQLite: the declared type; elsewhere the Arrow type a query reads it as
    sql_name: str  # how a query names it (quoted only where the dialect needs it)


@dataclass
class CatalogTable:
    name: str  # as the database spells it
    schema: str | None  # None: the connection's default schema
    kind: str  # "table" | "view"
    sql_name: str  # how a query names it (quoted only where the dialect needs it)
    estimate: int | None = None  # the database's own row estimate
    rows: int | None = None  # exact count, the estimate, or the cap (see ``rows_are``)
    rows_are: str = "unknown"  # "exact" | "estimate" | "at_least" | "unknown"
    columns: list[CatalogColumn] = field(default_factory=list)
    error: str | None = None  # why the columns could not be read


def _value(table: pa.Table, name: str) -> list[Any]:
    return list(table.column(name).to_pylist())


def list_tables(conn: SourceConnection, *, limit: int) -> tuple[list[CatalogTable], bool]:
    """The first ``limit`` tables and views of the source, and whether there are more."""
    sql = _LIST_SQL.get(conn.dialect, _GENERIC_LIST_SQL)
    found = conn.read_table(sql, what="list of tables")
    preparer = quoter(conn.dialect, conn.url)
    tables: list[CatalogTable] = []
    for schema, name, kind, estimate in zip(_value(found, "table_schema"), _value(found, "table_name"),
                                            _value(found, "table_kind"), _value(found, "estimate"), strict=True):
        if len(tables) == limit:
            return tables, True
        sql_name = str(preparer.quote(str(name)))
        if schema is not None:
            sql_name = f"{preparer.quote(str(schema))}.{sql_name}"
        tables.append(CatalogTable(name=str(name), schema=None if schema is None else str(schema),
                                   kind="view" if str(kind).lower() == "view" else "table", sql_name=sql_name,
                                   estimate=None if estimate is None else max(int(estimate), 0)))
    return tables, False


def read_columns(conn: SourceConnection, tables: list[CatalogTable]) -> None:
    """Fill in each table's columns (a table whose columns cannot be read gets ``error``)."""
    declared = _sqlite_declared_types(conn.url, tables) if conn.dialect == "sqlite" else {}
    preparer = quoter(conn.dialect, conn.url)
    for table in tables:
        try:
            schema = conn.query_schema(f"select * from {table.sql_name}", what=f"table {table.name}")  # noqa: S608
        except SoftqueryError as exc:
            table.error = exc.message
            continue
        types = declared.get(table.name, {})
        table.columns = [CatalogColumn(f.name, types.get(f.name, str(f.type)), str(preparer.quote(f.name)))
                         for f in schema]


def _sqlite_declared_types(url: str, tables: list[CatalogTable]) -> dict[str, dict[str, str]]:
    path = existing_file(url, "SQLite")
    if path is None:
        return {}
    out: dict[str, dict[str, str]] = {}
    with contextlib.closing(sqlite3.connect(f"file:{quote(str(path))}?mode=ro", uri=True)) as db:
        db.execute("pragma query_only = 1")
        for table in tables:
            try:
                rows = db.execute("select name, type from pragma_table_info(?)", (table.name,)).fetchall()
            except sqlite3.Error:
                continue
            out[table.name] = {str(name): str(typ or "").lower() for name, typ in rows if typ}
    return out


def count_rows(conn: SourceConnection, table: CatalogTable, *, cap: int) -> None:
    """Set ``table.rows``: the estimate when the database keeps one above ``cap``, else a
    count of at most ``cap + 1`` rows (more: ``at_least`` cap). A count that hits the
    connection's time limit leaves the estimate, or nothing."""
    if table.estimate is not None and table.estimate > cap:
        table.rows, table.rows_are = table.estimate, "estimate"
        return
    sql = f"select count(*) as n from (select 1 as one from {table.sql_name} limit {int(cap) + 1}) as _sq_count"  # noqa: S608
    try:
        counted = conn.preview(sql, what=f"row count of {table.name}", limit=1)
    except (QueryError, SoftqueryError):
        if table.estimate is not None:
            table.rows, table.rows_are = table.estimate, "estimate"
        return
    n = int(counted.column("n")[0].as_py())
    table.rows, table.rows_are = (cap, "at_least") if n > cap else (n, "exact")
