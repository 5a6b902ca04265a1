"""The plain-Python reference of ``batch.py``: what a one-off script does with the same rows.

* the fastest Arrow read of a query (every reader option, ``READ_REPEATS`` times);
* one ``LinearRegression().fit`` made the way a one-off script makes it: a fresh process
  that reads the rows and fits once (``fresh_fit``; run as ``python batch_reference.py fit
  DB``, it prints the seconds of turning the Arrow columns into arrays and fitting);
* ``CREATE TABLE … AS SELECT`` of an output of softquery's shape, and pandas' predict path.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

N_FEATURES = 10
FEATURES = [f"f{i}" for i in range(N_FEATURES)]
READ_REPEATS = 3
SQLITE_BATCH_ROWS_OPTION = "adbc.sqlite.query.batch_rows"
READ_BATCH_ROWS: list[int | None] = [None, 1_024, 10_000, 100_000, 1_000_000]  # None: driver default
TRAIN_SQL = f"select id, {', '.join(FEATURES)}, label from bench"  # noqa: S608
PREDICT_SQL = f"select id, {', '.join(FEATURES)} from bench"  # noqa: S608
FIT_TIMEOUT_SECONDS = 600


@dataclass
class Timed:
    seconds: float
    detail: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


def arrow_read(path: Path, sql: str, batch_rows: int | None) -> Any:
    """One ADBC read of ``sql`` into an Arrow table (read-only, autocommit, like softquery)."""
    import adbc_driver_sqlite.dbapi

    uri = f"file:{path}?mode=ro"
    with contextlib.closing(adbc_driver_sqlite.dbapi.connect(uri, autocommit=True)) as conn:
        with contextlib.closing(conn.cursor()) as cursor:
            if batch_rows is not None:
                cursor.adbc_statement.set_options(**{SQLITE_BATCH_ROWS_OPTION: str(batch_rows)})
            cursor.execute(sql)
            return cursor.fetch_arrow_table()


def fastest_read(path: Path, sql: str) -> tuple[Timed, Any]:
    """Try every reader option ``READ_REPEATS`` times; the fastest single read wins."""
    best: Timed | None = None
    table = None
    per_option: dict[str, float] = {}
    for _ in range(READ_REPEATS):
        for batch_rows in READ_BATCH_ROWS:
            name = f"adbc batch_rows={batch_rows or 'default'}"
            t0 = time.perf_counter()
            result = arrow_read(path, sql, batch_rows)
            seconds = time.perf_counter() - t0
            per_option[name] = min(per_option.get(name, seconds), seconds)
            if best is None or seconds < best.seconds:
                best, table = Timed(seconds, name), result
            del result
    assert best is not None
    best.extra["per_option"] = per_option
    return best, table


def reference_fit(table: Any) -> tuple[Timed, Any]:
    """Arrays from the Arrow columns and one ``LinearRegression().fit``, in this process."""
    from sklearn.linear_model import LinearRegression

    t0 = time.perf_counter()
    X = np.column_stack([table.column(c).to_numpy() for c in FEATURES])
    y = table.column("label").to_numpy()
    model = LinearRegression().fit(X, y)
    return Timed(time.perf_counter() - t0, "numpy arrays + LinearRegression().fit"), model


def fresh_fit(path: Path) -> float:
    """``reference_fit`` in a fresh interpreter that has just read the train query: the first
    fit of a one-off script (the rows' memory fresh, as a softquery job's is). Its seconds."""
    out = subprocess.run([sys.executable, __file__, "fit", str(path)], capture_output=True, text=True,
                         check=True, timeout=FIT_TIMEOUT_SECONDS, env=os.environ.copy())
    return float(out.stdout.strip().splitlines()[-1])


def reference_write(path: Path, model: Any) -> Timed:
    """CREATE TABLE … AS SELECT with softquery's output shape, the prediction computed in SQL."""
    terms = " + ".join(f"({float(w)!r} * {c})" for w, c in zip(model.coef_, FEATURES, strict=True))
    expr = f"{float(model.intercept_)!r} + {terms}"
    sql = (
        f"create table ref_out as select id, {expr} as prediction, 1 as model_version, "  # noqa: S608
        "'run' as run_id, '2026-01-01T00:00:00' as predicted_at from bench"
    )
    with contextlib.closing(sqlite3.connect(path)) as conn:
        conn.execute("drop table if exists ref_out")
        conn.commit()
        t0 = time.perf_counter()
        conn.execute(sql)
        conn.commit()
        seconds = time.perf_counter() - t0
        conn.execute("drop table ref_out")
        conn.commit()
    return Timed(seconds, "sqlite3 CREATE TABLE ref_out AS SELECT")


def pandas_predict_path(path: Path, model: Any) -> Timed:
    import pandas as pd

    t0 = time.perf_counter()
    with contextlib.closing(sqlite3.connect(path)) as conn:
        df = pd.read_sql(PREDICT_SQL, conn)
        t_read = time.perf_counter() - t0
        out = pd.DataFrame({
            "id": df["id"],
            "prediction": model.predict(df[FEATURES].to_numpy()),
            "model_version": 1,
            "run_id": "run",
            "predicted_at": "2026-01-01T00:00:00",
        })
        out.to_sql("pandas_out", conn, if_exists="replace", index=False)
        conn.commit()
        seconds = time.perf_counter() - t0
        conn.execute("drop table pandas_out")
        conn.commit()
    return Timed(seconds, f"read_sql {t_read:.2f}s + predict + to_sql {seconds - t_read:.2f}s")


if __name__ == "__main__":
    if len(sys.argv) != 3 or sys.argv[1] != "fit":
        sys.exit("usage: batch_reference.py fit DB")
    rows = arrow_read(Path(sys.argv[2]), TRAIN_SQL, None)
    timed, _ = reference_fit(rows)
    print(f"{timed.seconds:.6f}")
