"""Bad input gets a clear error and changes nothing."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from tests.integration.cli.cli_harness import SoftqueryCLI

GOOD_CODE = '''from sklearn.linear_model import LinearRegression

class Model:
    def __init__(self):
        self.m = LinearRegression()
    def train(self, X, y):
        self.m.fit(X, y)
    def predict(self, X):
        return self.m.predict(X)
'''


@pytest.fixture
def shop(sq: SoftqueryCLI, tmp_path: Path) -> Path:
    db = tmp_path / "shop.db"
    with sqlite3.connect(db) as conn:
        conn.execute("create table houses (id integer, price real, quality real, note text)")
        conn.executemany(
            "insert into houses values (?, ?, ?, ?)",
            [(i, 100.0 + i, (1.0 + i / 10) if i % 5 else None, "ok") for i in range(1, 61)],
        )
        conn.execute("create table mixed (id integer, price real, quality real)")
        conn.executemany("insert into mixed values (?, ?, ?)", [(i, 1.0 * i, 2.0 * i) for i in range(1, 40)])
        conn.execute("insert into mixed values (40, 'n/a', 3.0)")
        conn.execute("create table users (id integer, score real, fan text)")
        conn.executemany("insert into users values (?, ?, ?)", [(i, i * 1.0, "yes") for i in range(30)])
    conn.close()
    sq("source", "add", "shop", f"sqlite:///{db}")
    return db


def create(sq: SoftqueryCLI, tmp_path: Path, name: str = "m", code: str = GOOD_CODE,
           train: str = "select id, price, quality from houses where quality is not null",
           predict: str = "select id, price from houses where quality is null", *extra: str,
           ok: bool = True) -> tuple[int, str]:
    code_file = tmp_path / f"{name}_code.py"
    code_file.write_text(code)
    result = sq("model", "create", name, "--source", "shop", "--code-file", str(code_file),
                "--train-sql", train, "--predict-sql", predict, *extra, ok=ok)
    return result.code, result.err


def train_error(sq: SoftqueryCLI, name: str = "m") -> dict[str, str]:
    result = sq("train", name, "--json", ok=False)
    assert result.code == 1
    run = result.json()
    assert run["status"] == "failed"
    assert sq("versions", name, "--json").json() == []
    return run["error"]


def test_sql_error_names_the_query_and_database_message(sq: SoftqueryCLI, shop: Path, tmp_path: Path) -> None:
    create(sq, tmp_path, train="select id, price, quality from housez")
    error = train_error(sq)
    assert error["code"] == "query_error"
    assert "train query" in error["message"]
    assert "housez" in error["message"]


def test_empty_training_result(sq: SoftqueryCLI, shop: Path, tmp_path: Path) -> None:
    create(sq, tmp_path, train="select id, price, quality from houses where 1 = 0")
    error = train_error(sq)
    assert "no rows" in error["message"]


def test_all_null_label(sq: SoftqueryCLI, shop: Path, tmp_path: Path) -> None:
    create(sq, tmp_path, train="select id, price, quality from houses where quality is null")
    error = train_error(sq)
    assert "quality" in error["message"] and "NULL" in error["message"]


def test_single_class(sq: SoftqueryCLI, shop: Path, tmp_path: Path) -> None:
    create(sq, tmp_path, code=GOOD_CODE.replace("LinearRegression", "LogisticRegression"),
           train="select id, score, fan from users", predict="select id, score from users")
    error = train_error(sq)
    assert "only one value" in error["message"]


def test_text_in_a_numeric_column(sq: SoftqueryCLI, shop: Path, tmp_path: Path) -> None:
    create(sq, tmp_path, train="select id, price, quality from mixed", predict="select id, price from mixed")
    error = train_error(sq)
    assert "price" in error["message"]
    assert "text" in error["message"].lower()


def test_python_syntax_error_is_refused_on_save(sq: SoftqueryCLI, shop: Path, tmp_path: Path) -> None:
    code, err = create(sq, tmp_path, code=GOOD_CODE.replace("        self.m.fit(X, y)", "\tself.m.fit(X, y)"), ok=False)
    assert code == 2
    assert "Line 7" in err and "tabs and spaces" in err
    assert sq("model", "list", "--json").json() == []


def test_no_model_class(sq: SoftqueryCLI, shop: Path, tmp_path: Path) -> None:
    code, err = create(sq, tmp_path, code="class Estimator:\n    pass\n", ok=False)
    assert code == 2 and "No `class Model`" in err


def test_wrong_signature(sq: SoftqueryCLI, shop: Path, tmp_path: Path) -> None:
    code, err = create(sq, tmp_path, code=GOOD_CODE.replace("def train(self, X, y)", "def train(self, X)"),
                       ok=False)
    assert code == 2 and "train(self, X, y)" in err


def test_exception_inside_train_shows_user_traceback(sq: SoftqueryCLI, shop: Path, tmp_path: Path) -> None:
    create(sq, tmp_path, code=GOOD_CODE.replace("        self.m.fit(X, y)", "        raise RuntimeError('boom')"))
    error = train_error(sq)
    assert error["code"] == "model_code_error"
    assert "RuntimeError: boom" in error["message"]
    assert "line 7, in train" in error["message"]


def test_predict_returning_wrong_number_of_rows(sq: SoftqueryCLI, shop: Path, tmp_path: Path) -> None:
    create(sq, tmp_path, code=GOOD_CODE.replace("return self.m.predict(X)", "return self.m.predict(X)[:1]"))
    error = train_error(sq)
    assert "one prediction per row" in error["message"]


@pytest.mark.parametrize("name", ["x; drop table users", "1abc", "a-b", "x" * 64])
def test_bad_model_names(sq: SoftqueryCLI, shop: Path, tmp_path: Path, name: str) -> None:
    code_file = tmp_path / "c.py"
    code_file.write_text(GOOD_CODE)
    result = sq("model", "create", name, "--source", "shop", "--code-file", str(code_file),
                "--train-sql", "select 1", "--predict-sql", "select 1", ok=False)
    assert result.code == 2
    assert "letters, digits and underscores" in result.err
    with sqlite3.connect(shop) as conn:
        assert conn.execute("select count(*) from users").fetchone()[0] == 30
    conn.close()


def test_unknown_source(sq: SoftqueryCLI, shop: Path, tmp_path: Path) -> None:
    result = sq("model", "create", "m", "--source", "nope", "--template", "linear_regression",
                "--train-sql", "select 1", "--predict-sql", "select 1", ok=False)
    assert result.code == 4
    assert "no data source named 'nope'" in result.err


def test_predict_before_any_version(sq: SoftqueryCLI, shop: Path, tmp_path: Path) -> None:
    create(sq, tmp_path)
    result = sq("predict", "m", "--json", ok=False)
    assert result.code == 1
    assert result.json()["error"]["code"] == "no_version"
    assert "Train it first" in result.json()["error"]["message"]


def test_missing_label_asks_for_label(sq: SoftqueryCLI, shop: Path, tmp_path: Path) -> None:
    create(sq, tmp_path, train="select id, price, quality, note from houses where quality is not null",
           predict="select id, price from houses")
    error = train_error(sq)
    assert "--label" in error["message"]


def test_predict_query_missing_a_feature(sq: SoftqueryCLI, shop: Path, tmp_path: Path) -> None:
    sq("model", "create", "m", "--source", "shop", "--template", "linear_regression",
       "--train-sql", "select id, price, note, quality from houses where quality is not null",
       "--predict-sql", "select id, price, note from houses where quality is null")
    sq("train", "m")
    sq("model", "update", "m", "--predict-sql", "select id, note from houses where quality is null")
    result = sq("predict", "m", "--json", ok=False)
    assert result.json()["error"]["code"] == "schema_mismatch"
    assert "price" in result.json()["error"]["message"]


def test_not_initialised_says_how(home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cli = SoftqueryCLI(capsys, home)
    result = cli("model", "list", ok=False)
    assert result.code == 3
    assert "softquery init" in result.err


def test_tampered_artifact_is_refused_and_output_kept(sq: SoftqueryCLI, shop: Path, tmp_path: Path,
                                                      home: Path) -> None:
    create(sq, tmp_path)
    sq("train", "m")
    sq("predict", "m")
    with sqlite3.connect(shop) as conn:
        before = conn.execute("select * from m_prediction order by id").fetchall()
    conn.close()
    with sqlite3.connect(home / "softquery.db") as meta:
        data = meta.execute("select data from artifacts").fetchone()[0]
        meta.execute("update artifacts set data = ?", (data[:-5] + b"XXXXX",))
    meta.close()
    result = sq("predict", "m", "--json", ok=False)
    error = result.json()["error"]
    assert error["code"] == "artifact_tampered"
    assert "integrity check" in error["message"]
    with sqlite3.connect(shop) as conn:
        assert conn.execute("select * from m_prediction order by id").fetchall() == before
    conn.close()
