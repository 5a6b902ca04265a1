from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest

from softquery.data import (
    build_training_set,
    check_predict_schema,
    detect_id_columns,
    detect_label,
    fingerprint,
    frame_for_prediction,
)
from softquery.errors import DataError, SchemaMismatchError


def test_label_is_the_train_column_missing_from_predict() -> None:
    assert detect_label(["price", "quality"], ["price"], None) == "quality"
    assert detect_label(["price", "quality"], ["price"], "price") == "price"


def test_explicit_label_must_be_a_train_column() -> None:
    with pytest.raises(DataError, match="price, quality"):
        detect_label(["price", "quality"], ["price"], "grade")


@pytest.mark.parametrize("predict", [["price", "quality"], []])
def test_ambiguous_label_asks_for_label(predict: list[str]) -> None:
    with pytest.raises(DataError, match="--label") as caught:
        detect_label(["price", "quality"], predict, None)
    assert caught.value.details["candidates"] == ["price", "quality"]


def test_id_columns() -> None:
    assert detect_id_columns(["ID", "house_id", "idea", "price"], None) == ["ID", "house_id"]
    assert detect_id_columns(["a", "b"], ["b"]) == ["b"]
    with pytest.raises(DataError, match="zzz"):
        detect_id_columns(["a"], ["zzz"])


def _train() -> pa.Table:
    return pa.table({
        "id": pa.array([1, 2, 3, 4], pa.int64()),
        "area": pa.array([50.0, None, 70.0, 80.0]),
        "rooms": pa.array([1, 2, 3, 4], pa.int64()),
        "color": pa.array(["red", None, "blue", "red"]),
        "garden": pa.array([True, False, None, True]),
        "vec": pa.array(["[0.1, 0.2]", "[1, 2]", None, "[3e-1, 4]"]),
        "notes": pa.array(["a long free text description of the house"] * 4),
        "quality": pa.array([1, None, 0, 1], pa.int64()),
    })


def test_build_training_set_converts_for_sklearn() -> None:
    ts = build_training_set(_train(), label="quality", id_columns=["id"])
    kinds = {f.name: f.kind for f in ts.features}
    assert kinds == {"area": "numeric", "rooms": "numeric", "color": "categorical",
                     "garden": "boolean", "vec": "array", "notes": "text"}
    assert list(ts.X.columns) == ["area", "rooms", "color", "garden", "vec", "notes"]
    assert ts.row_count == 3 and len(ts.X) == 3
    assert ts.X["area"].dtype == np.float64 and ts.X["rooms"].dtype == np.int64
    assert ts.X["color"].dtype == object and ts.X["color"].isna().tolist() == [False, False, False]
    assert ts.X["garden"].dtype == np.float64 and np.isnan(ts.X["garden"][1]) and ts.X["garden"][0] == 1.0
    # a vector column: each cell a float64 numpy array (README Concepts), None for NULL
    assert [None if v is None else v.tolist() for v in ts.X["vec"]] == [[0.1, 0.2], None, [0.3, 4.0]]
    assert all(type(v) is np.ndarray and v.dtype == np.float64 for v in ts.X["vec"] if v is not None)
    assert ts.y is not None and ts.y.tolist() == [1, 0, 1]
    assert "Dropped 1 row" in ts.notes[0]
    assert ts.fingerprint == fingerprint(_train())
    assert {"name": "quality", "arrow_type": "int64"} in ts.columns


def test_empty_result_all_null_label_and_no_features() -> None:
    with pytest.raises(DataError, match="returned no rows"):
        build_training_set(_train().slice(0, 0), label="quality", id_columns=[])
    nulls = pa.table({"x": [1.0, 2.0], "y": pa.array([None, None], pa.float64())})
    with pytest.raises(DataError, match="NULL in every row"):
        build_training_set(nulls, label="y", id_columns=[])
    with pytest.raises(DataError, match="No feature columns"):
        build_training_set(pa.table({"id": [1], "y": [1]}), label="y", id_columns=["id"])


def test_prediction_frame_matches_training() -> None:
    ts = build_training_set(_train(), label="quality", id_columns=["id"])
    batch = _train().drop_columns(["quality"]).select(["vec", "notes", "id", "garden", "color", "rooms", "area"])
    X = frame_for_prediction(batch.to_batches()[0], ts.features)
    assert list(X.columns) == list(ts.X.columns)
    assert X["vec"].tolist()[0].tolist() == [0.1, 0.2]


def test_predict_schema_check() -> None:
    ts = build_training_set(_train(), label="quality", id_columns=["id"])
    good = _train().schema.set(2, pa.field("rooms", pa.float64()))  # ints vs floats: compatible
    good = good.set(1, pa.field("area", pa.null()))
    check_predict_schema(good, ts.features, ["id"], "quality")
    bad = pa.schema([("id", pa.int64()), ("rooms", pa.string()), ("color", pa.string()),
                     ("garden", pa.bool_()), ("vec", pa.string()), ("extra", pa.int64())])
    with pytest.raises(SchemaMismatchError) as caught:
        check_predict_schema(bad, ts.features, ["id"], "quality", version=3)
    message = caught.value.message
    assert "missing column(s) area, notes that version 3 was trained on" in message
    assert "rooms is string" in message
    assert caught.value.details["extra"] == ["id", "extra"]
