"""predict_table: the model's active version predicts rows in a sandboxed child."""

from __future__ import annotations

import os

import pyarrow as pa
import pytest
from tests.integration.sql.conftest import train_model
from tests.predictions_equal import assert_predictions_equal

from softquery.services.context import ServiceContext
from softquery.services.sql_predict import predict_table
from softquery.services.sql_scripts import run_script
from softquery.services.sql_session import Session
from softquery.sql.parse import parse_script
from softquery.sql.statement_errors import SqlError
from softquery.sql.statements import ModelRef


def _statement(text: str = "select 1"):  # type: ignore[no-untyped-def]
    return parse_script(text)[0]


def test_regression_and_classifier_columns(ctx: ServiceContext, sqlite_source: str) -> None:
    train_model(ctx, "value")
    train_model(ctx, "kind", template="logistic_regression",
                train_sql="select price, rooms, area, kind from houses")
    session = Session(ctx, "src")
    rows = pa.table({"id": [1, 2, 3], "price": [100.0, 200.0, 300.0], "rooms": [2, 3, 4],
                     "area": [40.0, 60.0, 100.0]})
    st = _statement()
    out = predict_table(session, st, ModelRef("value", None, 0), rows)
    assert out.column_names == ["id", "price", "rooms", "area", "predicted_value"]
    expected = [2.0 * p + 10.0 * r + 0.5 * a for p, r, a in zip([100.0, 200.0, 300.0], [2, 3, 4], [40.0, 60.0, 100.0], strict=True)]
    assert_predictions_equal([round(v, 6) for v in out.column("predicted_value").to_pylist()],
                             [round(v, 6) for v in expected])
    out = predict_table(session, st, ModelRef("kind", None, 0), rows)
    assert out.column_names[-3:] == ["predicted_kind", "predicted_kind_probs", "probability_small"]
    probs = out.column("predicted_kind_probs").to_pylist()
    assert [p["label"] for p in probs[0]] == ["big", "small"]
    assert abs(sum(p["prob"] for p in probs[0]) - 1.0) < 1e-9
    assert out.column("probability_small").to_pylist()[0] == probs[0][1]["prob"]


SPY_CODE = '''
import os
os.environ["SOFTQUERY_SPY_LOADED"] = str(os.getpid())  # runs wherever the version is unpickled

def _reads(path):
    try:
        with open(path, "rb") as fh:
            return 1 if fh.read(1) else 0
    except Exception:
        return 0

class Model:
    def train(self, X, y):
        self.mean = float(sum(y)) / len(y)
    def predict(self, X):
        # the uid it runs as, and whether it could read the calling process's memory or environment
        seen = _reads("/proc/{parent}/environ") + _reads("/proc/{parent}/mem") + _reads({secret!r})
        return [float(os.getuid() * 10 + seen)] * len(X)
'''


def test_model_code_runs_only_in_a_confined_child(ctx: ServiceContext, sqlite_source: str) -> None:
    """The version is unpickled and run in a sandboxed child: not in this process (the API's or
    the CLI's), not as its user where isolation gives it one, unable to read this process."""
    secret = str(ctx.settings.home / "secret.key")
    train_model(ctx, "spy", code=SPY_CODE.format(parent=os.getpid(), secret=secret),
                train_sql="select price, value from houses")
    os.environ.pop("SOFTQUERY_SPY_LOADED", None)
    out = predict_table(Session(ctx, "src"), _statement(), ModelRef("spy", None, 0),
                        pa.table({"price": [1.0, 2.0]}))
    assert "SOFTQUERY_SPY_LOADED" not in os.environ  # never unpickled here
    answers = set(out.column("predicted_value").to_pylist())
    assert len(answers) == 1
    uid, seen = divmod(int(answers.pop()), 10)
    assert seen == 0  # neither /proc/<this pid>/environ, its memory, nor the secret key
    if os.geteuid() == 0:
        assert uid != 0  # a user of its own
    # the same through the SQL surface: a model call and ML.PREDICT
    script = ("select spy(price) as p from houses where id <= 3;\n"
              "select predicted_value from ML.PREDICT(MODEL spy, (select price from houses where id <= 3))")
    result = run_script(ctx, script, source="src")
    assert result.error is None, result.error
    assert "SOFTQUERY_SPY_LOADED" not in os.environ
    for answer in result.results:
        assert {divmod(int(row[0]), 10)[1] for row in answer.rows} == {0}


def test_missing_model_is_positioned_with_a_suggestion(ctx: ServiceContext, sqlite_source: str) -> None:
    train_model(ctx, "value")
    st = _statement("select *\nfrom ML.PREDICT(MODEL valeu, TABLE houses)")
    with pytest.raises(SqlError) as caught:
        predict_table(Session(ctx, "src"), st, ModelRef("valeu", None, st.where.text.index("valeu")),
                      pa.table({"price": [1.0]}))
    assert caught.value.details["suggestion"] == "value"
    assert caught.value.details["line"] == 2


def test_missing_feature_column_names_the_nearest(ctx: ServiceContext, sqlite_source: str) -> None:
    train_model(ctx, "value")
    with pytest.raises(SqlError) as caught:
        predict_table(Session(ctx, "src"), _statement(), ModelRef("value", None, 0),
                      pa.table({"price": [1.0], "room": [2], "area": [3.0]}))
    assert "rooms" in caught.value.message and caught.value.details["suggestion"] == "room"
