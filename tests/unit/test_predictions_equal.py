"""The shared comparison of predictions (tests/predictions_equal.py) means what the README says."""

from __future__ import annotations

import numpy as np
import pytest
from tests.predictions_equal import assert_predictions_equal


def test_the_last_bit_of_another_batch_shape_is_the_same_answer() -> None:
    assert -19.46368958478561 != -19.463689584785612  # the pair of issue 10, item 11
    assert_predictions_equal([-19.46368958478561], [-19.463689584785612])
    assert_predictions_equal({"predictions": ["setosa"], "probabilities": [{"setosa": 0.97, "virginica": 1e-300}]},
                             {"predictions": ["setosa"], "probabilities": [{"setosa": 0.97 + 1e-16, "virginica": 0.0}]})
    assert_predictions_equal(np.array([1.0, 2.0]), [1.0, 2.0 * (1 + 1e-15)])


@pytest.mark.parametrize("actual,expected", [
    ([1.0], [1.0 + 1e-9]),  # a real difference
    (["setosa"], ["virginica"]),  # labels are exact
    ({"a": 1.0}, {"b": 1.0}),
    ([1.0, 2.0], [1.0]),
    ({"version": 1}, {"version": 2}),
])
def test_a_different_answer_is_not_equal(actual: object, expected: object) -> None:
    with pytest.raises(AssertionError, match="predictions differ"):
        assert_predictions_equal(actual, expected)
