"""AutoPreprocessor: one test per column kind and per robustness promise."""

from __future__ import annotations

import datetime as dt
import json
import pickle
from typing import Any

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from sklearn.base import clone

from softquery.errors import DataError, SchemaMismatchError
from softquery.modelcode.preprocessing import AutoPreprocessor


def kinds_of(prep: AutoPreprocessor) -> dict[str, str]:
    return {c["name"]: c["kind"] for c in prep.describe()["columns"]}


def test_kinds_are_detected_from_the_data(gen: Any) -> None:
    prep = AutoPreprocessor().fit(gen.mixed_frame())
    assert kinds_of(prep) == {
        "size": "numeric",
        "rooms": "numeric",
        "city": "categorical",
        "note": "text",
        "emb": "array",
        "sold": "datetime",
    }


def test_numeric_null_becomes_mean_and_is_standardised() -> None:
    X = pd.DataFrame({"x": [1.0, None, 3.0, 5.0], "flag": [True, False, True, True]})
    out = AutoPreprocessor().fit_transform(X)
    mean, std = 3.0, np.std([1.0, 3.0, 5.0])
    np.testing.assert_allclose(out[:, 0], (np.array([1, 3, 3, 5]) - mean) / std)
    np.testing.assert_allclose(out[:, 1], (np.array([1, 0, 1, 1]) - 0.75) / np.std([1, 0, 1, 1]))
    unscaled = AutoPreprocessor(scale=False).fit_transform(X)
    np.testing.assert_allclose(unscaled[:, 0], [1.0, 3.0, 3.0, 5.0])


def test_categorical_null_is_a_category_and_unseen_values_are_zeros() -> None:
    X = pd.DataFrame({"city": ["paris", None, "lyon", "paris"]})
    prep = AutoPreprocessor().fit(X)
    assert list(prep.get_feature_names_out()) == ["city=lyon", "city=paris", "city=NULL"]
    out = prep.transform(pd.DataFrame({"city": ["lyon", "tokyo", None]}))
    np.testing.assert_array_equal(out, [[1, 0, 0], [0, 0, 0], [0, 0, 1]])


def test_categories_beyond_max_categories_are_zeros() -> None:
    X = pd.DataFrame({"code": ["a"] * 5 + ["b"] * 3 + ["c"]})
    prep = AutoPreprocessor(max_categories=2).fit(X)
    assert list(prep.get_feature_names_out()) == ["code=a", "code=b"]
    np.testing.assert_array_equal(prep.transform(pd.DataFrame({"code": ["c"]})), [[0, 0]])


def test_text_is_tfidf_and_large_text_output_is_sparse() -> None:
    X = pd.DataFrame({"review": ["great food and friendly staff", None, "cold food, slow staff, never again"]})
    prep = AutoPreprocessor().fit(X)
    assert kinds_of(prep) == {"review": "text"}
    assert "review:food" in set(prep.get_feature_names_out())
    out = prep.transform(X)
    assert isinstance(out, np.ndarray) and np.all(out[1] == 0)  # NULL text: no words
    words = [f"word{i}" for i in range(800)]
    big = pd.DataFrame({"review": [" ".join(words[i : i + 10]) for i in range(0, 800, 10)]})
    assert sp.issparse(AutoPreprocessor().fit_transform(big))
    assert isinstance(AutoPreprocessor(sparse_output=False).fit_transform(big), np.ndarray)


def test_array_column_expands_per_position_with_means_for_nulls() -> None:
    X = pd.DataFrame({"emb": [[1.0, 2.0], [3.0, 4.0], None, "[5.0, 6.0]"]})
    prep = AutoPreprocessor(scale=False).fit(X)
    assert list(prep.get_feature_names_out()) == ["emb_0", "emb_1"]
    out = prep.transform(pd.DataFrame({"emb": [None, [7.0], [1.0, 2.0, 3.0]]}))
    np.testing.assert_allclose(out, [[3.0, 4.0], [7.0, 4.0], [1.0, 2.0]])


def test_dates_split_into_parts_with_hour_only_when_times_occur() -> None:
    dates = pd.DataFrame({"d": [dt.date(2024, 1, 31), None, dt.date(2023, 6, 5)]})
    prep = AutoPreprocessor(scale=False).fit(dates)
    assert list(prep.get_feature_names_out()) == ["d_year", "d_month", "d_day", "d_day_of_week"]
    np.testing.assert_allclose(prep.transform(dates)[0], [2024, 1, 31, 2])  # a Wednesday
    as_text = pd.DataFrame({"d": ["2024-01-31", None, "2023-06-05"]})  # SQLite stores dates as text
    np.testing.assert_allclose(AutoPreprocessor(scale=False).fit_transform(as_text), prep.transform(dates))
    times = pd.DataFrame({"t": pd.to_datetime(["2024-01-01 08:30", "2024-01-02 17:00"])})
    assert "t_hour" in AutoPreprocessor().fit(times).get_feature_names_out()


def test_all_null_columns_do_not_break_fit_or_transform() -> None:
    X = pd.DataFrame({"a": [None, None, None], "b": [np.nan] * 3, "c": [1.0, 2.0, 3.0]})
    prep = AutoPreprocessor().fit(X)
    out = prep.transform(X)
    assert out.shape == (3, 3) and np.isfinite(out).all()
    json.dumps(prep.describe())  # no NaN sneaks into the description


def test_numbers_arriving_as_text_objects_and_reordered_columns(gen: Any) -> None:
    X = gen.mixed_frame()
    prep = AutoPreprocessor().fit(X)
    expected = prep.transform(X)
    shuffled = X[list(reversed(X.columns))].assign(extra=1)
    shuffled["rooms"] = shuffled["rooms"].astype(object)
    shuffled["size"] = [None if v != v else str(v) for v in shuffled["size"]]
    np.testing.assert_allclose(prep.transform(shuffled), expected)


def test_analyst_errors_for_bad_values_and_missing_columns() -> None:
    prep = AutoPreprocessor().fit(pd.DataFrame({"price": [1.0, 2.0], "city": ["a", "b"]}))
    with pytest.raises(DataError, match="Column 'price' held numbers .* 'cheap'"):
        prep.transform(pd.DataFrame({"price": ["cheap", "2"], "city": ["a", "b"]}))
    with pytest.raises(SchemaMismatchError, match="no column.*city.*prediction query"):
        prep.transform(pd.DataFrame({"price": [1.0]}))
    with pytest.raises(DataError, match="no feature columns"):
        AutoPreprocessor().fit(pd.DataFrame(index=range(3)))


def test_text_only_keeps_only_string_columns() -> None:
    X = pd.DataFrame({"msg": ["hi", "free cash now", None], "n": [1, 2, 3]})
    prep = AutoPreprocessor(text_only=True).fit(X)
    assert kinds_of(prep) == {"msg": "text"}
    assert prep.describe()["ignored_columns"] == ["n"]
    with pytest.raises(DataError, match="text column"):
        AutoPreprocessor(text_only=True).fit(pd.DataFrame({"n": [1, 2]}))


def test_describe_is_json_and_matches_the_output(gen: Any) -> None:
    prep = AutoPreprocessor().fit(gen.mixed_frame())
    description = json.loads(json.dumps(prep.describe()))
    assert description["format"] == "softquery-preprocessing/1"
    assert description["feature_names"] == list(prep.get_feature_names_out())
    names = [n for c in description["columns"] for n in c["output_features"]]
    assert names == description["feature_names"]
    size = next(c for c in description["columns"] if c["name"] == "size")
    assert size["mean"][0] == pytest.approx(gen.mixed_frame()["size"].mean())
    city = next(c for c in description["columns"] if c["name"] == "city")
    assert city["categories"] == ["lyon", "nice", "paris", None]
    emb = next(c for c in description["columns"] if c["name"] == "emb")
    assert emb["output_features"] == ["emb_0", "emb_1", "emb_2"]


def test_sklearn_conventions_clone_and_pickle(gen: Any) -> None:
    prep = AutoPreprocessor(scale=False, max_categories=7)
    assert clone(prep).get_params() == prep.get_params()
    X = gen.mixed_frame()
    prep.fit(X)
    restored = pickle.loads(pickle.dumps(prep))
    np.testing.assert_array_equal(restored.transform(X), prep.transform(X))


def test_the_dense_matrix_is_each_encoders_block_exactly(gen: Any) -> None:
    """transform() fills one matrix block by block in place; the values are bit for bit
    what each encoder's own formula gives: (raw, NULL -> mean, - mean) / scale."""
    frame = gen.mixed_frame()
    prep = AutoPreprocessor(sparse_output=False).fit(frame)
    out = prep.transform(frame)
    start = 0
    for encoder in prep.encoders_:
        width = len(encoder.names_)
        if hasattr(encoder, "raw"):
            raw = encoder.raw(frame[encoder.column])
            expected = (np.where(np.isnan(raw), encoder.mean_, raw) - encoder.mean_) / encoder.scale_
        else:
            block = encoder.transform(frame[encoder.column])
            expected = block.toarray() if sp.issparse(block) else np.asarray(block, dtype=float)
        assert np.array_equal(out[:, start:start + width], expected), encoder.column
        start += width
    assert start == out.shape[1]
    assert np.isnan(frame["size"]).any()  # the NULL -> mean path is exercised
