"""What model code prints while a version is trained is in the run's log under a line naming the
fit that printed it: "── holdout fit ──", "── final fit ──", "── cross-validation fold N ──",
"── trial N (…) ──", "── candidate NAME ──" (``capture.headed``), whether the fits run one after
another or side by side (2 cores), and whether the output is captured (``TrainOutput.stdout``)
or streamed as printed (a job: the process's own stdout)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from tests.run_log_blocks import blocks

from softquery.modelcode.templates import template_code
from softquery.training.pipeline import train_from_rows
from softquery.training.spec import TrainSpec

ROWS = 60
PRINTING = template_code("ridge_regression").replace(
    "        self.pipeline.fit(X, y)\n",
    "        print(f'training rows {len(X)}')\n"
    "        self.pipeline.fit(X, y)\n")


def _noop(*_args: Any, **_kwargs: Any) -> None:
    return None


def _table() -> pa.Table:
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"a": rng.normal(size=ROWS), "b": rng.normal(size=ROWS)})
    frame["y"] = 2 * frame["a"] - frame["b"] + rng.normal(scale=0.1, size=ROWS)
    return pa.Table.from_pandas(frame, preserve_index=False)


def _train(spec: TrainSpec, capture: bool, capfd: pytest.CaptureFixture[str]) -> str:
    spec.capture_output = capture
    capfd.readouterr()
    out = train_from_rows(spec, lambda: (_table(), ["a", "b"]), _noop)
    streamed = capfd.readouterr().out
    return out.stdout if capture else streamed


@pytest.mark.parametrize("capture", [True, False], ids=["captured", "streamed"])
@pytest.mark.parametrize("cores", [1, 2], ids=["one-core", "two-cores"])
def test_the_holdout_and_final_fits_print_under_their_names(cores: int, capture: bool,
                                                            capfd: pytest.CaptureFixture[str]) -> None:
    spec = TrainSpec(model="m", code=PRINTING, template=None, label="y", cv_folds=2, cores=cores)
    found = blocks(_train(spec, capture, capfd))
    assert found["holdout fit"] == [f"training rows {ROWS - ROWS // 5}"], found
    assert found["final fit"] == [f"training rows {ROWS}"], found
    assert found["cross-validation fold 1"] == found["cross-validation fold 2"] == [f"training rows {ROWS // 2}"]
    assert set(found) == {"holdout fit", "final fit", "cross-validation fold 1", "cross-validation fold 2"}


@pytest.mark.parametrize("capture", [True, False], ids=["captured", "streamed"])
@pytest.mark.parametrize("cores", [1, 2], ids=["one-core", "two-cores"])
def test_after_a_search_the_versions_fits_are_not_under_the_last_trial(cores: int, capture: bool,
                                                                        capfd: pytest.CaptureFixture[str]) -> None:
    spec = TrainSpec(model="m", code=PRINTING, template=None, label="y", cv_folds=2, cores=cores,
                     search={"method": "grid", "params": {"Ridge.alpha": {"values": [0.25, 7.5]}}})
    found = blocks(_train(spec, capture, capfd))
    for trial in ("trial 1 (Ridge.alpha=0.25)", "trial 2 (Ridge.alpha=7.5)"):
        assert found[trial] == [f"training rows {ROWS // 2}"] * 2, found  # its two folds, nothing else
    assert found["holdout fit"] == [f"training rows {ROWS - ROWS // 5}"], found
    assert found["final fit"] == [f"training rows {ROWS}"], found
    assert set(found) == {"trial 1 (Ridge.alpha=0.25)", "trial 2 (Ridge.alpha=7.5)", "holdout fit", "final fit"}
