"""Train, predict and preview queries cannot write, on real SQLite, DuckDB and PostgreSQL."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from tests.security.conftest import run_sql, user_rows

from softquery.data import open_source
from softquery.errors import QueryError

REFUSED_EVERYWHERE = [
    "select 1; drop table users",
    "select 1 as x;\ndrop table users;",
    "select * from users; delete from users",
    "drop table users",
    "delete from users",
    "update users set name = 'eve'",
    "insert into users values (3, 'eve')",
    "create table stolen as select * from users",
    "alter table users rename to gone",
    "/* hi */ drop table users",
    "-- comment\ndelete from users",
    "select 1; select 2",
]

WRITES_INSIDE_READS = {
    "postgresql": ["with d as (delete from users returning *) select * from d",
                   "select 1 from users for update",
                   "select set_config('default_transaction_read_only', 'off', false); delete from users"],
    "sqlite": ["with x as (select 1) delete from users", "attach database ':memory:' as other",
               "pragma query_only = 0", "select 1; pragma query_only=0", "vacuum"],
    "duckdb": ["copy users to '/tmp/softquery_stolen.csv'", "attach '/tmp/softquery_new.duckdb' as x",
               "with d as (select 1) delete from users"],
}

MESSAGE = "tried to change the database; queries in softquery can only read"


def _dialect(url: str) -> str:
    return "postgresql" if url.startswith("postgresql") else url.split(":", 1)[0]


def _attempt(url: str, sql: str, kind: str) -> QueryError:
    with open_source(url, timeout=10) as conn, pytest.raises(QueryError) as info:
        if kind == "train":
            conn.read_table(sql, what="train query")
        elif kind == "predict":
            _, batches = conn.read_batches(sql, what="predict query")
            list(batches)
        elif kind == "schema":
            conn.query_schema(sql, what="predict query")
        else:
            conn.preview(sql, what="train query")
    return info.value


@pytest.mark.parametrize("kind", ["train", "predict", "schema", "preview"])
@pytest.mark.parametrize("sql", REFUSED_EVERYWHERE)
def test_writing_queries_are_refused(users_url: str, sql: str, kind: str) -> None:
    error = _attempt(users_url, sql, kind)
    if sql == "select 1; select 2":
        assert "2 statements" in error.message
    else:
        assert MESSAGE in error.message, error.message
        assert error.message.startswith(("The train query", "The predict query"))
    assert user_rows(users_url) == [(1, "ada"), (2, "bob")]
    names = run_sql(users_url, "select count(*) from users")
    assert names == [(2,)]


@pytest.mark.parametrize("kind", ["train", "predict", "preview"])
def test_backend_specific_writes_are_refused(users_url: str, kind: str, tmp_path: Path) -> None:
    for sql in WRITES_INSIDE_READS[_dialect(users_url)]:
        error = _attempt(users_url, sql, kind)
        # DuckDB parses a query inside ``select * from (...)``: a write there is a syntax error
        refused = (MESSAGE, "statements") + (("syntax error",) if _dialect(users_url) == "duckdb" else ())
        assert any(text in error.message for text in refused), (sql, error.message)
        assert user_rows(users_url) == [(1, "ada"), (2, "bob")]
    assert not Path("/tmp/softquery_new.duckdb").exists()


def test_sqlite_attach_cannot_create_a_file(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'a.db'}"
    run_sql(url, "create table users (id integer)")
    target = tmp_path / "created.db"
    with open_source(url) as conn:
        # the guard refuses ATTACH even hidden after a comment or in odd case
        for sql in (f"AtTaCh DATABASE '{target}' AS x", f"/* x */ attach '{target}' as x"):
            with pytest.raises(QueryError, match="can only read"):
                conn.read_table(sql, what="train query")
    assert not target.exists()


def test_reads_still_work(users_url: str) -> None:
    with open_source(users_url, timeout=10) as conn:
        assert conn.read_table("select name from users order by id;", what="train query").column("name").to_pylist() == ["ada", "bob"]
        assert conn.read_table("with u as (select * from users) select count(*) as n from u",
                               what="train query").column("n").to_pylist() == [2]
        assert conn.preview("select ';' as semi, 'drop table users' as s from users -- ; drop",
                            what="train query", limit=5).num_rows == 2
        _, batches = conn.read_batches("select * from users", what="predict query", chunk_rows=1)
        assert sum(b.num_rows for b in batches) == 2
    assert user_rows(users_url) == [(1, "ada"), (2, "bob")]


RUNAWAY = "with recursive r(i) as (select 1 union all select i + 1 from r) select count(*) as n from r"


@pytest.mark.parametrize("kind", ["train", "predict", "preview"])
def test_runaway_query_times_out(users_url: str, kind: str) -> None:
    started = time.monotonic()
    with open_source(users_url, timeout=1.5) as conn, pytest.raises(QueryError) as info:
        if kind == "train":
            conn.read_table(RUNAWAY, what="train query")
        elif kind == "predict":
            _, batches = conn.read_batches(RUNAWAY, what="predict query")
            list(batches)
        else:
            conn.preview(RUNAWAY, what="train query")
    elapsed = time.monotonic() - started
    assert "statement time limit of 1.5 seconds" in info.value.message, info.value.message
    assert info.value.details["reason"] == "statement_timeout"
    assert elapsed < 6, elapsed


def test_connection_usable_after_a_timeout_pg_duckdb(users_url: str) -> None:
    if users_url.startswith("sqlite"):
        pytest.skip("an abandoned SQLite statement keeps its connection; a new one is opened")
    with open_source(users_url, timeout=1) as conn:
        with pytest.raises(QueryError, match="time limit"):
            conn.read_table(RUNAWAY, what="train query")
        assert conn.read_table("select count(*) as n from users", what="train query").column("n").to_pylist() == [2]


def test_duckdb_queries_cannot_read_server_files(tmp_path: Path) -> None:
    """A DuckDB source's queries see its database only: not the secret key, not any file."""
    url = f"duckdb:///{tmp_path / 'w.duckdb'}"
    run_sql(url, "create table users as select 1 as id")
    secret = tmp_path / "secret.key"
    secret.write_text("a,b\nsq-secret,1\n")
    for sql in (f"select * from read_csv('{secret}')", f"select * from '{secret}'",
                f"select content from read_text('{secret}')"):
        with open_source(url) as conn, pytest.raises(QueryError) as info:
            conn.preview(sql, what="train query")
        assert "sq-secret" not in info.value.message  # refused (file access disabled), never read
        assert "disabled" in info.value.message or "does not exist" in info.value.message, info.value.message
    with open_source(url) as conn:  # and the database itself still reads
        assert conn.read_table("select id from users", what="train query").num_rows == 1
