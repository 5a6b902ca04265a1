"""A serving worker's replies hold JSON's types only, as they did when they were JSON."""

from __future__ import annotations

import datetime
import decimal
import json
from typing import Any

import numpy as np
import pytest

from softquery.serving.worker import _as_list


def _as_json_was(values: np.ndarray) -> Any:
    return json.loads(json.dumps(values.tolist(), default=str))


@pytest.mark.parametrize("values", [
    np.array([1.5, 2.5]), np.array([1, 2]), np.array([True, False]), np.array(["a", "b"]),
    np.array(["a", None, 3, 1.5], dtype=object),
    np.array([decimal.Decimal("1.5"), datetime.date(2024, 1, 2)], dtype=object),
    np.array(["2024-01-02T03:04:05"], dtype="datetime64[s]"), np.array([1 + 2j]), np.array([b"x"]),
])
def test_replies_are_what_json_gave(values: np.ndarray) -> None:
    assert _as_list(values) == _as_json_was(values)


def test_non_finite_floats_become_none() -> None:
    assert _as_list(np.array([1.0, np.nan, np.inf])) == [1.0, None, None]
