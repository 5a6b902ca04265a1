"""The datasets the model-selection benchmarks measure on (``selection.py``, ``automl_libraries.py``).

Every demo model's train query on a fresh demo database (``softquery.demo``), turned into X, y the
way a training does (``softquery.data.build_training_set``), and two generated tables: ``linear``
(a weighted sum of 10 columns plus noise) and ``nonlinear`` (a threshold interaction plus a sine:
no weighted sum fits it). No figure of its own.
"""

from __future__ import annotations

import contextlib
import sqlite3
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
from sklearn.base import clone
from sklearn.pipeline import make_pipeline

from softquery.data import build_training_set, detect_id_columns
from softquery.demo.demo_tables import DEMO_MODELS, write_demo_database
from softquery.domain import TaskType
from softquery.modelcode.preprocessing import AutoPreprocessor
from softquery.training.cross_validation import cross_validate

GENERATED_ROWS = 20_000
QUICK_GENERATED_ROWS = 2_000


@dataclass
class Dataset:
    name: str
    X: pd.DataFrame
    y: pd.Series


def demo_datasets() -> Iterator[Dataset]:
    with tempfile.TemporaryDirectory(prefix="sq-selection-") as tmp:
        path = Path(tmp) / "demo.db"
        write_demo_database(path)
        with contextlib.closing(sqlite3.connect(path)) as conn:
            for model in DEMO_MODELS:
                frame = pd.read_sql_query(str(model["train_sql"]), conn)
                table = pa.Table.from_pandas(frame, preserve_index=False)
                label = str(model["label"])
                ids = [c for c in detect_id_columns(table.column_names, None) if c != label]
                data = build_training_set(table, label=label, id_columns=ids)
                assert data.y is not None
                yield Dataset(str(model["name"]), data.X, data.y)


def generated(rows: int) -> list[Dataset]:
    rng = np.random.default_rng(14)
    X = pd.DataFrame(rng.normal(size=(rows, 10)), columns=[f"f{i}" for i in range(10)])
    linear = X.to_numpy() @ np.linspace(-2.0, 3.0, 10) + rng.normal(scale=1.0, size=rows)
    nonlinear = (np.where((X["f0"] > 0) ^ (X["f1"] > 0), 4.0, -4.0) + 2.0 * np.sin(3.0 * X["f2"])
                 + rng.normal(scale=0.3, size=rows))
    return [Dataset(f"linear ({rows:,} rows)", X, pd.Series(linear, name="y")),
            Dataset(f"nonlinear ({rows:,} rows)", X, pd.Series(nonlinear, name="y"))]


def all_datasets(quick: bool) -> list[Dataset]:
    return [*demo_datasets(), *generated(QUICK_GENERATED_ROWS if quick else GENERATED_ROWS)]


def classes_of(y: pd.Series, task: TaskType) -> list[Any] | None:
    return sorted(pd.unique(y).tolist(), key=lambda v: (str(type(v)), v)) if task is TaskType.CLASSIFICATION else None


def cv_score(cls: Any, data: Dataset, task: TaskType, folds: int = 5) -> tuple[float, float]:
    cv = cross_validate(cls, data.X, data.y, task, classes_of(data.y, task), folds=folds)
    mean, std = cv.score(task.key_metric)
    return float(mean or 0.0), float(std or 0.0)


def estimator_model(estimator: Any, task: TaskType) -> type:
    """A ``class Model`` running AutoPreprocessor + a clone of ``estimator``."""
    class Model:
        def __init__(self) -> None:
            self.pipeline = make_pipeline(AutoPreprocessor(), clone(estimator))

        def train(self, X: pd.DataFrame, y: pd.Series) -> None:
            self.pipeline.fit(X, y)

        def predict(self, X: pd.DataFrame) -> Any:
            return self.pipeline.predict(X)

    if task is TaskType.CLASSIFICATION and hasattr(estimator, "predict_proba"):
        Model.predict_proba = lambda self, X: self.pipeline.predict_proba(X)  # type: ignore[attr-defined]
    return Model
