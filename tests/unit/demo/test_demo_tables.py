from __future__ import annotations

import contextlib
import json
import pathlib
import sqlite3
from collections.abc import Iterator

import numpy as np
import pytest

from softquery.demo.demo_tables import DEMO_MODELS, DEMO_TABLES, write_demo_database

TEMPLATES = {
    "linear_regression", "ridge_regression", "logistic_regression",
    "random_forest_classifier", "random_forest_regressor",
    "hist_gradient_boosting_classifier", "hist_gradient_boosting_regressor",
    "svm_classifier", "svm_regressor", "knn_classifier", "knn_regressor",
    "naive_bayes_text", "kmeans",
}  # fmt: skip

EXPECTED_COLUMNS = {
    "houses": ["id", "price", "quality"],
    "iris": [
        "id", "sepal_length_cm", "sepal_width_cm", "petal_length_cm", "petal_width_cm",
        "species", "split",
    ],
    "diabetes": [
        "id", "age", "sex", "bmi", "bp", "s1", "s2", "s3", "s4", "s5", "s6",
        "progression", "split",
    ],
    "users": ["id", "embedding", "cocacola_label"],
    "sms": ["id", "message", "label"],
}  # fmt: skip

EXPECTED_ROWS = {
    "houses": 200, "iris": 150, "wine": 178, "breast_cancer": 569,
    "diabetes": 442, "users": 500, "sms": 400,
}  # fmt: skip


@pytest.fixture(scope="module")
def db_path(tmp_path_factory: pytest.TempPathFactory) -> pathlib.Path:
    path = tmp_path_factory.mktemp("demo") / "demo.db"
    assert write_demo_database(path) == EXPECTED_ROWS
    return path


@pytest.fixture
def conn(db_path: pathlib.Path) -> Iterator[sqlite3.Connection]:
    with contextlib.closing(sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)) as c:
        yield c


def _columns(conn: sqlite3.Connection, table: str) -> list[tuple[str, str]]:
    return [(row[1], row[2]) for row in conn.execute(f'pragma table_info("{table}")')]


def test_tables_and_row_counts(conn: sqlite3.Connection) -> None:
    tables = [r[0] for r in conn.execute("select name from sqlite_master where type = 'table'")]
    assert sorted(tables) == sorted(DEMO_TABLES)
    for table, count in EXPECTED_ROWS.items():
        assert conn.execute(f'select count(*) from "{table}"').fetchone()[0] == count


def test_columns_are_sql_friendly_and_typed(conn: sqlite3.Connection) -> None:
    for table, names in EXPECTED_COLUMNS.items():
        assert [name for name, _ in _columns(conn, table)] == names
    for table in DEMO_TABLES:
        columns = _columns(conn, table)
        assert columns[0] == ("id", "INTEGER")
        for name, sql_type in columns:
            assert name.isidentifier() and name == name.lower()
            assert sql_type in {"INTEGER", "REAL", "TEXT"}
            stored = {
                r[0] for r in conn.execute(f'select distinct typeof("{name}") from "{table}"')
            } - {"null"}
            assert stored == {sql_type.lower()}, (table, name, stored)
    wine = [name for name, _ in _columns(conn, "wine")]
    assert "od280_od315_of_diluted_wines" in wine and wine[-2:] == ["cultivar", "split"]
    cancer = [name for name, _ in _columns(conn, "breast_cancer")]
    assert len(cancer) == 33 and "mean_concave_points" in cancer


def test_houses_has_rows_to_train_and_to_predict(conn: sqlite3.Connection) -> None:
    missing = conn.execute("select count(*) from houses where quality is null").fetchone()[0]
    assert 10 <= missing <= 30
    rows = conn.execute("select price, quality from houses where quality is not null").fetchall()
    price, quality = np.array(rows).T
    assert 1.0 <= quality.min() and quality.max() <= 10.0
    assert np.corrcoef(price, quality)[0, 1] > 0.9


def test_class_labels_and_split(conn: sqlite3.Connection) -> None:
    def values(sql: str) -> set[object]:
        return {r[0] for r in conn.execute(sql)}

    assert values("select species from iris") == {"setosa", "versicolor", "virginica"}
    assert values("select cultivar from wine") == {"class_0", "class_1", "class_2"}
    assert values("select diagnosis from breast_cancer") == {"malignant", "benign"}
    assert values("select cocacola_label from users") == {"yes", "no", ""}
    assert values("select label from sms") == {"spam", "personal", "notification", ""}
    for table in ("iris", "wine", "breast_cancer", "diabetes"):
        new = conn.execute(f"select count(*) from {table} where split = 'new'").fetchone()[0]
        assert values(f"select split from {table}") == {"train", "new"}
        assert 0.08 <= new / EXPECTED_ROWS[table] <= 0.12


def test_users_embedding_is_json_list_of_8_floats(conn: sqlite3.Connection) -> None:
    unknown = 0
    for embedding, label in conn.execute("select embedding, cocacola_label from users"):
        values = json.loads(embedding)
        assert isinstance(values, list) and len(values) == 8
        assert all(isinstance(v, float) for v in values)
        unknown += label == ""
    assert 0.10 <= unknown / EXPECTED_ROWS["users"] <= 0.20


def test_generated_labels_are_learnable(conn: sqlite3.Connection) -> None:
    from sklearn.feature_extraction.text import CountVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import cross_val_score
    from sklearn.naive_bayes import MultinomialNB
    from sklearn.pipeline import make_pipeline

    users = conn.execute("select embedding, cocacola_label from users where cocacola_label <> ''")
    x_users, y_users = zip(*[(json.loads(e), lab) for e, lab in users], strict=True)
    users_acc = cross_val_score(LogisticRegression(), list(x_users), y_users, cv=5).mean()
    assert users_acc > 0.8

    sms = conn.execute("select message, label from sms where label <> ''").fetchall()
    x_sms, y_sms = zip(*sms, strict=True)
    nb = make_pipeline(CountVectorizer(), MultinomialNB())
    assert cross_val_score(nb, list(x_sms), y_sms, cv=5).mean() > 0.9


def test_demo_models_queries_run_and_differ_by_the_label(conn: sqlite3.Connection) -> None:
    assert {m["table"] for m in _with_tables()} == set(DEMO_TABLES)
    names = [m["name"] for m in DEMO_MODELS]
    assert len(names) == len(set(names))
    for model in DEMO_MODELS:
        assert set(model) == {
            "name", "description", "template", "train_sql", "predict_sql", "label", "id_columns",
        }  # fmt: skip
        assert model["template"] in TEMPLATES
        assert isinstance(model["description"], str) and model["description"].endswith(".")
        train_sql, predict_sql = str(model["train_sql"]), str(model["predict_sql"])
        for sql in (train_sql, predict_sql):
            assert "*" not in sql and sql == sql.lower()
        train = conn.execute(train_sql)
        train_cols = [d[0] for d in train.description]
        assert train.fetchall(), model["name"]
        predict = conn.execute(predict_sql)
        predict_cols = [d[0] for d in predict.description]
        assert predict.fetchall(), model["name"]
        missing = [c for c in train_cols if c not in predict_cols]
        assert not set(predict_cols) - set(train_cols)
        if model["label"] is None:
            assert len(missing) == 1, model["name"]
        else:
            assert missing == [model["label"]], model["name"]
        id_columns = model["id_columns"]
        if id_columns is not None:
            assert isinstance(id_columns, list)
            assert set(id_columns) <= set(predict_cols)


def _with_tables() -> list[dict[str, object]]:
    out = []
    for model in DEMO_MODELS:
        sql = str(model["predict_sql"]).split()
        out.append({**model, "table": sql[sql.index("from") + 1]})
    return out


def test_second_call_on_same_path_raises(db_path: pathlib.Path) -> None:
    before = db_path.read_bytes()
    with pytest.raises(FileExistsError):
        write_demo_database(db_path)
    assert db_path.read_bytes() == before


def test_build_is_deterministic(db_path: pathlib.Path, tmp_path: pathlib.Path) -> None:
    other = tmp_path / "nested" / "again.db"
    write_demo_database(other)
    with (
        contextlib.closing(sqlite3.connect(db_path)) as a,
        contextlib.closing(sqlite3.connect(other)) as b,
    ):
        assert list(a.iterdump()) == list(b.iterdump())
