"""Labels, vectors and model answers as analysts have them, through real runs (sandboxed job
children) on SQLite, DuckDB and PostgreSQL files:

* an empty-text label is unknown, like NULL: dropped with a note that counts the rows;
* a user's own `class Model` gets each vector cell as a numpy array, and a fit that fails
  on one names the column and says how to use it;
* what predict() returns ends as a prediction (NULL for None / NaN) or a model_code_error
  naming the problem and the rows, in training as in a batch prediction;
* a binary classifier's probability column names its class, and a table written with the
  old `probability` column keeps it on append.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import psycopg
import pytest
from tests.integration.cli.cli_harness import SoftqueryCLI

N = 80
Query = Callable[[str], list[tuple[Any, ...]]]


def _label(i: int, a: float) -> str | None:
    if i % 10 == 0:
        return ""       # unknown, as the analyst writes it
    if i % 10 == 1:
        return None     # unknown too
    return "yes" if a > 0 else "no"


def _rows() -> list[tuple[Any, ...]]:
    rng = np.random.default_rng(7)
    out = []
    for i in range(N):
        a, b = float(rng.normal()), float(rng.normal())
        emb = [a, b, a - b]
        flag = 1 if i % 10 in (0, 1) else 0          # only rows to predict have flag = 1
        out.append((i, a, b, emb, _label(i, a), 3 * a - b, flag))
    return out


def _sqlite(tmp_path: Path, _pg: Callable[[], str]) -> tuple[str, Query]:
    path = tmp_path / "people.db"
    with sqlite3.connect(path) as conn:
        conn.execute("create table people (id integer, a real, b real, emb text, label text, amount real, flag integer)")
        conn.executemany("insert into people values (?, ?, ?, ?, ?, ?, ?)",
                         [(*r[:3], json.dumps(r[3]), *r[4:]) for r in _rows()])
    conn.close()

    def query(sql: str) -> list[tuple[Any, ...]]:
        with sqlite3.connect(path) as c:
            out = c.execute(sql).fetchall()
        c.close()
        return out

    return f"sqlite:///{path}", query


def _duckdb(tmp_path: Path, _pg: Callable[[], str]) -> tuple[str, Query]:
    path = tmp_path / "people.duckdb"
    conn = duckdb.connect(str(path))
    conn.execute("create table people (id integer, a double, b double, emb double[], label varchar, "
                 "amount double, flag integer)")
    conn.executemany("insert into people values (?, ?, ?, ?, ?, ?, ?)", _rows())
    conn.close()

    def query(sql: str) -> list[tuple[Any, ...]]:
        c = duckdb.connect(str(path), read_only=True)
        try:
            return [tuple(r) for r in c.execute(sql).fetchall()]
        finally:
            c.close()

    return f"duckdb:///{path}", query


def _postgres(_tmp: Path, pg: Callable[[], str]) -> tuple[str, Query]:
    url = pg()
    with psycopg.connect(url) as conn:
        conn.execute("create table people (id integer, a double precision, b double precision, "
                     "emb double precision[], label text, amount double precision, flag integer)")
        with conn.cursor() as cur:
            cur.executemany("insert into people values (%s, %s, %s, %s, %s, %s, %s)", _rows())

    def query(sql: str) -> list[tuple[Any, ...]]:
        with psycopg.connect(url) as c:
            return [tuple(r) for r in c.execute(sql).fetchall()]  # type: ignore[arg-type]

    return url, query


@pytest.fixture(params=["sqlite", "duckdb", pytest.param("postgresql", marks=pytest.mark.postgres)])
def people(request: pytest.FixtureRequest, tmp_path: Path, sq: SoftqueryCLI) -> Query:
    """A source ``src`` with a ``people`` table on each backend."""
    makers = {"sqlite": _sqlite, "duckdb": _duckdb, "postgresql": _postgres}
    url, query = makers[request.param](tmp_path, lambda: str(request.getfixturevalue("pg_database")))
    sq("source", "add", "src", url)
    return query


@pytest.fixture
def sqlite_people(tmp_path: Path, sq: SoftqueryCLI) -> Query:
    url, query = _sqlite(tmp_path, lambda: "")
    sq("source", "add", "src", url)
    return query


def _create(sq: SoftqueryCLI, tmp_path: Path, name: str, code: str, train: str, predict: str, *extra: str) -> None:
    path = tmp_path / f"{name}.py"
    path.write_text(code)
    sq("model", "create", name, "--source", "src", "--code-file", str(path), "--train-sql", train,
       "--predict-sql", predict, "--id-columns", "id", *extra)


def _failed(sq: SoftqueryCLI, verb: str, name: str) -> dict[str, Any]:
    run = sq(verb, name, "--json", ok=False).json()
    assert run["status"] == "failed", run
    error: dict[str, Any] = run["error"]
    return error


# -- labels ---------------------------------------------------------------------------
def test_an_empty_label_is_unknown_and_the_probability_names_its_class(
        sq: SoftqueryCLI, people: Query, tmp_path: Path) -> None:
    sq("model", "create", "fan", "--source", "src", "--template", "logistic_regression", "--label", "label",
       "--id-columns", "id", "--train-sql", "select id, a, b, label from people",  # no `where label <> ''`
       "--predict-sql", "select id, a, b from people where label is null or label = ''")
    trained = sq("train", "fan", "--json").json()
    assert trained["status"] == "succeeded", trained["error"]
    notes = " ".join(trained["result"]["train"]["notes"])
    assert "Dropped 8 row(s) where the label 'label' is NULL and 8 where it is empty text" in notes, notes
    version = sq("versions", "fan", "--json").json()[0]
    assert version["manifest"]["classes"] == ["no", "yes"]  # '' is never a class
    assert version["manifest"]["data"]["rows"] == N - 16
    sq("predict", "fan")
    rows = people("select id, prediction, probability_yes from fan_prediction order by id")
    assert [r[0] for r in rows] == [i for i in range(N) if i % 10 in (0, 1)]
    assert {r[1] for r in rows} <= {"yes", "no"} and all(0.0 <= r[2] <= 1.0 for r in rows)


# -- vectors --------------------------------------------------------------------------
OWN_VECTOR_CODE = '''import numpy as np
from sklearn.linear_model import LinearRegression

class Model:
    def __init__(self):
        self.m = LinearRegression()

    def _matrix(self, X):
        kinds = {type(v).__name__ for v in X["emb"]}
        assert kinds == {"ndarray"}, kinds
        return np.column_stack([np.stack(X["emb"]), X["a"]])

    def train(self, X, y):
        self.m.fit(self._matrix(X), y)

    def predict(self, X):
        return self.m.predict(self._matrix(X))
'''
NAIVE_CODE = '''from sklearn.linear_model import LinearRegression

class Model:
    def __init__(self):
        self.m = LinearRegression()
    def train(self, X, y):
        self.m.fit(X, y)
    def predict(self, X):
        return self.m.predict(X)
'''


def test_vectors_reach_own_code_as_numpy_arrays(sq: SoftqueryCLI, people: Query, tmp_path: Path) -> None:
    _create(sq, tmp_path, "vec", OWN_VECTOR_CODE, "select id, a, emb, amount from people where flag = 0",
            "select id, a, emb from people where flag = 1")
    trained = sq("train", "vec", "--json").json()
    assert trained["status"] == "succeeded", trained["error"]
    assert trained["result"]["train"]["metrics"]["r2"] > 0.99
    sq("predict", "vec")
    rows = people("select id, prediction from vec_prediction order by id")
    assert len(rows) == 16 and all(isinstance(r[1], float) for r in rows)


def test_a_fit_that_fails_on_a_vector_column_says_how_to_use_it(
        sq: SoftqueryCLI, people: Query, tmp_path: Path) -> None:
    _create(sq, tmp_path, "naive", NAIVE_CODE, "select id, a, emb, amount from people where flag = 0",
            "select id, a, emb from people where flag = 1")
    error = _failed(sq, "train", "naive")
    assert error["code"] == "model_code_error"
    assert "Column 'emb' holds vectors" in error["message"]
    assert "np.stack(X['emb'])" in error["message"] and "AutoPreprocessor" in error["message"]
    assert error["details"]["vector_columns"] == ["emb"]


# -- what predict() returns ----------------------------------------------------------
def _answering(expression: str) -> str:
    """A regression model whose predict returns ``expression`` (X and the numbers ``base`` in scope)."""
    return ("import numpy as np\nimport pandas as pd\n\nclass Model:\n"
            "    def train(self, X, y):\n        self.mean = float(y.mean())\n"
            "    def predict(self, X):\n        base = X['a'].to_numpy() + self.mean\n"
            f"        return {expression}\n")


TRAIN = "select id, a, flag, amount from people where flag = 0"
PREDICT = "select id, a, flag from people where flag = 1 or id < 6 order by id"


def test_nan_in_the_holdout_fails_training_naming_the_rows(sq: SoftqueryCLI, sqlite_people: Query,
                                                           tmp_path: Path) -> None:
    _create(sq, tmp_path, "nan", _answering("np.where(X['a'] > 0, np.nan, base)"), TRAIN, PREDICT)
    error = _failed(sq, "train", "nan")
    assert error["code"] == "model_code_error", error
    assert "returned no prediction (None or NaN) for" in error["message"]
    # the holdout check or a cross-validation fold, whichever predicts first (they run side by side)
    assert ("holdout rows, at rows" in error["message"] or "cross-validation rows, at rows" in error["message"])
    assert "of the training rows (X.index)" in error["message"]
    assert error["details"]["bad_rows"] and error["details"]["bad_row_count"] >= 1


@pytest.mark.parametrize(("expression", "message"), [
    ("pd.DataFrame({'p': base, 'q': base})", "a DataFrame with 2 columns (p, q)"),
    ("(v for v in base)", "returned a generator (an iterator)"),
    ("[[v, v] for v in base]", "lists of 2 values"),
])
def test_odd_answers_fail_training_as_model_code_errors(sq: SoftqueryCLI, sqlite_people: Query, tmp_path: Path,
                                                        expression: str, message: str) -> None:
    _create(sq, tmp_path, "odd", _answering(expression), TRAIN, PREDICT)
    error = _failed(sq, "train", "odd")
    assert error["code"] == "model_code_error" and message in error["message"], error


def test_batch_prediction_writes_null_for_nan_and_refuses_infinity(sq: SoftqueryCLI, sqlite_people: Query,
                                                                   tmp_path: Path) -> None:
    # NaN only where flag = 1: training's holdout never sees it, the predict rows do
    _create(sq, tmp_path, "gaps", _answering("np.where(X['flag'] == 1, np.nan, base)"), TRAIN, PREDICT)
    sq("train", "gaps")
    predicted = sq("predict", "gaps", "--json").json()
    assert predicted["status"] == "succeeded", predicted["error"]
    rows = sqlite_people("select p.id, o.prediction from gaps_prediction o join people p on p.id = o.id order by p.id")
    assert all((r[1] is None) == (r[0] % 10 in (0, 1)) for r in rows) and len(rows) == 20

    code = _answering("np.where(X['flag'] == 1, np.inf, base)")
    (tmp_path / "inf.py").write_text(code)
    sq("model", "update", "gaps", "--code-file", str(tmp_path / "inf.py"))
    sq("train", "gaps")
    error = _failed(sq, "predict", "gaps")
    assert error["code"] == "model_code_error", error
    # the predict query's rows, in order: ids 0..5 (0 and 1 have flag = 1), then 10, 11, 20, 21, ...
    assert "infinite number at rows 0, 1, 6, 7 and 8 (and 11 more) of the predict query's result" in error["message"]
    assert len(sqlite_people("select * from gaps_prediction")) == 20  # the previous table is untouched


# -- the old `probability` column -------------------------------------------------------
def test_append_to_a_table_with_the_old_probability_column_keeps_it(sq: SoftqueryCLI, sqlite_people: Query,
                                                                    tmp_path: Path) -> None:
    sq("model", "create", "fan", "--source", "src", "--template", "logistic_regression", "--label", "label",
       "--id-columns", "id", "--train-sql", "select id, a, b, label from people where label <> ''",
       "--predict-sql", "select id, a, b from people where label = ''", "--write-mode", "append")
    sq("train", "fan")
    sq("predict", "fan")
    # the table as an earlier release wrote it: one `probability` column
    with sqlite3.connect(tmp_path / "people.db") as conn:
        conn.execute("alter table fan_prediction rename column probability_yes to probability")
    conn.close()
    again = sq("predict", "fan", "--json").json()
    assert again["status"] == "succeeded", again["error"]
    assert any("has the column 'probability' from an earlier release" in n
               for n in again["result"]["predict"]["notes"]), again["result"]
    rows = sqlite_people("select probability, run_id from fan_prediction")
    assert len(rows) == 16 and len({r[1] for r in rows}) == 2 and all(0.0 <= r[0] <= 1.0 for r in rows)

    sq("model", "update", "fan", "--write-mode", "replace")
    replaced = sq("predict", "fan", "--json").json()
    assert any("is now 'probability_yes'" in n for n in replaced["result"]["predict"]["notes"]), replaced["result"]
    columns = [r[1] for r in sqlite_people("pragma table_info(fan_prediction)")]
    assert "probability_yes" in columns and "probability" not in columns
