"""The same model made with CLI commands and with BigQuery ML statements trains to the same metrics
and weights, and ML.EVALUATE / ML.WEIGHTS answer what `softquery versions` / `softquery export` show."""

from __future__ import annotations

import pytest
from tests.integration.cli.cli_harness import SoftqueryCLI

from softquery.config import Settings
from softquery.demo.demo_models import DEMO_MODELS
from softquery.services.context import open_context
from softquery.services.sql_scripts import run_script

DEMO = {str(spec["name"]): spec for spec in DEMO_MODELS}


def _rows(ctx: object, sql: str) -> list[dict[str, object]]:
    answer = run_script(ctx, sql, source="demo")  # type: ignore[arg-type]
    assert answer.error is None, answer.error
    (result,) = answer.results
    return [dict(zip([c.name for c in result.columns], row, strict=True)) for row in result.rows]


@pytest.mark.parametrize(("demo_model", "model_type", "metric", "column"), [
    ("house_quality", "linear_reg", "r2", "r2_score"),
    ("wine_cultivar", "logistic_reg", "f1", "f1_score"),
])
def test_sql_and_cli_train_the_same_model_alike(sq: SoftqueryCLI, demo_model: str, model_type: str,
                                                 metric: str, column: str) -> None:
    sq("demo")
    sq("train", demo_model, "--wait")
    cli_version = sq("versions", demo_model, "--json").json()[0]
    spec = DEMO[demo_model]
    ctx = open_context(Settings())
    try:
        answer = run_script(ctx, f"CREATE MODEL sql_model OPTIONS(model_type='{model_type}', "
                                 f"input_label_cols=['{spec['label']}'], id_columns=['id'])\n"
                                 f"AS {spec['train_sql']}", source="demo", wait=True)
        assert answer.error is None, answer.error
        sql_version = sq("versions", "sql_model", "--json").json()[0]
        assert sql_version["metrics"] == cli_version["metrics"]
        assert answer.results[0].message == f"model sql_model: version 1 trained, {metric} " \
            f"{cli_version['metrics'][metric]:.2f}"
        (evaluated,) = _rows(ctx, "SELECT * FROM ML.EVALUATE(MODEL sql_model)")
        assert evaluated[column] == cli_version["metrics"][metric]
        exported = sq("export", demo_model).json()
        weights = _rows(ctx, "SELECT * FROM ML.WEIGHTS(MODEL sql_model)")
        coefficients = exported["coefficients"]
        first = coefficients[0] if isinstance(coefficients[0], list) else coefficients
        assert [w["weight"] for w in weights[:len(first)]] == pytest.approx(first, rel=1e-9, abs=1e-12)
        assert [w["processed_input"] for w in weights[:len(first)]] == exported["feature_names"]
    finally:
        ctx.close()
