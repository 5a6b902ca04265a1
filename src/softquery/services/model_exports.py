"""Use cases: export a template model's version as ONNX or as an MLflow model directory.

The trusted parent checks the version's signature and reads the check rows; the
sandboxed export child unpickles the artifact (untrusted user state), converts it and
checks the conversion on those rows; the parent gets bytes back and writes them.

Check rows: a version's training rows are not stored, so the parent re-reads the first
``CHECK_ROWS`` rows of the version's own train query (``manifest["train_sql"]`` on its
data source) — real rows of the kind the model was trained on, converted to X exactly as
a prediction converts them (``frame_for_prediction`` with the version's feature schema).
If the source cannot be read, the export is refused with the source's message rather than
checked on made-up values.
"""

from __future__ import annotations

import hashlib
import io
import pickle
import zipfile
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from softquery.artifacts import export_mlflow
from softquery.artifacts.export_onnx import EXACT_TEMPLATES
from softquery.artifacts.signing import canonical_json
from softquery.data import open_source
from softquery.data.arrow_bytes import batch_to_bytes
from softquery.domain import Version
from softquery.errors import InvalidInputError, SoftqueryError
from softquery.services.context import ServiceContext
from softquery.services.cv_figures import imported
from softquery.services.export import run_in_child, verified_artifact, version_template
from softquery.services.versions import get_version

CHECK_ROWS = 200
FORMATS = ("onnx", "mlflow")


@dataclass
class ExportResult:
    model: str
    version: int
    format: str
    files: dict[str, bytes] = field(default_factory=dict)  # name -> bytes (one file for ONNX)
    check: dict[str, Any] = field(default_factory=dict)


def _refuse_user_code(found: Version, fmt: str) -> None:
    if found.manifest.get("template"):
        return
    if imported(found.manifest):
        raise InvalidInputError(
            f"Version {found.version} of model {found.model!r} was imported from MLflow: its code is "
            "softquery's generated wrapper around the imported scikit-learn model, not a template, and "
            f"softquery has no rows it was trained on to check a {'ONNX' if fmt == 'onnx' else 'MLflow'} "
            "export against. Use the MLflow directory you imported it from (convert that with skl2onnx "
            "for ONNX).", details={"format": fmt, "reason": "imported"})
    why = ("ONNX holds a graph of known scikit-learn operators, and your Python class has no converter"
           if fmt == "onnx" else
           "an MLflow directory would have to run your Python class wherever it is loaded, outside "
           "softquery's sandbox, and the class is pickled by reference to softquery's code loader")
    raise InvalidInputError(
        f"Version {found.version} of model {found.model!r} runs your own model code, not a template; "
        f"{fmt.upper() if fmt == 'onnx' else 'MLflow'} export is for template models only: {why}. "
        "Use a template (or the JSON export for a linear model).",
        details={"format": fmt, "reason": "user_code"})


# what a template's estimator is called in the page's words (others: its name with spaces)
_TEMPLATE_WORDS = {"random_forest_regressor": "a random forest", "random_forest_classifier": "a random forest",
                   "hist_gradient_boosting_regressor": "gradient boosting (histogram trees)",
                   "hist_gradient_boosting_classifier": "gradient boosting (histogram trees)",
                   "svm_regressor": "an SVM regressor (its target is scaled, which ONNX does not undo exactly)",
                   "naive_bayes_text": "naive Bayes on text (TF-IDF, which ONNX does not tokenise alike)"}


def offered_formats(manifest: dict[str, Any]) -> dict[str, Any]:
    """Which of ONNX and MLflow a version can be exported as, and why not in plain words:
    {"onnx": bool, "mlflow": bool, "note": str | None} (the same rules the exports apply)."""
    template = version_template(manifest)
    if template is None:
        if imported(manifest):
            return {"onnx": False, "mlflow": False,
                    "note": "This version was imported from MLflow: use the MLflow directory it came from "
                            "(convert that with skl2onnx for ONNX)."}
        return {"onnx": False, "mlflow": False,
                "note": "ONNX and MLflow exports are for template models: this version runs your own code, "
                        "which would have to run wherever the export is loaded."}
    if template in EXACT_TEMPLATES:
        return {"onnx": True, "mlflow": True, "note": None}
    families = list(dict.fromkeys(EXACT_TEMPLATES.values()))
    words = _TEMPLATE_WORDS.get(template, f"the {template.replace('_', ' ')} template")
    return {"onnx": False, "mlflow": True,
            "note": f"ONNX export covers {', '.join(families[:-1])} and {families[-1]}; this version is "
                    f"{words}, which ONNX does not reproduce exactly. The MLflow model does."}


def _check_rows(ctx: ServiceContext, found: Version) -> bytes:
    manifest = found.manifest
    source = ctx.sources.get(str((manifest.get("source") or {}).get("name")))
    try:
        with open_source(source.url, timeout=ctx.settings.statement_timeout_seconds) as conn:
            table = conn.preview(str(manifest["train_sql"]), what="train query", limit=CHECK_ROWS)
    except SoftqueryError as exc:
        raise SoftqueryError(
            f"The export could not read the rows it checks the conversion on (the first {CHECK_ROWS} rows "
            f"of the version's train query): {exc.message}", code=exc.code, details=exc.details) from exc
    names = [str(f["name"]) for f in (manifest.get("data") or {}).get("features") or []]
    missing = [n for n in names if n not in table.column_names]
    if missing or table.num_rows == 0:
        raise InvalidInputError(
            "The export checks the conversion on rows of the version's train query, which now returns "
            + (f"no column(s) {', '.join(missing)}." if missing else "no rows."),
            details={"missing_columns": missing})
    return batch_to_bytes(table.select(names).combine_chunks().to_batches()[0])


def _export_child(conn: Connection, payload: dict[str, Any]) -> None:
    """Export child: unpickle the (verified) artifact, convert, check on the rows, answer bytes."""
    from softquery.sandbox import protocol

    try:
        protocol.send(conn, ("result", _convert_in_child(payload)))
    except SoftqueryError as exc:
        protocol.send(conn, ("error", exc.to_dict()))
    except Exception as exc:  # noqa: BLE001 - reported to the parent in words
        protocol.send(conn, ("error", {"code": "export_failed", "details": {},
                                       "message": f"The export failed ({type(exc).__name__}: {exc})."}))


def _convert_in_child(payload: dict[str, Any]) -> dict[str, Any]:
    import numpy as np

    from softquery.artifacts import export_onnx, serialize
    from softquery.data import FeatureSpec, frame_for_prediction
    from softquery.data.arrow_bytes import batch_from_bytes

    trained = serialize.loads(payload["artifact"], payload["code"])
    pipeline = export_onnx.find_pipeline(trained)
    X = frame_for_prediction(batch_from_bytes(payload["rows"]), [FeatureSpec(**f) for f in payload["features"]])
    expected = np.asarray(trained.predict(X))
    if payload["format"] == "onnx":
        data = export_onnx.convert(pipeline, payload["metadata"], payload.get("template"))
        return {"bytes": data, "check": export_onnx.check(data, pipeline, X)}
    data = pickle.dumps(pipeline, protocol=4)
    again = np.asarray(pickle.loads(data).predict(X))  # noqa: S301 - the child's own pickle, in the child
    same = (np.allclose(again.astype(float), expected.astype(float), rtol=export_onnx.RELATIVE_TOLERANCE,
                        atol=export_onnx.ABSOLUTE_TOLERANCE) if expected.dtype.kind in "fc"
            else bool((again.astype(str) == expected.astype(str)).all()))
    if not same:
        raise export_onnx.ExportRefused("The pickled pipeline predicts differently from the version after "
                                        "loading it again; the MLflow export was refused.", details={"step": "check"})
    return {"bytes": data, "check": {"rows": len(X), "relative_tolerance": export_onnx.RELATIVE_TOLERANCE}}


def export_version(ctx: ServiceContext, model: str, fmt: str, version: int | None = None) -> ExportResult:
    """Convert and check a version in the export child; nothing is written here."""
    if fmt not in FORMATS:
        raise InvalidInputError(f"Unknown export format {fmt!r}; choose one of json, {', '.join(FORMATS)}.",
                                details={"format": fmt})
    found = get_version(ctx, model, version)
    _refuse_user_code(found, fmt)
    artifact = verified_artifact(ctx, found)
    manifest = found.manifest
    metadata = {"softquery_model": model, "softquery_version": str(found.version),
                "softquery_manifest_sha256": hashlib.sha256(canonical_json(manifest)).hexdigest(),
                "softquery_task": str(manifest.get("task")), "softquery_label": str(manifest["data"].get("label"))}
    payload = {"artifact": artifact, "code": str(manifest["code"]), "format": fmt, "metadata": metadata,
               "template": manifest.get("template"),
               "features": list((manifest.get("data") or {}).get("features") or []),
               "rows": _check_rows(ctx, found)}
    answer = run_in_child(ctx, _export_child, payload, name=f"export-{fmt}-{model}-{found.version}")
    if not isinstance(answer, dict) or not isinstance(answer.get("bytes"), bytes):
        raise InvalidInputError("The export process answered something other than the exported bytes.")
    result = ExportResult(model=model, version=found.version, format=fmt, check=dict(answer.get("check") or {}))
    if fmt == "onnx":
        result.files = {f"{model}_v{found.version}.onnx": answer["bytes"]}
    else:
        result.files = export_mlflow.directory_files(manifest, answer["bytes"], dict(manifest.get("packages") or {}))
    return result


def download(result: ExportResult) -> tuple[str, bytes, str]:
    """(file name, bytes, media type) for a download: the ONNX file, or the MLflow
    directory as a zip whose top folder is ``<model>_v<version>``."""
    if result.format == "onnx":
        name, data = next(iter(result.files.items()))
        return name, data, "application/octet-stream"
    folder = f"{result.model}_v{result.version}"
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in result.files.items():
            archive.writestr(f"{folder}/{name}", data)
    return f"{folder}_mlflow.zip", buffer.getvalue(), "application/zip"


def write_export(result: ExportResult, target: Path) -> Path:
    """ONNX: ``target`` is the file; MLflow: ``target`` is a new (or empty) directory."""
    if result.format == "onnx":
        target.write_bytes(next(iter(result.files.values())))
        return target
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise InvalidInputError(f"{target} already exists and is not an empty directory; MLflow export "
                                "writes a new directory.", details={"path": str(target)})
    target.mkdir(parents=True, exist_ok=True)
    for name, data in result.files.items():
        (target / name).write_bytes(data)
    return target
