"""CREATE [OR REPLACE] TABLE … AS SELECT … FROM ML.PREDICT(…): written through the batch
writer with its guarantees (claims, nothing half-written), by editors only, audited."""

from __future__ import annotations

import sqlite3
from typing import Any

from tests.integration.sql.conftest import batch_predict, train_model
from tests.predictions_equal import assert_predictions_equal

from softquery.domain.accounts import Principal, Role, Via
from softquery.services.accounts import add_user
from softquery.services.audit import list_events
from softquery.services.context import ServiceContext
from softquery.services.sql_scripts import run_script

FRAGILE = '''
class Model:
    def train(self, X, y):
        self.mean = float(sum(y)) / len(y)
    def predict(self, X):
        if (X["price"] > 400).any():
            raise ValueError("a price above 400")
        return [self.mean] * len(X)
'''


def rows_of(url: str, sql: str) -> list[tuple[Any, ...]]:
    with sqlite3.connect(url.removeprefix("sqlite:///")) as conn:
        found = conn.execute(sql).fetchall()
    conn.close()
    return found


def test_create_table_as_ml_predict_writes_the_predictions(ctx: ServiceContext, sqlite_source: str) -> None:
    train_model(ctx, "value")
    batch_predict(ctx, "value")
    result = run_script(ctx, "create table big_values as select id, predicted_value from "
                             "ML.PREDICT(MODEL value, (select id, price, rooms, area from houses)) "
                             "where predicted_value > 600", source="src")
    assert result.error is None, result.error
    assert "rows written" in result.results[0].message
    written = dict(rows_of(sqlite_source, "select id, predicted_value from big_values"))
    expected = {i: v for i, v in rows_of(sqlite_source, "select id, prediction from value_prediction") if v > 600}
    assert sorted(written) == sorted(expected)
    assert_predictions_equal([written[i] for i in sorted(written)], [expected[i] for i in sorted(expected)])
    assert not [t for (t,) in rows_of(sqlite_source, "select name from sqlite_master") if t.startswith("_sq_stage")]
    [entry] = list_events(ctx, action="table.create")
    assert entry.target == "src.big_values" and "create table big_values" in entry.details["sql"]

    again = run_script(ctx, "create table big_values as select id, value(price, rooms, area) as v from houses",
                       source="src")
    assert again.error is not None and "OR REPLACE" in again.error["message"]


def test_a_failed_replace_leaves_the_old_table(ctx: ServiceContext, sqlite_source: str) -> None:
    train_model(ctx, "fragile", code=FRAGILE, train_sql="select price, value from houses where price <= 400")
    first = run_script(ctx, "create table cheap as select id, fragile(price) as p from houses where price <= 400",
                       source="src")
    assert first.error is None, first.error
    before = rows_of(sqlite_source, "select * from cheap order by id")
    script = ("create or replace table cheap as select id, fragile(price) as p from houses where price <= 300;\n"
              "create or replace table cheap as select id, fragile(price) as p from houses")
    result = run_script(ctx, script, source="src")
    assert result.failed_statement == 2 and result.error is not None
    assert "price above 400" in result.error["message"]
    assert len(result.results) == 1  # the answer says what the first statement did
    after = rows_of(sqlite_source, "select * from cheap order by id")  # the first statement's table, whole
    assert after == [r for r in before if r[0] in {i for (i,) in rows_of(
        sqlite_source, "select id from houses where price <= 300")}]
    assert not [t for (t,) in rows_of(sqlite_source, "select name from sqlite_master") if t.startswith("_sq_stage")]


def test_claims_and_permissions(ctx: ServiceContext, sqlite_source: str) -> None:
    train_model(ctx, "value")
    train_model(ctx, "kind", template="logistic_regression", train_sql="select price, rooms, area, kind from houses")
    # a source's own table, another model's table
    for sql, words in [
        ("create or replace table houses as select id, value(price, rooms, area) as v from houses", "did not create"),
        ("create table kind_prediction as select id, value(price, rooms, area) as v from houses", "model 'kind'"),
        ("create table copy as select * from houses", "writes predictions"),
    ]:
        result = run_script(ctx, sql, source="src")
        assert result.error is not None and words in result.error["message"], (sql, result.error)
    assert rows_of(sqlite_source, "select count(*) from houses") == [(200,)]

    add_user(ctx, "vera", Role.VIEWER, "correct horse battery staple")
    viewer = ctx.acting_as(Principal(username="vera", role=Role.VIEWER, via=Via.SESSION,
                                     user_id=ctx.users.get("vera").id))
    read = run_script(viewer, "select id, value(price, rooms, area) as v from houses where id = 1; "
                              "select id, predicted_value from ML.PREDICT(MODEL value, TABLE houses) where id = 1",
                      source="src")
    assert read.error is None, read.error
    denied = run_script(viewer, "create table vera_values as select id, value(price, rooms, area) as v from houses",
                        source="src")
    assert denied.error is not None and denied.error["code"] == "forbidden"
    assert not rows_of(sqlite_source, "select name from sqlite_master where name = 'vera_values'")
