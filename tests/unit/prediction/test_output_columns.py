"""The probability columns name their class, as safe identifiers; a table written by an earlier
release keeps its `probability` column on append (README Concepts, Prediction)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from softquery.identifiers import is_identifier
from softquery.prediction.output import (
    legacy_names,
    output_batch,
    output_probability_columns,
    probability_columns,
)
from softquery.prediction.table_writer import open_writer


@pytest.mark.parametrize(("classes", "names"), [
    (["benign", "malignant"], ["probability_benign", "probability_malignant"]),
    (["is spam", "ham"], ["probability_is_spam", "probability_ham"]),
    (["1", "2", "10"], ["probability_1", "probability_2", "probability_10"]),
    ([0.0, 1.0], ["probability_0", "probability_1"]),          # a boolean label's classes
    ([0.5, 1.5], ["probability_0_5", "probability_1_5"]),
    (["a b", "a_b", "A_B"], ["probability_a_b", "probability_a_b_2", "probability_A_B_3"]),
    (["café", "", "?!"], ["probability_caf", "probability_class", "probability_class_2"]),
])
def test_class_names_become_safe_distinct_columns(classes: list[Any], names: list[str]) -> None:
    assert probability_columns(classes) == names


@settings(max_examples=200, deadline=None)
@given(st.lists(st.one_of(st.text(max_size=80), st.integers(), st.floats(allow_nan=False)), min_size=1,
                max_size=8, unique=True))
def test_any_classes_give_identifiers_distinct_without_case(classes: list[Any]) -> None:
    names = probability_columns(classes)
    assert all(is_identifier(n) and n.startswith("probability_") for n in names)
    assert len({n.lower() for n in names}) == len(names)
    assert probability_columns(list(classes)) == names  # deterministic


def _batch(classes: list[Any], proba: np.ndarray, run_id: str = "r1") -> pa.RecordBatch:
    return output_batch(pa.record_batch({"id": [1, 2]}), id_columns=["id"],
                        predictions=np.array([classes[0], classes[-1]], dtype=object), proba=proba,
                        classes=classes, version=1, run_id=run_id, predicted_at=datetime(2024, 1, 1, tzinfo=UTC))


def test_a_binary_classifier_writes_the_positive_class_column() -> None:
    out = _batch(["benign", "malignant"], np.array([[0.9, 0.1], [0.2, 0.8]]))
    assert out.schema.names == ["id", "prediction", "probability_malignant", "model_version", "run_id",
                                "predicted_at"]
    assert out.column("probability_malignant").to_pylist() == [0.1, 0.8]
    assert output_probability_columns(["no", "yes"]) == ["probability_yes"]
    three = _batch(["a", "b", "c"], np.full((2, 3), 1 / 3))
    assert [n for n in three.schema.names if n.startswith("probability")] == [
        "probability_a", "probability_b", "probability_c"]


def test_earlier_names() -> None:
    assert legacy_names(["no", "yes"]) == {"probability_yes": "probability"}
    assert legacy_names([1.0, 2.0, 3.0]) == {"probability_1": "probability_1_0", "probability_2": "probability_2_0",
                                             "probability_3": "probability_3_0"}
    assert legacy_names(["a", "b", "c"]) == {} and legacy_names(None) == {}


def _columns(path: Path, table: str) -> list[str]:
    import sqlite3

    with sqlite3.connect(path) as conn:
        out = [r[1] for r in conn.execute(f"pragma table_info({table})")]
    conn.close()
    return out


def _write(url: str, mode: str, run_id: str) -> list[str]:
    batch = _batch(["no", "yes"], np.array([[0.9, 0.1], [0.2, 0.8]]), run_id)
    with open_writer(url, "fans", mode, run_id=run_id, aliases=legacy_names(["no", "yes"])) as writer:
        writer.write(batch)
        writer.commit()
    return writer.notes


def test_append_keeps_an_old_probability_column_and_replace_renames_it(tmp_path: Path) -> None:
    import sqlite3

    path = tmp_path / "out.db"
    sqlite3.connect(path).close()
    url = f"sqlite:///{path}"
    _write(url, "append", "run1")
    with sqlite3.connect(path) as conn:  # as an earlier release wrote it
        conn.execute("alter table fans rename column probability_yes to probability")
    conn.close()
    notes = _write(url, "append", "run2")
    assert "probability" in _columns(path, "fans") and "probability_yes" not in _columns(path, "fans")
    assert notes and "has the column 'probability' from an earlier release" in notes[0]
    with sqlite3.connect(path) as conn:
        rows = conn.execute("select run_id, probability from fans order by run_id").fetchall()
    conn.close()
    assert rows == [("run1", 0.1), ("run1", 0.8), ("run2", 0.1), ("run2", 0.8)]
    notes = _write(url, "replace", "run3")
    assert _columns(path, "fans")[2] == "probability_yes" and "probability" not in _columns(path, "fans")
    assert notes and "is now 'probability_yes'" in notes[0]
    assert _write(url, "append", "run4") == []  # a table with today's names: nothing to say
