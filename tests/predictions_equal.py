"""What "equal to a batch prediction" means (README, Online predictions), as one assertion.

Predictions of the same rows by the same version agree to a relative 1e-12, not to the
last bit: the linear-algebra library sums in another order for another batch shape (one
row alone, the same row in a two-row request, a batch chunk of 1,000 rows, a request
coalesced with others), so ``-19.46368958478561`` and ``-19.463689584785612`` are the same
answer. Labels, classes, keys, versions and the number of rows must match exactly.

Compare predictions that come from different batch shapes, requests or code paths (batch
vs online vs MLSQL, one request format vs another) with :func:`assert_predictions_equal`,
never with ``==``.
"""

from __future__ import annotations

import math
from typing import Any

REL_TOL = 1e-12
ABS_TOL = 1e-12  # for numbers near zero, whose relative error a cancelling sum can inflate


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _differences(actual: Any, expected: Any, where: str) -> list[str]:
    actual, expected = (v.tolist() if hasattr(v, "tolist") else v for v in (actual, expected))  # numpy
    if _is_number(actual) and _is_number(expected) and (isinstance(actual, float) or isinstance(expected, float)):
        if math.isnan(actual) and math.isnan(expected):
            return []
        if math.isclose(actual, expected, rel_tol=REL_TOL, abs_tol=ABS_TOL):
            return []
        return [f"{where}: {actual!r} != {expected!r} (beyond a relative {REL_TOL:g})"]
    if isinstance(actual, dict) and isinstance(expected, dict):
        if set(actual) != set(expected):
            return [f"{where}: keys {sorted(map(str, actual))} != {sorted(map(str, expected))}"]
        return [d for key in actual for d in _differences(actual[key], expected[key], f"{where}[{key!r}]")]
    if isinstance(actual, list | tuple) and isinstance(expected, list | tuple):
        if len(actual) != len(expected):
            return [f"{where}: {len(actual)} items != {len(expected)} items"]
        return [d for i, (a, e) in enumerate(zip(actual, expected, strict=True))
                for d in _differences(a, e, f"{where}[{i}]")]
    return [] if actual == expected else [f"{where}: {actual!r} != {expected!r}"]


def assert_predictions_equal(actual: Any, expected: Any) -> None:
    """Assert that two answers (numbers, lists, dicts, arrays, nested) are the same predictions:
    floats within a relative 1e-12, everything else exactly equal."""
    differences = _differences(actual, expected, "answer")
    assert not differences, "predictions differ:\n" + "\n".join(differences[:20])
