"""Cross-validation through the CLI: --cv-folds / --order-column set, show and clear; `versions` shows the
key metric's CV mean ± std; `train` and `run show` say what CV measured and why the version was (not)
activated."""

from __future__ import annotations

import re

import pytest
from tests.integration.cli.cli_harness import SoftqueryCLI


@pytest.fixture
def demo(sq: SoftqueryCLI) -> SoftqueryCLI:
    sq("demo")
    return sq


def test_cv_settings_are_set_shown_checked_and_cleared(demo: SoftqueryCLI) -> None:
    demo("model", "update", "house_quality", "--cv-folds", "3", "--order-column", "id")
    shown = demo("model", "show", "house_quality", "--json").json()
    assert (shown["cv_folds"], shown["order_column"]) == (3, "id")
    assert "order_column: id" in demo("model", "show", "house_quality").out
    bad = demo("model", "update", "house_quality", "--cv-folds", "1", ok=False)
    assert bad.code == 2 and "Cross-validation folds must be a whole number from 2 to 20" in bad.err
    demo("model", "update", "house_quality", "--order-column", "")
    assert demo("model", "show", "house_quality", "--json").json()["order_column"] is None
    trained = demo("train", "house_quality", "--json").json()
    cv = trained["result"]["train"]["cv"]
    assert (cv["method"], cv["folds"], cv["method_text"]) == ("kfold", 3, "3-fold")


def test_versions_and_runs_show_cv_and_the_deploy_decision(demo: SoftqueryCLI) -> None:
    demo("model", "update", "diabetes_progression", "--cv-folds", "3")
    demo("train", "diabetes_progression")
    demo("model", "update", "diabetes_progression", "--deploy", "best_score",
         "--train-sql", "select id, age, progression from diabetes where split = 'train'",
         "--predict-sql", "select id, age from diabetes where split = 'new'")
    worse = demo("train", "diabetes_progression", "--json").json()
    deploy = worse["result"]["train"]["deploy"]
    assert deploy["activated"] is False and deploy["basis"] == "cv"
    assert re.fullmatch(r"Not activated: CV r2 -?[\d.]+ ± [\d.]+ is worse than the active version 1's "
                        r"-?[\d.]+ ± [\d.]+ by more than one standard deviation\.", deploy["reason"])
    shown = demo("run", "show", worse["id"])
    assert deploy["reason"] in shown.out and "cross-validated: r2 " in shown.out and "(3-fold)" in shown.out
    listed = demo("versions", "diabetes_progression").out
    assert len(re.findall(r"r2 \(CV\) -?[\d.]+ ± [\d.]+", listed)) == 2
    versions = demo("versions", "diabetes_progression", "--json").json()
    assert [v["cv"]["method_text"] for v in versions] == ["3-fold", "3-fold"]


def test_the_servers_default_folds_apply_to_models_without_their_own(demo: SoftqueryCLI,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    def cv() -> dict[str, object]:
        trained = demo("train", "house_quality", "--json").json()["result"]["train"]
        versions = demo("versions", "house_quality", "--json").json()
        return dict(next(v for v in versions if v["version"] == trained["version"])["cv"])

    monkeypatch.setenv("SOFTQUERY_CV_FOLDS", "3")
    assert cv()["folds"] == 3  # the model sets no folds: the server's default
    monkeypatch.setenv("SOFTQUERY_CV_FOLDS", "0")
    off = cv()
    assert (off["method"], off["folds"]) == ("none", 0)
    assert any("Cross-validation is off on this server (SOFTQUERY_CV_FOLDS is 0)" in n for n in off["notes"])
    demo("model", "update", "house_quality", "--cv-folds", "2")
    assert cv()["folds"] == 2  # the model's own folds win
