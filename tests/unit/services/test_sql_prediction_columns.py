"""The columns a SQL prediction adds (BigQuery's shape) and how batches of predictions join."""

from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow as pa
import pytest

from softquery.errors import ModelCodeError
from softquery.prediction.predict_rows import PredictSpec
from softquery.sandbox import Limits
from softquery.services.sql_predict import PreparedModel, concatenated, with_predictions


def prepared(label: str | None, classes: list[Any] | None) -> PreparedModel:
    return PreparedModel(name="m", source="s", version=3, label=label, classes=classes, features=[],
                         spec=PredictSpec(version=3, artifact=b"", code=""), limits=Limits())


def test_a_classifier_adds_its_class_its_probs_and_the_positive_probability() -> None:
    batch = pa.RecordBatch.from_pydict({"id": [1, 2], "kind": ["x", "y"]})
    out = with_predictions(prepared("kind", ["big", "small"]), batch, np.array(["big", "small"], dtype=object),
                           np.array([[0.9, 0.1], [0.2, 0.8]]))
    assert out.schema.names == ["id", "kind", "predicted_kind", "predicted_kind_probs", "probability_small"]
    assert out.column("predicted_kind_probs").to_pylist() == [
        [{"label": "big", "prob": 0.9}, {"label": "small", "prob": 0.1}],
        [{"label": "big", "prob": 0.2}, {"label": "small", "prob": 0.8}]]
    assert out.column("probability_small").to_pylist() == [0.1, 0.8]


def test_three_classes_get_a_probability_column_each_and_a_regressor_none() -> None:
    batch = pa.RecordBatch.from_pydict({"id": [1]})
    out = with_predictions(prepared("species", [0, 1, 2]), batch, np.array([2]), np.array([[0.1, 0.2, 0.7]]))
    assert out.schema.names[-4:] == ["predicted_species_probs", "probability_0", "probability_1", "probability_2"]
    assert out.column("predicted_species_probs").type.value_type.field("label").type == pa.int64()
    out = with_predictions(prepared(None, None), batch, np.array([np.nan]), None)
    assert out.schema.names == ["id", "predicted_label"] and out.column(1).to_pylist() == [None]  # NaN: NULL


def test_an_input_column_named_like_a_prediction_is_replaced() -> None:
    batch = pa.RecordBatch.from_pydict({"predicted_value": ["old"], "id": [1]})
    out = with_predictions(prepared("value", None), batch, np.array([1.5]), None)
    assert out.schema.names == ["id", "predicted_value"] and out.column(1).to_pylist() == [1.5]


def test_batches_of_different_prediction_types_widen() -> None:
    ints = pa.RecordBatch.from_pydict({"p": pa.array([1, 2])})
    floats = pa.RecordBatch.from_pydict({"p": pa.array([0.5, None])})
    empty = pa.RecordBatch.from_pydict({"p": pa.array([], type=pa.string())})
    table = concatenated([empty, ints, floats])
    assert table.schema.field("p").type == pa.float64() and table.column("p").to_pylist() == [1.0, 2.0, 0.5, None]
    assert concatenated([empty]).num_rows == 0
    with pytest.raises(ModelCodeError):
        concatenated([ints, pa.RecordBatch.from_pydict({"p": pa.array([[1]])})])
