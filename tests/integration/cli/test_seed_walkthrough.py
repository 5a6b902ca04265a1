"""The seed's walkthrough end to end: houses, its LinearRegression code, its two queries."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import numpy as np
from sklearn.linear_model import LinearRegression
from tests.integration.cli.cli_harness import SoftqueryCLI

SEED_CODE = '''import numpy as np
from sklearn.linear_model import LinearRegression

class Model:
    def __init__(self):
        self.m = LinearRegression()
    def train(self, X, y):
        self.m.fit(X, y)
    def predict(self, X):
        return self.m.predict(X)
'''


def make_houses(path: Path) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(7)
    price = rng.uniform(100_000, 900_000, 60).round(2)
    quality = (price / 100_000 + rng.normal(0, 0.3, 60)).round(2)
    known = np.arange(60) % 6 != 0
    with sqlite3.connect(path) as conn:
        conn.execute("create table houses (price real, quality real)")
        conn.executemany(
            "insert into houses values (?, ?)",
            [(float(p), float(q) if k else None) for p, q, k in zip(price, quality, known, strict=True)],
        )
    conn.close()
    return price, quality, known


def test_seed_walkthrough(sq: SoftqueryCLI, tmp_path: Path) -> None:
    db = tmp_path / "houses.db"
    price, quality, known = make_houses(db)
    code_file = tmp_path / "model.py"
    code_file.write_text(SEED_CODE)
    sq("source", "add", "shop", f"sqlite:///{db}")
    sq("model", "create", "test", "--source", "shop", "--code-file", str(code_file),
       "--train-sql", "select price, quality from houses where quality is not null",
       "--predict-sql", "select price from houses where quality is null")

    trained = sq("train", "test", "--wait", "--json").json()
    assert trained["status"] == "succeeded", trained
    assert trained["result"]["train"]["version"] == 1
    assert trained["result"]["train"]["task"] == "regression"

    versions = sq("versions", "test", "--json").json()
    manifest = versions[0]["manifest"]
    assert versions[0]["active"] is True
    assert manifest["data"]["label"] == "quality"
    assert manifest["data"]["rows"] == int(known.sum())
    assert [f["name"] for f in manifest["data"]["features"]] == ["price"]
    assert manifest["code"] == SEED_CODE
    assert len(manifest["data"]["fingerprint"]) == 64
    assert {"python", "softquery", "scikit-learn", "numpy", "pandas", "pyarrow"} <= set(manifest["packages"])
    assert set(versions[0]["metrics"]) == {"r2", "mae", "rmse"}

    predicted = sq("predict", "test", "--json").json()
    assert predicted["status"] == "succeeded", predicted
    assert predicted["result"]["predict"]["rows"] == int((~known).sum())

    with sqlite3.connect(db) as conn:
        cols = [r[1] for r in conn.execute("pragma table_info(test_prediction)")]
        rows = conn.execute("select price, prediction, model_version, run_id from test_prediction "
                            "order by price").fetchall()
    conn.close()
    assert cols == ["price", "prediction", "model_version", "run_id", "predicted_at"]
    reference = LinearRegression().fit(price[known].reshape(-1, 1), quality[known])
    expected = sorted(zip(price[~known], reference.predict(price[~known].reshape(-1, 1)), strict=True))
    assert len(rows) == len(expected)
    np.testing.assert_allclose([r[1] for r in rows], [e[1] for e in expected], rtol=1e-9)
    assert {r[2] for r in rows} == {1}
    assert {r[3] for r in rows} == {predicted["id"]}
