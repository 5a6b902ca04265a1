"""CREATE MODEL with options that set template parameters (num_clusters, l2_reg, …) makes a
template model still (review 19 item 4): the model and its version keep the template, its
code has the parameters, and the ONNX export converts it and passes its own equality check."""

from __future__ import annotations

import pytest
from tests.integration.sql.test_mlsql_statements import ok

from softquery.services import export, model_exports
from softquery.services.context import ServiceContext
from softquery.services.sql_scripts import run_script


@pytest.mark.parametrize(("options", "template", "written"), [
    ("model_type='kmeans', num_clusters=3", "kmeans", "n_clusters=3"),
    ("model_type='linear_reg', input_label_cols=['value'], l2_reg=0.5", "ridge_regression", "alpha=0.5"),
])
def test_a_template_with_parameters_stays_a_template_and_exports_as_onnx(
        ctx: ServiceContext, sqlite_source: str, options: str, template: str, written: str) -> None:
    ok(run_script(ctx, f"CREATE MODEL tuned OPTIONS({options}) AS SELECT price, rooms, area, value FROM houses",
                  source="src", wait=True))
    model = ctx.models.get("tuned")
    version = ctx.versions.get("tuned", 1)
    assert model.template == template and version.manifest["template"] == template
    assert written in model.code and written in version.manifest["code"]
    assert model_exports.offered_formats(version.manifest) == {"onnx": True, "mlflow": True, "note": None}
    result = model_exports.export_version(ctx, "tuned", "onnx")  # refused if it predicts otherwise
    assert result.check["rows"] > 0 and result.check["relative_tolerance"] == 1e-6
    note = export.json_export_note(version.manifest)
    assert (note is None) == (template == "ridge_regression")
    if note is not None:
        assert "only available for linear models" in note and "the kmeans template" in note
