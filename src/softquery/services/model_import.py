"""Use case: import an MLflow scikit-learn model directory as a new version of a model (admins).

The model must exist: it gives the imported version its data source and predict query
(the import brings only a fitted estimator and its column signature). The parent reads
``MLmodel`` as text and refuses what it can tell from it (no sklearn flavour, no
signature, a missing model file); the pickle is loaded ONLY in a sandboxed child (no
network, the home hidden, time and memory limits), which checks it is a scikit-learn
estimator matching the signature, predicts on rows built from the signature and pickles
a softquery ``Model`` around it. The parent then builds the manifest (feature schema from
the signature, data fingerprint "imported"), writes the version's code itself (from the
estimator's class name and task the child reports, checked: the child may have been taken
over by the model file) and signs and stores it like any version.
Nothing is stored unless every check passed.
"""

from __future__ import annotations

import hashlib
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import pyarrow as pa

from softquery.artifacts.import_mlflow import ImportRefused, imported_code, read_directory
from softquery.artifacts.signing import json_clean, sign
from softquery.data import detect_label, open_source
from softquery.data.source_urls import dialect_of
from softquery.domain import Model, Role, Version
from softquery.errors import DataError, PermissionDeniedError, SoftqueryError
from softquery.services import audit
from softquery.services.context import ServiceContext
from softquery.services.export import run_in_child
from softquery.training.manifest import build_manifest

FORMATS = ("mlflow",)
IMPORT_SECONDS = 120.0


def _import_child(conn: Connection, payload: dict[str, Any]) -> None:
    from softquery.artifacts.import_mlflow import wrap_in_child
    from softquery.sandbox import protocol

    try:
        protocol.send(conn, ("result", wrap_in_child(payload["pickle"], payload["features"], payload["serialization"])))
    except SoftqueryError as exc:
        protocol.send(conn, ("error", exc.to_dict()))
    except Exception as exc:  # noqa: BLE001 - a hostile pickle can raise anything
        protocol.send(conn, ("error", {
            "code": ImportRefused.code, "details": {"error": type(exc).__name__},
            "message": f"The model file could not be loaded as a scikit-learn model ({type(exc).__name__}: "
                       f"{str(exc)[:300]}); nothing was imported."}))


def _check_against_queries(ctx: ServiceContext, target: Model, features: list[dict[str, Any]],
                           output: str | None) -> str | None:
    """The label of the imported version (the model's label, else the one train column its predict
    query lacks, else the signature's output name), after checking the signature's inputs against
    the predict query's columns (and, from a sample of its rows, their types): a version whose
    columns the predict query lacks could never predict, so it is refused."""
    try:
        with open_source(ctx.sources.get(target.source).url,
                         timeout=ctx.settings.statement_timeout_seconds) as conn:
            predict_sample = conn.preview(target.predict_sql, what="predict query", limit=20)
            predict_schema = predict_sample.schema
            predict_columns = predict_schema.names
            train_columns = conn.query_schema(target.train_sql, what="train query").names
    except SoftqueryError as exc:
        raise ImportRefused(f"The import checks the MLflow signature against the predict query of model "
                            f"{target.name!r}, which could not be read: {exc.message}",
                            details={"query_error": exc.to_dict()}) from exc
    missing = [str(f["name"]) for f in features if f["name"] not in predict_columns]
    if missing:
        raise ImportRefused(
            f"The MLflow model reads column(s) {', '.join(missing)}, which the predict query of model "
            f"{target.name!r} does not select (it selects {', '.join(predict_columns) or 'no columns'}): "
            "this version could never predict. Import it into a model whose predict query selects "
            "the signature's columns, or change the predict query first; nothing was imported.",
            details={"missing": missing, "predict_columns": predict_columns})
    if predict_sample.num_rows:  # an empty result's types are guesses on some sources (SQLite: all integers)
        _check_types(target, features, predict_schema)
    try:
        return detect_label(train_columns, predict_columns, target.label)
    except DataError:
        return target.label or (output if output in train_columns else None)


# the signature's column types as MLflow names them (``import_mlflow.COLUMN_TYPES``: float is
# read as double, integer as long), from the Arrow type the import reads each as
_SIGNATURE_TYPES = {"double": "double", "int64": "long", "bool": "boolean", "string": "string"}


def _query_kind(arrow_type: pa.DataType) -> str | None:
    """"integer", "float", "text" or "boolean" for a predict query column's type; None for another
    (a date, a NULL column whose type the source does not know): not compared."""
    if pa.types.is_integer(arrow_type):
        return "integer"
    if pa.types.is_floating(arrow_type) or pa.types.is_decimal(arrow_type):
        return "float"
    if pa.types.is_string(arrow_type) or pa.types.is_large_string(arrow_type):
        return "text"
    if pa.types.is_boolean(arrow_type):
        return "boolean"
    return None


# what each signature type takes from the predict query (a boolean column may come as 0/1
# integers: SQLite has no boolean type), and how to make the query return it
_TAKES = {"double": ({"integer", "float"}, "a number", "cast it to a number in the predict query "
                     "(e.g. CAST({name} AS DOUBLE PRECISION), CAST({name} AS REAL) on SQLite)"),
          "int64": ({"integer"}, "a whole number", "make it a whole number in the predict query "
                    "(e.g. CAST({name} AS BIGINT), CAST({name} AS INTEGER) on SQLite)"),
          "bool": ({"boolean", "integer"}, "true/false", "make it true/false or 0/1 in the predict query "
                   "(e.g. CASE WHEN … THEN 1 ELSE 0 END)"),
          "string": ({"text"}, "text", "cast it to text in the predict query (e.g. CAST({name} AS TEXT))")}
_KIND_WORDS = {"integer": "a whole number", "float": "a number with decimals", "text": "text",
               "boolean": "true/false"}
_SIGNATURE_FOR = {"integer": "long", "float": "double", "text": "string", "boolean": "boolean"}


def _check_types(target: Model, features: list[dict[str, Any]], predict_schema: pa.Schema) -> None:
    """A column the predict query returns as a kind the signature's type cannot take (text for a
    number, decimals for a whole number or true/false, a number for text) is refused: the version
    would predict on values of the wrong kind, or fail on every run."""
    for feature in features:
        name, arrow = str(feature["name"]), str(feature["arrow_type"])
        query_type = predict_schema.field(name).type
        kind = _query_kind(query_type)
        if arrow not in _TAKES or kind is None or kind in _TAKES[arrow][0]:
            continue
        _, wanted, change = _TAKES[arrow]
        declared = _SIGNATURE_TYPES.get(arrow, arrow)
        raise ImportRefused(
            f"The MLflow model reads column {name} as {declared} ({wanted}), but the predict query "
            f"of model {target.name!r} returns it as {query_type} ({_KIND_WORDS[kind]}): {change.format(name=name)}, "
            f"or import a model whose signature declares {name} as {_SIGNATURE_FOR[kind]}; nothing was imported.",
            details={"column": name, "signature_type": declared, "query_type": str(query_type)})


def import_version(ctx: ServiceContext, model: str, path: Path, fmt: str = "mlflow", *,
                   activate: bool = False) -> Version:
    if ctx.actor.role is not Role.ADMIN:
        raise PermissionDeniedError("Only an admin can import a model: its file is loaded as code.")
    if fmt not in FORMATS:
        raise ImportRefused(f"Unknown import format {fmt!r}; softquery imports {', '.join(FORMATS)}.")
    target = ctx.models.get(model)  # NotFoundError: create the model first (source, predict query)
    directory = read_directory(path)
    label = _check_against_queries(ctx, target, directory.features, directory.output_name)
    answer = run_in_child(ctx, _import_child, {"pickle": directory.pickle_bytes, "features": directory.features,
                                              "serialization": directory.serialization},
                          name=f"import-{model}", seconds=IMPORT_SECONDS)
    if not isinstance(answer, dict) or not isinstance(answer.get("artifact"), bytes):
        raise ImportRefused("The import process answered something other than a model; nothing was imported.")
    artifact: bytes = answer["artifact"]
    code = imported_code(str(answer.get("estimator")), str(answer.get("task")), bool(answer.get("has_proba")))
    number = ctx.versions.peek_next_number(model)
    notes = [f"imported from MLflow directory {path} ({answer['estimator']}; scikit-learn "
             f"{directory.sklearn_version or 'unknown'} when saved, MLflow {directory.mlflow_version or 'unknown'})",
             f"checked in a sandboxed child: predicts on {int(answer.get('checked_rows') or 0)} rows built from its signature"]
    manifest = json_clean(build_manifest(
        model=model, version=number, run_id="", source=target.source,
        source_dialect=dialect_of(ctx.sources.get(target.source).url),
        train_sql="", code=code, template=None,
        data={"rows": 0, "label": label, "id_columns": list(target.id_columns or []),
              "features": directory.features, "fingerprint": "imported",
              "model_file_sha256": hashlib.sha256(directory.pickle_bytes).hexdigest()},
        task=str(answer["task"]), metrics={}, evaluation={}, classes=answer.get("classes"),
        artifact=artifact, duration_seconds=0.0, timings={}, notes=notes))
    manifest["run_id"] = None
    version = ctx.versions.add(model, manifest=manifest, signature=sign(ctx.secret_key(), manifest, artifact),
                               artifact=artifact, artifact_sha256=manifest["artifact"]["sha256"], run_id=None,
                               activate=activate, number=number)
    audit.record(ctx, "version.import", "model", model, {"version": version.version, "path": str(path)})
    return version
