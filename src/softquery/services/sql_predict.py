"""Predictions for SQL statements: rows in (Arrow), predictions out, model code only in an isolated child.

``ML.PREDICT``, model calls inside a SELECT (``m(col, …)``), MLSQL's ``predict`` and
``CREATE TABLE AS`` all come here. The trusted side (this process: the API server or the
CLI) resolves the model, checks the permission (a viewer may predict: ``Action.READ``),
verifies the active version's signature and checks the rows' columns; the version is
unpickled and run only in a sandboxed job child (``sql_model_child.ModelChild``: the batch
prediction's child, its limits and isolation). Rows stream to that one child in Arrow
batches, as a batch prediction's do.

The answer is BigQuery's shape: the input columns, ``predicted_<label>`` and, for a
classifier, ``predicted_<label>_probs`` (a list of ``{label, prob}``, one per class) and
the probability columns a batch prediction writes (``probability_<class>``: for two
classes the positive one's, else one per class).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa

from softquery.artifacts.signing import verify
from softquery.auth.policy import Action
from softquery.data import FeatureSpec, check_predict_schema
from softquery.errors import ModelCodeError, NotFoundError, SchemaMismatchError
from softquery.prediction.output import output_probability_columns
from softquery.prediction.predict_rows import PredictSpec
from softquery.sandbox import Limits
from softquery.services.run_limits import run_limits
from softquery.services.sandbox_policy import isolation_of
from softquery.services.sql_model_child import ModelChild
from softquery.services.sql_session import Session
from softquery.services.versions import get_version
from softquery.sql.statement_errors import SqlError, sql_error
from softquery.sql.statements import ModelRef, Statement
from softquery.training.metrics import positive_class


@dataclass
class PreparedModel:
    """A model's active version, verified and ready to go to a child (nothing unpickled)."""

    name: str
    source: str
    version: int
    label: str | None
    classes: list[Any] | None
    features: list[FeatureSpec]
    spec: PredictSpec
    limits: Limits

    @property
    def predicted(self) -> str:
        return f"predicted_{self.label or 'label'}"

    @property
    def feature_names(self) -> list[str]:
        return [f.name for f in self.features]

    def describe(self) -> str:
        return f"model {self.name} version {self.version}"


def model_error(session: Session, statement: Statement, ref: ModelRef, message: str, *,
                name: str | None = None) -> SqlError:
    """A positioned error at the model's name; with ``name``, the nearest model the user can see."""
    known = [m.name for m in session.ctx.models.list()] if name is not None else []
    return sql_error(message, statement.where.script, ref.offset, name=name, known=known, what="model")


def prepare_model(session: Session, statement: Statement, ref: ModelRef) -> PreparedModel:
    """The active version of ``ref`` after the checks (permission, signature); nothing is unpickled."""
    ctx = session.ctx
    try:
        model = ctx.models.get(ref.name)
    except NotFoundError:
        raise model_error(session, statement, ref, f"There is no model named {ref.name!r}.",
                          name=ref.name) from None
    if ref.source is not None and ref.source != model.source:
        raise model_error(session, statement, ref, f"Model {model.name!r} reads data source {model.source!r}, "
                          f"not {ref.source!r}; write {model.source}.{model.name} or just {model.name}.")
    session.require(statement, Action.READ, model=model.name, owner_id=model.owner_id)
    if model.active_version is None:
        raise model_error(session, statement, ref, f"Model {model.name!r} has no trained version yet, so "
                          "there is nothing to predict with. Train it first: the Train button on its page, "
                          f"`softquery train {model.name}`, or CREATE OR REPLACE MODEL.")
    version = get_version(ctx, model.name)
    artifact = ctx.versions.artifact(model.name, version.version)
    verify(ctx.secret_key(), version.manifest, artifact, version.signature,
           label=f"Version {version.version} of model {model.name!r}")
    data = version.manifest["data"]
    classes = version.manifest.get("classes")
    spec = PredictSpec(version=version.version, artifact=artifact, code=version.manifest["code"],
                       features=list(data["features"]), classes=classes,
                       log_limit=ctx.settings.max_log_chars, capture_output=True)
    chosen = run_limits(ctx.settings, model)
    s = ctx.settings
    limits = Limits(wall_seconds=float(chosen.wall_seconds), memory_mb=chosen.memory_mb,
                    max_processes=s.max_processes, max_file_mb=s.max_file_mb, isolation=isolation_of(ctx))
    return PreparedModel(name=model.name, source=model.source, version=version.version,
                         label=data.get("label"), classes=list(classes) if classes else None,
                         features=[FeatureSpec(**f) for f in data["features"]], spec=spec, limits=limits)


def check_columns(statement: Statement, prepared: PreparedModel, schema: pa.Schema,
                  offset: int | None = None) -> None:
    """Every feature of the version is among ``schema``'s columns, with a compatible type."""
    at = statement.where.offset if offset is None else offset
    missing = [name for name in prepared.feature_names if name not in schema.names]
    if missing:
        raise sql_error(f"{prepared.describe()} needs the column {missing[0]!r} (its features: "
                        f"{', '.join(prepared.feature_names)}), and the rows given to it have no such column.",
                        statement.where.script, at, name=missing[0], known=schema.names, what="column",
                        extra={"missing": missing})
    try:
        check_predict_schema(schema, prepared.features, [], prepared.label, version=prepared.version)
    except SchemaMismatchError as exc:
        raise sql_error(exc.message, statement.where.script, at, extra=exc.details) from None


def _class_type(classes: list[Any]) -> pa.DataType:
    try:
        kind = pa.array(classes).type
    except (pa.ArrowException, TypeError, ValueError):
        return pa.string()
    return kind if not pa.types.is_null(kind) else pa.string()


def _values(preds: np.ndarray) -> pa.Array:
    if preds.dtype.kind == "O":
        return pa.array(preds.tolist())
    if preds.dtype.kind == "U":
        return pa.array(preds.astype(object).tolist(), type=pa.string())
    if preds.dtype.kind == "f":
        return pa.array(preds, from_pandas=True)  # NaN: no prediction (NULL)
    return pa.array(preds)


def prediction_arrays(prepared: PreparedModel, preds: np.ndarray,
                      proba: np.ndarray | None) -> list[tuple[str, pa.Array]]:
    """The columns a prediction adds, in order: predicted_<label>, its _probs, probability_<class>."""
    try:
        out = [(prepared.predicted, _values(preds))]
    except (pa.ArrowException, TypeError, ValueError, OverflowError) as exc:
        raise ModelCodeError(f"{prepared.describe()}: predict(X) returned values that cannot be put in a "
                             f"table ({exc}).") from exc
    classes = prepared.classes
    if proba is None or not classes or proba.shape[1] != len(classes):
        return out
    n = len(preds)
    label_type = _class_type(classes)
    labels = pa.array(classes * n if n else [], type=label_type)
    probs = pa.array(proba.reshape(-1), type=pa.float64())
    struct = pa.StructArray.from_arrays([labels, probs], names=["label", "prob"])
    offsets = pa.array(np.arange(0, n * len(classes) + 1, len(classes), dtype=np.int32))
    out.append((f"{prepared.predicted}_probs", pa.ListArray.from_arrays(offsets, struct)))
    names = output_probability_columns(classes)
    indexes = [classes.index(positive_class(classes))] if len(classes) == 2 else list(range(len(classes)))
    for i, name in zip(indexes, names, strict=True):
        out.append((name, pa.array(proba[:, i], type=pa.float64())))
    return out


def with_predictions(prepared: PreparedModel, batch: pa.RecordBatch, preds: np.ndarray,
                     proba: np.ndarray | None) -> pa.RecordBatch:
    """``batch`` with the prediction columns after its own (an input column of the same name is replaced)."""
    added = prediction_arrays(prepared, preds, proba)
    taken = {name for name, _ in added}
    keep = [i for i, name in enumerate(batch.schema.names) if name not in taken]
    arrays = [batch.column(i) for i in keep] + [array for _, array in added]
    names = [batch.schema.names[i] for i in keep] + [name for name, _ in added]
    return pa.RecordBatch.from_arrays(arrays, names=names)


def predict_batches(prepared: PreparedModel, batches: Iterable[pa.RecordBatch]
                    ) -> Iterator[tuple[pa.RecordBatch, np.ndarray, np.ndarray | None]]:
    """Each batch with its checked predictions, from one sandboxed child; the child ends
    when the batches do (or when the caller stops asking)."""
    names = prepared.feature_names
    with ModelChild(prepared.spec, prepared.limits, prepared.describe()) as child:
        first = 0
        for batch in batches:
            if batch.num_rows == 0:
                continue
            preds, proba = child.predict(batch.select(names), first)
            first += batch.num_rows
            yield batch, preds, proba
        child.finish()


def empty_predictions(prepared: PreparedModel, schema: pa.Schema) -> pa.Table:
    """The answer's columns for no rows."""
    batch = pa.RecordBatch.from_pylist([], schema=schema)
    proba = np.zeros((0, len(prepared.classes)), dtype=np.float64) if prepared.classes else None
    return pa.Table.from_batches([with_predictions(prepared, batch, np.array([], dtype=np.float64), proba)])


def predict_table(session: Session, statement: Statement, model: ModelRef, rows: pa.Table) -> pa.Table:
    """``rows`` with the model's predictions added (BigQuery's ``predicted_<label>`` columns).

    The active version of ``model`` runs in an isolated child (never unpickled here)."""
    prepared = prepare_model(session, statement, model)
    check_columns(statement, prepared, rows.schema, model.offset)
    if rows.num_rows == 0:
        return empty_predictions(prepared, rows.schema)
    chunk = max(1, session.ctx.settings.chunk_rows)
    batches = rows.combine_chunks().to_batches(max_chunksize=chunk)
    out = [with_predictions(prepared, batch, preds, proba)
           for batch, preds, proba in predict_batches(prepared, batches)]
    return concatenated(out)


def concatenated(batches: list[pa.RecordBatch]) -> pa.Table:
    """One table of the batches with rows (their predictions' types may differ from batch to
    batch: integers in one, floats with NULLs in the next — the wider type wins)."""
    kept = [b for b in batches if b.num_rows] or batches[:1]
    if len({b.schema for b in kept}) <= 1:
        return pa.Table.from_batches(kept)
    try:
        return pa.concat_tables([pa.Table.from_batches([b]) for b in kept], promote_options="permissive")
    except (pa.ArrowException, TypeError, ValueError) as exc:
        raise ModelCodeError(f"predict(X) answered values of different types for different rows ({exc}).") from exc
