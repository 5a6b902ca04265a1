"""ML.PREDICT inside larger queries and model calls inside SELECTs, against real sources:
the answers equal a batch prediction's (``softquery predict``) for the same model and rows."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from tests.integration.sql.conftest import (
    batch_predict,
    make_duckdb,
    make_postgres,
    make_sqlite,
    train_model,
)
from tests.predictions_equal import assert_predictions_equal

from softquery.services.context import ServiceContext
from softquery.services.sources import add_source
from softquery.services.sql_results import StatementResult
from softquery.services.sql_scripts import run_script
from softquery.sql.statement_errors import SqlError


def one(ctx: ServiceContext, sql: str, **kwargs: Any) -> StatementResult:
    result = run_script(ctx, sql, source="src", max_rows=10_000, **kwargs)
    assert result.error is None, result.error
    return result.results[-1]


def records(result: StatementResult) -> list[dict[str, Any]]:
    names = [c.name for c in result.columns]
    return [dict(zip(names, row, strict=True)) for row in result.rows]


def read_source(ctx: ServiceContext, sql: str) -> list[dict[str, Any]]:
    return records(one(ctx, sql))


def test_ml_predict_in_a_join_equals_batch_predict(ctx: ServiceContext, sqlite_source: str) -> None:
    train_model(ctx, "value")
    train_model(ctx, "kind", template="logistic_regression", train_sql="select price, rooms, area, kind from houses")
    batch_predict(ctx, "value")
    batch_predict(ctx, "kind")
    expected_value = {r["id"]: r["prediction"] for r in read_source(ctx, "select id, prediction from value_prediction")}
    expected_kind = {r["id"]: (r["prediction"], r["probability_small"])
                     for r in read_source(ctx, "select id, prediction, probability_small from kind_prediction")}
    owners = {r["house_id"]: r["owner"] for r in read_source(ctx, "select house_id, owner from owners")}

    got = records(one(ctx, """
        select p.id, o.owner, p.predicted_value
        from ML.PREDICT(MODEL value, (select id, price, rooms, area from houses where rooms >= 2)) as p
        join owners o on o.house_id = p.id
        where p.predicted_value > 500
        order by p.predicted_value desc, p.id
        limit 25"""))
    wanted = sorted(((v, i) for i, v in expected_value.items() if i in owners and v > 500
                     and read_rooms(ctx, i) >= 2), key=lambda t: (-t[0], t[1]))[:25]
    assert [r["id"] for r in got] == [i for _, i in wanted]
    assert [r["owner"] for r in got] == [owners[i] for _, i in wanted]
    assert_predictions_equal([r["predicted_value"] for r in got], [v for v, _ in wanted])

    got = records(one(ctx, "select id, predicted_kind, predicted_kind_probs, probability_small "
                           "from ML.PREDICT(MODEL kind, TABLE houses) order by id"))
    assert [r["id"] for r in got] == sorted(expected_kind)
    assert [r["predicted_kind"] for r in got] == [expected_kind[r["id"]][0] for r in got]
    assert_predictions_equal([r["probability_small"] for r in got], [expected_kind[r["id"]][1] for r in got])
    assert_predictions_equal([r["predicted_kind_probs"][1]["prob"] for r in got],
                             [expected_kind[r["id"]][1] for r in got])


_rooms: dict[int, int] = {}


def read_rooms(ctx: ServiceContext, house: int) -> int:
    if not _rooms:
        _rooms.update({r["id"]: r["rooms"] for r in read_source(ctx, "select id, rooms from houses")})
    return _rooms[house]


def _sqlite(tmp: Path, _pg: Callable[[], str]) -> str:
    return make_sqlite(tmp / "h.db")


def _duckdb(tmp: Path, _pg: Callable[[], str]) -> str:
    return make_duckdb(tmp / "h.duckdb")


def _postgres(_tmp: Path, pg: Callable[[], str]) -> str:
    return make_postgres(pg())


@pytest.fixture(params=["sqlite", "duckdb", pytest.param("postgresql", marks=pytest.mark.postgres)])
def any_source(request: pytest.FixtureRequest, ctx: ServiceContext, tmp_path: Path) -> str:
    makers = {"sqlite": _sqlite, "duckdb": _duckdb, "postgresql": _postgres}
    url = makers[request.param](tmp_path, lambda: str(request.getfixturevalue("pg_database")))
    add_source(ctx, "src", url)
    return url


def test_model_calls_in_select_on_each_backend(ctx: ServiceContext, any_source: str) -> None:
    train_model(ctx, "value")
    train_model(ctx, "kind", template="logistic_regression", train_sql="select price, rooms, area, kind from houses")
    batch_predict(ctx, "value")
    batch_predict(ctx, "kind")
    value = {r["id"]: r["prediction"] for r in read_source(ctx, "select id, prediction from value_prediction")}
    kind = {r["id"]: r["prediction"] for r in read_source(ctx, "select id, prediction from kind_prediction")}

    got = records(one(ctx, "select id, value(price, rooms, area) as v, kind(price, rooms, area) as k "
                           "from houses where id <= 50 order by id"))
    assert [r["id"] for r in got] == list(range(1, 51))
    assert_predictions_equal([r["v"] for r in got], [value[i] for i in range(1, 51)])
    assert [r["k"] for r in got] == [kind[i] for i in range(1, 51)]

    # by name, in any order; a prediction inside an expression and in ORDER BY
    got = records(one(ctx, "select h.id, value(area => h.area, price => h.price, rooms => h.rooms) * 2 as v2 "
                           "from houses h order by v2 desc limit 5"))
    best = sorted(value.items(), key=lambda t: -t[1])[:5]
    assert [r["id"] for r in got] == [i for i, _ in best]
    assert_predictions_equal([r["v2"] for r in got], [2 * v for _, v in best])

    # beside *, named after the model (a taken name gets _2)
    got = one(ctx, "select *, value(price, rooms, area) from houses where id = 7")
    assert [c.name for c in got.columns] == ["id", "price", "rooms", "area", "color", "value", "kind", "value_2"]
    assert_predictions_equal([got.rows[0][-1]], [value[7]])

    # aggregate over predictions: through a subquery
    got = records(one(ctx, "select count(*) as n, avg(v) as mean from "
                           "(select value(price, rooms, area) as v from houses) as s"))
    assert got[0]["n"] == len(value)
    assert abs(got[0]["mean"] - sum(value.values()) / len(value)) < 1e-6


def test_model_call_where_it_cannot_stand_says_how(ctx: ServiceContext, sqlite_source: str) -> None:
    train_model(ctx, "value")
    result = run_script(ctx, "select id from houses\nwhere value(price, rooms, area) > 100", source="src")
    assert result.error is not None and result.error["code"] == "sql_error"
    assert result.error["details"]["line"] == 2 and result.error["details"]["column"] == 7
    assert "subquery" in result.error["message"]
    result = run_script(ctx, "select value(price, rooms) from houses", source="src")
    assert result.error is not None and "area" in result.error["message"]
    result = run_script(ctx, "select id,\n value(color, rooms, area) from houses", source="src")
    assert result.error is not None and result.error["details"]["line"] == 2
    assert result.error["details"]["wrong_type"][0]["column"] == "price"


def test_unknown_names_are_positioned_with_the_nearest(ctx: ServiceContext, sqlite_source: str) -> None:
    train_model(ctx, "value")
    cases = [
        ("select *\nfrom ML.PREDICT(MODEL valeu, TABLE houses)", "valeu", "value", 2),
        ("select id, valeu(price, rooms, area) from houses", "valeu", "value", 1),
        ("select id, value(price, rooms, area) from housse", "housse", "houses", 1),
        ("select id, value(prise, rooms, area) from houses", "prise", "price", 1),
        ("select id,\n  predicted_valeu from ML.PREDICT(MODEL value, TABLE houses)", "predicted_valeu",
         "predicted_value", 2),
    ]
    for sql, wrong, right, line in cases:
        result = run_script(ctx, sql, source="src")
        assert result.error is not None, sql
        details = result.error["details"]
        assert details.get("suggestion") == right, (sql, result.error)
        assert details["line"] == line
        assert details["excerpt"].splitlines()[1].index("^") == details["excerpt"].splitlines()[0].index(wrong)


def houses_count(url: str) -> int:
    path = url.removeprefix("sqlite:///")
    with sqlite3.connect(path) as conn:
        count = conn.execute("select count(*) from houses").fetchone()[0]
    conn.close()
    return int(count)


@pytest.mark.parametrize("sql", [
    "select * from houses; drop table houses",
    "select value(price, rooms, area) from houses; delete from houses",
    "with d as (delete from houses returning *) select * from d",
    "select load_extension('/tmp/evil')",
    "select id, value(price, rooms, area) from houses where id in (select id from houses) "
    "union all select 1, load_extension('/tmp/evil')",
])
def test_a_write_hidden_in_a_select_is_refused(ctx: ServiceContext, sqlite_source: str, sql: str) -> None:
    train_model(ctx, "value")
    before = houses_count(sqlite_source)
    try:
        result = run_script(ctx, sql, source="src")
        assert result.error is not None and result.failed_statement == 1, result
    except SqlError as exc:  # the script does not parse: nothing ran
        assert exc.details["line"] == 1 and exc.details["column"] > 1
    assert houses_count(sqlite_source) == before


def test_source_tables_around_predictions_are_bounded(ctx: ServiceContext, sqlite_source: str,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """A source table the query around ML.PREDICT names is read whole, up to a cap (a clear error
    above it); a derived table that only reads the source runs there, so its filter counts."""
    from softquery.services import sql_rows

    train_model(ctx, "value")
    monkeypatch.setattr(sql_rows, "MAX_SOURCE_ROWS", 60)  # owners has 100 rows
    predict = "ML.PREDICT(MODEL value, (select id, price, rooms, area from houses where id <= 40)) as p"
    refused = run_script(ctx, f"select p.id, o.owner from {predict} join owners o on o.house_id = p.id",
                         source="src")
    assert refused.error is not None and refused.error["code"] == "too_many_rows"
    assert "more than 60 rows" in refused.error["message"] and "WHERE" in refused.error["message"]
    got = records(one(ctx, f"select p.id, o.owner from {predict} join "
                           "(select house_id, owner from owners where house_id <= 40) as o on o.house_id = p.id "
                           "order by p.id"))
    assert [r["id"] for r in got] == list(range(1, 41, 2))


def test_create_table_as_on_each_backend(ctx: ServiceContext, any_source: str) -> None:
    train_model(ctx, "kind", template="logistic_regression", train_sql="select price, rooms, area, kind from houses")
    batch_predict(ctx, "kind")
    expected = {r["id"]: (r["prediction"], r["probability_small"])
                for r in read_source(ctx, "select id, prediction, probability_small from kind_prediction")}
    for _ in range(2):  # the second time it replaces its own table
        result = run_script(ctx, "create or replace table kinds as select id, predicted_kind, probability_small, "
                                 "predicted_kind_probs from ML.PREDICT(MODEL kind, TABLE houses)", source="src")
        assert result.error is None, result.error
    got = read_source(ctx, "select id, predicted_kind, probability_small, predicted_kind_probs from kinds order by id")
    assert [r["id"] for r in got] == sorted(expected)
    assert [r["predicted_kind"] for r in got] == [expected[r["id"]][0] for r in got]
    assert_predictions_equal([r["probability_small"] for r in got], [expected[r["id"]][1] for r in got])
    assert '"label": "small"' in got[0]["predicted_kind_probs"]  # a list column is written as JSON text
