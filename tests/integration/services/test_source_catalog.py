"""The editor's table browser use case on real backends: tables and views with their
columns and row counts (bounded: an estimate or a capped count), read-only, and a source
that cannot be read as a result with ``error``. Run on SQLite, DuckDB and PostgreSQL."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from softquery.config import Settings
from softquery.errors import NotFoundError
from softquery.services import source_catalog, sources
from softquery.services.context import ServiceContext, open_context
from softquery.services.home import init_home

DDL = [
    "create table houses (id integer, price real, quality integer)",
    "insert into houses values (1, 10.5, 1), (2, 20.0, 0), (3, 15.25, 1), (4, 30.0, 0)",
    "create table empty_one (a integer, b text)",
    'create table "Odd Name" ("Some Column" integer, plain integer)',
    "create view cheap_houses as select id, price from houses where price < 20",
]
ENDLESS = ("create view endless as with recursive n(x) as (select 1 union all select x + 1 from n) "
           "select x from n")


def _sqlite(path: Path) -> str:
    with sqlite3.connect(path) as conn:
        for statement in DDL:
            conn.execute(statement)
    conn.close()
    return f"sqlite:///{path}"


def _duckdb(path: Path) -> str:
    import duckdb

    conn = duckdb.connect(str(path))
    try:
        for statement in DDL:
            conn.execute(statement)
    finally:
        conn.close()
    return f"duckdb:///{path}"


def _postgres(url: str) -> str:
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        for statement in DDL:
            conn.execute(statement)
        conn.execute("create schema other")
        conn.execute("create table other.elsewhere (x integer)")
        conn.execute("analyze")
    return url


@pytest.fixture(params=["sqlite", "duckdb", pytest.param("postgresql", marks=pytest.mark.postgres)])
def ctx(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[ServiceContext]:
    settings = Settings(home=tmp_path / "home", secret_key=None)
    init_home(settings)
    context = open_context(settings)
    if request.param == "sqlite":
        url = _sqlite(tmp_path / "source.db")
    elif request.param == "duckdb":
        url = _duckdb(tmp_path / "source.duckdb")
    else:
        url = _postgres(str(request.getfixturevalue("pg_database")))
    sources.add_source(context, "src", url)
    try:
        yield context
    finally:
        context.close()


def test_tables_views_columns_and_exact_counts(ctx: ServiceContext) -> None:
    catalog = source_catalog.describe_source(ctx, "src")
    assert catalog.error is None and not catalog.truncated
    by_name = {t.name: t for t in catalog.tables}
    assert {"houses", "empty_one", "Odd Name", "cheap_houses"} <= set(by_name)
    houses = by_name["houses"]
    assert (houses.kind, houses.sql_name, houses.rows, houses.rows_are) == ("table", "houses", 4, "exact")
    assert [c.name for c in houses.columns] == ["id", "price", "quality"]
    assert all(c.type for c in houses.columns)
    assert (by_name["empty_one"].rows, by_name["empty_one"].rows_are) == (0, "exact")
    view = by_name["cheap_houses"]
    assert (view.kind, view.rows, [c.name for c in view.columns]) == ("view", 2, ["id", "price"])
    odd = by_name["Odd Name"]
    assert odd.sql_name == '"Odd Name"' and odd.rows == 0
    assert [(c.name, c.sql_name) for c in odd.columns] == [("Some Column", '"Some Column"'), ("plain", "plain")]
    if catalog.dialect == "sqlite":
        assert [c.type for c in houses.columns] == ["integer", "real", "integer"]  # declared types
    if catalog.dialect == "postgresql":
        assert by_name["elsewhere"].schema == "other" and by_name["elsewhere"].sql_name == "other.elsewhere"
        assert catalog.tables[-1].name == "elsewhere"  # the default schema's tables first


def test_counts_stay_bounded(ctx: ServiceContext, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(source_catalog, "COUNT_CAP", 2)
    houses = next(t for t in source_catalog.describe_source(ctx, "src").tables if t.name == "houses")
    if houses.estimate is not None and houses.estimate > 2:  # PostgreSQL after ANALYZE, DuckDB
        assert (houses.rows, houses.rows_are) == (houses.estimate, "estimate")
    else:  # a count that stops after cap + 1 rows
        assert (houses.rows, houses.rows_are) == (2, "at_least")
    # no time left for counting: no row counts, the tables and columns all the same
    uncounted = source_catalog.describe_source(ctx, "src", count_budget=0)
    assert all(t.rows is None and t.rows_are == "unknown" for t in uncounted.tables)
    assert next(t for t in uncounted.tables if t.name == "houses").columns


def test_more_tables_than_shown_says_so(ctx: ServiceContext) -> None:
    catalog = source_catalog.describe_source(ctx, "src", max_tables=2)
    assert len(catalog.tables) == 2 and catalog.truncated


def test_unknown_and_unreadable_sources(ctx: ServiceContext, tmp_path: Path) -> None:
    with pytest.raises(NotFoundError):
        source_catalog.describe_source(ctx, "nope")
    missing = tmp_path / "gone.db"
    sources.add_source(ctx, "gone", f"sqlite:///{missing}", test=False)
    catalog = source_catalog.describe_source(ctx, "gone")
    assert catalog.tables == [] and catalog.error is not None
    assert "does not exist" in catalog.error["message"]


def test_a_count_that_takes_too_long_is_stopped(ctx: ServiceContext, monkeypatch: pytest.MonkeyPatch,
                                                tmp_path: Path) -> None:
    """A view with endless rows: its count hits the time limit; the rest is still counted."""
    url = sources.get_source_url(ctx, "src")
    if url.startswith("sqlite"):
        with sqlite3.connect(url.removeprefix("sqlite:///")) as conn:
            conn.execute(ENDLESS)
        conn.close()
    elif url.startswith("duckdb"):
        import duckdb

        dconn = duckdb.connect(url.removeprefix("duckdb:///"))
        dconn.execute(ENDLESS)
        dconn.close()
    else:
        import psycopg

        with psycopg.connect(url, autocommit=True) as pconn:
            pconn.execute(ENDLESS)
    monkeypatch.setattr(source_catalog, "COUNT_CAP", 10**12)
    monkeypatch.setattr(source_catalog, "COUNT_SECONDS", 0.5)
    started = time.monotonic()
    catalog = source_catalog.describe_source(ctx, "src", count_budget=30)
    assert time.monotonic() - started < 15
    by_name = {t.name: t for t in catalog.tables}
    assert (by_name["endless"].rows, by_name["endless"].rows_are) == (None, "unknown")
    assert [c.name for c in by_name["endless"].columns] == ["x"]
    assert (by_name["houses"].rows, by_name["houses"].rows_are) == (4, "exact")
