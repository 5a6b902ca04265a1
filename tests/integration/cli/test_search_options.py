"""The CLI's hyperparameter search options: read, checked (a clear error, nothing saved), shown, removed."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.integration.cli.cli_harness import SoftqueryCLI
from tests.run_log_blocks import blocks

TRAIN = "select id, price, quality from houses"
PREDICT = "select id, price from houses"


def _create(sq: SoftqueryCLI, *extra: str, ok: bool = True) -> tuple[int, str]:
    result = sq("model", "create", "m", "--source", "shop", "--template", "random_forest_regressor",
                "--train-sql", TRAIN, "--predict-sql", PREDICT, *extra, ok=ok)
    return result.code, result.out + result.err


@pytest.mark.parametrize(("params", "words"), [
    (["--param", "max_depth=3:"], "LOW and HIGH of a range must be numbers: max_depth=LOW:HIGH"),
    (["--param", "max_depth="], "gives no values"),
    (["--param", "max depth=3"], "write NAME=V1,V2,... or NAME=LOW:HIGH[:log]"),
    (["--param", "max_dept=3,6"], "Did you mean max_depth?"),
    (["--param", "n_estimators=0.001:100:log", "--param", "n_estimators=1,2"], "given twice"),
    (["--search", "grid", "--param", "max_depth=1:10", "--param", "n_estimators=1:100", "--param",
      "min_samples_leaf=1,2,3,4,5,6,7,8,9"], "225 combinations"),
])
def test_bad_search_options_are_clear_errors(sq: SoftqueryCLI, shop: None, params: list[str], words: str) -> None:
    code, text = _create(sq, *params, ok=False)
    assert code != 0 and words in text, text
    assert sq("model", "list", "--json").json() == []


def test_search_options_are_saved_shown_and_removed(sq: SoftqueryCLI, shop: None) -> None:
    _create(sq, "--search", "random", "--param", "max_depth=2:12", "--param", "n_estimators=50:400:log",
            "--trials", "4", "--time-budget", "90")
    shown = sq("model", "show", "m", "--json").json()
    assert shown["search"] == {"method": "random", "params": {"max_depth": {"low": 2, "high": 12, "log": False},
                                                               "n_estimators": {"low": 50, "high": 400, "log": True}},
                               "trials": 4}
    assert shown["time_budget_seconds"] == 90
    text = sq("model", "show", "m").out
    assert "random over max_depth=2:12, n_estimators=50:400:log, at most 4 trials" in text, text
    sq("model", "update", "m", "--no-search")
    assert sq("model", "show", "m", "--json").json()["search"] is None


@pytest.mark.parametrize(("param", "words"), [
    ("max_depth=a,b", "max_depth takes whole numbers of at least 1 (or none); 'a' is not one"),
    ("n_estimators=1.5,2", "n_estimators takes whole numbers of at least 1; 1.5 is not one"),
    ("min_samples_leaf=-1,0", "min_samples_leaf takes whole numbers of at least 1; -1 is too small"),
    ("min_samples_leaf=0:5", "the range's low (0) is not"),
])
def test_param_values_are_checked_against_the_parameter_at_save(sq: SoftqueryCLI, shop: None, param: str,
                                                                words: str) -> None:
    code, text = _create(sq, "--search", "grid", "--param", param, ok=False)
    assert code != 0 and words in text, text
    assert sq("model", "list", "--json").json() == []


def test_update_changes_only_the_search_fields_given(sq: SoftqueryCLI, shop: None) -> None:
    _create(sq, "--search", "random", "--param", "n_estimators=200:600")
    sq("model", "update", "m", "--time-budget", "5", "--trials", "20")
    shown = sq("model", "show", "m", "--json").json()
    assert shown["search"] == {"method": "random", "params": {"n_estimators": {"low": 200, "high": 600,
                                                                                "log": False}}, "trials": 20}
    sq("model", "update", "m", "--time-budget", "7")
    assert sq("model", "show", "m", "--json").json()["search"] == shown["search"]
    sq("model", "update", "m", "--search", "bayes")  # the method alone keeps the parameters and trials
    assert sq("model", "show", "m", "--json").json()["search"] == {**shown["search"], "method": "bayes"}
    sq("model", "update", "m", "--param", "max_depth=3,6")  # --param replaces the parameters
    assert sq("model", "show", "m", "--json").json()["search"] == {
        "method": "bayes", "params": {"max_depth": {"values": [3, 6]}}, "trials": 20}


def test_the_time_budget_help_states_the_real_defaults(sq: SoftqueryCLI) -> None:
    text = sq("model", "create", "--help").out
    assert "AutoML 60 s" in " ".join(text.split()) and "60% of the run's time limit" in " ".join(text.split())
    assert "every planned trial runs" not in text


def test_versions_say_what_automl_chose(sq: SoftqueryCLI, shop: None) -> None:
    sq("model", "create", "a", "--source", "shop", "--template", "auto", "--label", "quality",
       "--train-sql", TRAIN, "--predict-sql", PREDICT, "--time-budget", "1", "--cv-folds", "2")
    sq("train", "a")
    listed = sq("versions", "a", "--json").json()
    selection = listed[0]["selection"]
    assert selection["kind"] == "auto"
    text = sq("versions", "a").out
    assert f"auto → {selection['chosen']}" in text and "chosen" in text, text


def test_objective_is_set_from_the_cli_and_chooses_the_trial(sq: SoftqueryCLI, shop: None) -> None:
    _create(sq, "--search", "grid", "--param", "max_depth=2,3", "--param", "n_estimators=5", "--objective", "rmse",
            "--label", "quality", "--cv-folds", "2")
    shown = sq("model", "show", "m", "--json").json()
    assert shown["search"]["objective"] == "rmse", shown["search"]
    assert "by rmse" in sq("model", "show", "m").out
    sq("train", "m")
    selection = sq("versions", "m", "--json").json()[0]["selection"]
    assert selection["objective"] == "rmse" and selection["direction"] == "minimize", selection
    sq("model", "update", "m", "--objective", "mae")  # alone: keeps the method and the parameters
    assert sq("model", "show", "m", "--json").json()["search"] == {**shown["search"], "objective": "mae"}


def test_an_unknown_objective_is_refused_with_the_nearest_name(sq: SoftqueryCLI, shop: None) -> None:
    code, text = _create(sq, "--search", "random", "--param", "max_depth=2:6", "--objective", "rmes", ok=False)
    assert code == 2 and "Did you mean 'rmse'?" in text, text
    assert sq("model", "list", "--json").json() == []


PRINTING_CODE = '''
import sys

from sklearn.linear_model import Ridge
from sklearn.pipeline import make_pipeline

from softquery.modelcode.preprocessing import AutoPreprocessor


class Model:
    task = "regression"

    def __init__(self):
        self.pipeline = make_pipeline(AutoPreprocessor(), Ridge(alpha=1.0))

    def train(self, X, y):
        print(f"marker alpha={self.pipeline[-1].alpha}")
        print(f"complaint alpha={self.pipeline[-1].alpha}", file=sys.stderr)
        self.pipeline.fit(X, y)

    def predict(self, X):
        return self.pipeline.predict(X)
'''


def test_what_search_trials_print_is_in_the_run_log(sq: SoftqueryCLI, shop: None, tmp_path: Path) -> None:
    code_file = tmp_path / "model.py"
    code_file.write_text(PRINTING_CODE)
    sq("model", "create", "m", "--source", "shop", "--code-file", str(code_file), "--label", "quality",
       "--train-sql", TRAIN, "--predict-sql", PREDICT, "--cv-folds", "2",
       "--search", "grid", "--param", "Ridge.alpha=0.25,7.5")
    run = sq("train", "m", "--json").json()
    shown = sq("run", "show", run["id"]).out
    for number, alpha in ((1, 0.25), (2, 7.5)):
        assert f"── trial {number} (Ridge.alpha={alpha}) ──" in shown, shown
        assert f"marker alpha={alpha}" in shown and f"complaint alpha={alpha}" in shown, shown
    logged = sq("run", "show", run["id"], "--json").json()
    # trials running side by side print as they go: a heading comes back when the other trial printed between
    assert blocks(logged["stdout"])["trial 2 (Ridge.alpha=7.5)"] == ["marker alpha=7.5"] * 2, logged["stdout"]
    assert blocks(logged["stderr"])["trial 1 (Ridge.alpha=0.25)"] == ["complaint alpha=0.25"] * 2, logged["stderr"]

