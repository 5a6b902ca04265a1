"""Shared fixtures: a real PostgreSQL per session, fresh databases per test,
and small SQLite / DuckDB source files."""

from __future__ import annotations

import importlib.util
import os
import shutil
import sqlite3
import sys
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from hypothesis import settings as hypothesis_settings

# Property-based tests draw the same examples on every `make test` (what CI runs): a rare case
# they could find must not fail one CI run and pass the next. `SOFTQUERY_FUZZ=explore make test`
# draws new examples each run (do that after changing what they test).
hypothesis_settings.register_profile("repeatable", derandomize=True)
hypothesis_settings.register_profile("explore", derandomize=False)
hypothesis_settings.load_profile("explore" if os.environ.get("SOFTQUERY_FUZZ") == "explore" else "repeatable")


def _load_pgserver() -> ModuleType:
    """tests/pgserver.py, whatever pytest's import mode put on sys.path."""
    try:
        import tests.pgserver as module
    except ImportError:
        spec = importlib.util.spec_from_file_location("softquery_tests_pgserver", Path(__file__).with_name("pgserver.py"))
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[spec.name] = module
        spec.loader.exec_module(module)
    return module


_pgserver = _load_pgserver()
PostgresServer = _pgserver.PostgresServer
PostgresUnavailable = _pgserver.PostgresUnavailable

SAMPLE_ROWS = [
    (1, 10.5, 3, "red", 1),
    (2, 20.0, 4, "blue", 0),
    (3, 15.25, 2, "red", 1),
    (4, 30.0, 5, "green", 0),
]
SAMPLE_DDL = "create table houses (id integer, price real, rooms integer, color text, quality integer)"


@pytest.fixture(scope="session")
def pg_server() -> Iterator[Any]:
    """A real PostgreSQL started for this session (fails, never skips, without binaries)."""
    server = PostgresServer()
    try:
        server.start()
    except PostgresUnavailable as exc:
        server.stop()
        pytest.fail(str(exc), pytrace=False)
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def pg_url(pg_server: Any) -> str:
    """URL of the maintenance DB of the session's PostgreSQL."""
    return pg_server.url


@pytest.fixture
def pg_database(pg_server: Any) -> Iterator[str]:
    """A fresh, empty PostgreSQL database for one test; dropped afterwards."""
    name = f"t_{uuid.uuid4().hex[:12]}"
    url = pg_server.create_database(name)
    try:
        yield url
    finally:
        pg_server.drop_database(name)


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    """A SQLite file with a small ``houses`` table."""
    path = tmp_path / "source.db"
    with sqlite3.connect(path) as conn:
        conn.execute(SAMPLE_DDL)
        conn.executemany("insert into houses values (?, ?, ?, ?, ?)", SAMPLE_ROWS)
    conn.close()
    return f"sqlite:///{path}"


@pytest.fixture
def duckdb_url(tmp_path: Path) -> str:
    """A DuckDB file with a small ``houses`` table."""
    import duckdb

    path = tmp_path / "source.duckdb"
    conn = duckdb.connect(str(path))
    try:
        conn.execute(SAMPLE_DDL.replace("real", "double").replace("integer", "bigint"))
        conn.executemany("insert into houses values (?, ?, ?, ?, ?)", SAMPLE_ROWS)
    finally:
        conn.close()
    return f"duckdb:///{path}"


def _load_redisserver() -> ModuleType:
    spec = importlib.util.spec_from_file_location("softquery_tests_redisserver",
                                                  Path(__file__).with_name("redisserver.py"))
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="session")
def redis_server() -> Iterator[Any]:
    """A real Redis started for this session (fails, never skips, without redis-server)."""
    module = _load_redisserver()
    server = module.RedisServer()
    try:
        server.start()
    except module.RedisUnavailable as exc:
        server.stop()
        pytest.fail(str(exc), pytrace=False)
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def redis_url(redis_server: Any) -> Iterator[str]:
    """The session's Redis, flushed before and after the test (as rq's own tests do)."""
    from redis import Redis

    client = Redis.from_url(redis_server.url)
    client.flushdb()
    try:
        yield redis_server.url
    finally:
        client.flushdb()
        client.close()


def _folder_jobs_see(prefix: str, mode: int) -> Iterator[Path]:
    """Every job child has its own /tmp, /var/tmp, /dev/shm and /run, so a folder that model
    code and the test both see lives elsewhere (/var/lib as root, else the test user's home)."""
    path = Path(tempfile.mkdtemp(prefix=prefix, dir="/var/lib" if os.geteuid() == 0 else Path.home()))
    path.chmod(mode)
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture
def exchange_dir() -> Iterator[Path]:
    """A folder that model code (running as a user of its own) and the test both use:
    tmp_path is private to the test's user, as a home would be."""
    yield from _folder_jobs_see("softquery-exchange-", 0o777)


@pytest.fixture
def open_folder() -> Iterator[Path]:
    """A world-readable folder where the server keeps files that model code must not see."""
    yield from _folder_jobs_see("softquery-open-", 0o755)
