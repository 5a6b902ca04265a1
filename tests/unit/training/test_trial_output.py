"""What model code prints during search trials and AutoML candidates reaches the run's output
(``TrainOutput.stdout``/``stderr``), each block under the trial's name, forked or not, within
the run's log limit."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from softquery.modelcode.templates import template_code
from softquery.training import automl
from softquery.training.pipeline import train_from_rows
from softquery.training.spec import TrainSpec

PRINTING = template_code("ridge_regression").replace(
    "        self.pipeline.fit(X, y)\n",
    "        import sys\n"
    "        print(f'marker alpha={self.pipeline[-1].alpha}')\n"
    "        print(f'complaint alpha={self.pipeline[-1].alpha}', file=sys.stderr)\n"
    "        self.pipeline.fit(X, y)\n")


def _noop(*_args: Any, **_kwargs: Any) -> None:
    return None


def _table(n: int = 60) -> pa.Table:
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"a": rng.normal(size=n), "b": rng.normal(size=n)})
    frame["y"] = 2 * frame["a"] - frame["b"] + rng.normal(scale=0.1, size=n)
    return pa.Table.from_pandas(frame, preserve_index=False)


@pytest.mark.parametrize("cores", [1, 2], ids=["in-process", "forked"])
def test_each_trials_print_output_is_in_the_run_output_under_its_name(cores: int) -> None:
    assert PRINTING != template_code("ridge_regression")
    spec = TrainSpec(model="m", code=PRINTING, template=None, label="y", cv_folds=2, cores=cores,
                     search={"method": "grid", "params": {"Ridge.alpha": {"values": [0.25, 7.5]}}})
    out = train_from_rows(spec, lambda: (_table(), ["a", "b"]), _noop)
    assert out.selection is not None and len(out.selection["trials"]) == 2
    for number, alpha in ((1, 0.25), (2, 7.5)):
        # the block of each trial: its header, then what its two folds printed
        assert f"── trial {number} (Ridge.alpha={alpha}) ──\n" + f"marker alpha={alpha}\n" * 2 in out.stdout, out.stdout
        assert f"── trial {number} (Ridge.alpha={alpha}) ──\n" + f"complaint alpha={alpha}\n" * 2 in out.stderr
    # the trials come before the version's own fits
    assert out.stdout.index("trial 2 (") < out.stdout.rindex("marker alpha=")


def test_trial_output_keeps_the_runs_log_limit() -> None:
    loud = PRINTING.replace("print(f'marker", "print('x' * 3000); print(f'marker")
    spec = TrainSpec(model="m", code=loud, template=None, label="y", cv_folds=2, log_limit=2000,
                     search={"method": "grid", "params": {"Ridge.alpha": {"values": [0.25, 7.5]}}})
    out = train_from_rows(spec, lambda: (_table(), ["a", "b"]), _noop)
    assert out.stdout.startswith("[… earlier output cut …]\n"), out.stdout[:200]
    assert "marker alpha=7.5" in out.stdout
    assert len(out.stdout) < 3 * 2000 + 200  # the trials' tail, the final fit's, the folds'


def test_each_automl_candidates_print_output_is_in_the_run_output(monkeypatch: pytest.MonkeyPatch) -> None:
    def printing(name: str) -> str:
        code = template_code(name)
        return code.replace("    def train(self, X, y):\n",
                            f"    def train(self, X, y):\n        print('candidate says {name}')\n", 1)

    monkeypatch.setattr(automl, "template_code", printing)
    monkeypatch.setattr(automl, "CANDIDATES", {**automl.CANDIDATES, automl.TaskType.REGRESSION: (
        "linear_regression", "ridge_regression")})
    spec = TrainSpec(model="m", code=template_code("auto_regressor"), template="auto_regressor", label="y",
                     cv_folds=2, cores=2, time_budget_seconds=60)
    out = train_from_rows(spec, lambda: (_table(), ["a", "b"]), _noop)
    for name in ("linear_regression", "ridge_regression"):
        assert f"── candidate {name} ──\n" + f"candidate says {name}\n" * 2 in out.stdout, out.stdout
