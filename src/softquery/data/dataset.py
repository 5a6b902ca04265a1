"""From a train query's Arrow table to X / y, and checks on the predict query."""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from softquery.data.features import (
    FeatureSpec,
    feature_kind,
    frame,
    is_string_type,
    to_pandas,
    vector_length,
)
from softquery.data.fingerprint import fingerprint
from softquery.errors import DataError, SchemaMismatchError


@dataclass
class TrainingSet:
    X: pd.DataFrame
    y: pd.Series | None
    label: str | None
    id_columns: list[str]
    features: list[FeatureSpec]
    columns: list[dict[str, str]]
    fingerprint: str
    row_count: int
    notes: list[str] = field(default_factory=list)
    order: pd.Series | None = None  # the order column's values, row for row with X (ordered folds)


def _listing(names: list[str]) -> str:
    return ", ".join(names) if names else "(none)"


def detect_label(train_columns: list[str], predict_columns: list[str], explicit: str | None) -> str:
    """The label: ``explicit``, else the one train column the predict query lacks."""
    if explicit:
        if explicit not in train_columns:
            raise DataError(
                f"The label column {explicit!r} is not among the train query's columns: "
                f"{_listing(train_columns)}. Select it in the train query or pick another --label.",
                details={"label": explicit, "train_columns": train_columns},
            )
        return explicit
    predict = set(predict_columns)
    missing = [name for name in train_columns if name not in predict]
    if len(missing) == 1:
        return missing[0]
    candidates = missing or list(train_columns)
    reason = ("several train columns are missing from the predict query" if missing
              else "the predict query has every column of the train query")
    raise DataError(
        f"Cannot tell which column to predict: {reason}. Set it with --label; "
        f"candidates: {_listing(candidates)}.",
        details={"candidates": candidates, "train_columns": train_columns, "predict_columns": predict_columns},
    )


def detect_id_columns(columns: list[str], explicit: list[str] | None) -> list[str]:
    """``explicit`` (each must exist), else columns named ``id`` or ending in ``_id``."""
    if explicit is not None:
        missing = [name for name in explicit if name not in columns]
        if missing:
            raise DataError(
                f"The id column(s) {_listing(missing)} are not in the query; its columns are "
                f"{_listing(columns)}.",
                details={"missing": missing, "columns": columns},
            )
        return list(explicit)
    return [name for name in columns if name.lower() == "id" or name.lower().endswith("_id")]


def _order_values(table: pa.Table, order_column: str) -> pd.Series:
    """The order column's values (it must be a column of the train query, without NULLs)."""
    names = table.column_names
    if order_column not in names:
        nearest = difflib.get_close_matches(order_column, names, n=1, cutoff=0.0)
        hint = f" Did you mean {nearest[0]!r}?" if nearest else ""
        raise DataError(f"The order column {order_column!r} is not a column of the train query.{hint} Its columns "
                        f"are {_listing(names)}.",
                        details={"order_column": order_column, "nearest": nearest[:1], "columns": names})
    column = table.column(order_column)
    if column.null_count:
        raise DataError(
            f"The order column {order_column!r} is NULL in {column.null_count:,} of the {table.num_rows:,} "
            "training rows; ordered folds need a value in every row. Leave those rows out in the train query "
            f"(WHERE {order_column} IS NOT NULL) or give them a value (COALESCE).",
            details={"order_column": order_column, "null_rows": column.null_count})
    return pd.Series(column.to_pandas(), name=order_column)


def build_training_set(table: pa.Table, *, label: str | None, id_columns: list[str],
                       order_column: str | None = None, digest: str | None = None) -> TrainingSet:
    """X (features), y (label) and descriptions of a train query's result; ``order``: the
    values of ``order_column`` for the rows kept (rows without a label are dropped);
    ``digest``: ``fingerprint(table)`` when the reader already made it."""
    names = table.column_names
    columns = [{"name": f.name, "arrow_type": str(f.type)} for f in table.schema]
    if table.num_rows == 0:
        raise DataError(
            "The train query returned no rows. Check its WHERE clause and that the table has data.",
            details={"query": "train query", "columns": columns},
        )
    for name in [*([label] if label else []), *id_columns]:
        if name not in names:
            raise DataError(f"Column {name!r} is not in the train query; its columns are {_listing(names)}.",
                            details={"column": name, "columns": names})
    digest = digest or fingerprint(table)
    notes: list[str] = []
    if label is not None:
        table = _known_labels(table, label, notes)
    excluded = set(id_columns) | ({label} if label else set())
    features = [FeatureSpec(f.name, str(f.type), feature_kind(f.type, table.column(f.name)))
                for f in table.schema if f.name not in excluded]
    if not features:
        raise DataError(
            "No feature columns are left once the label and id columns are set aside: the train query "
            f"selects only {_listing(names)}. Add the columns the model should learn from.",
            details={"label": label, "id_columns": id_columns, "columns": names},
        )
    y = None
    if label is not None:
        target = table.column(label)
        y = to_pandas(target, FeatureSpec(label, str(target.type), feature_kind(target.type)))
    order = _order_values(table, order_column) if order_column else None
    X = frame(table, features)
    for spec in features:
        if spec.kind == "array":  # online requests are held to it (a shorter vector is not padded)
            spec.length = vector_length(X[spec.name])
    return TrainingSet(
        X=X, y=y, label=label, id_columns=list(id_columns), features=features,
        columns=columns, fingerprint=digest, row_count=table.num_rows, notes=notes, order=order,
    )


def _known_labels(table: pa.Table, label: str, notes: list[str]) -> pa.Table:
    """The rows whose label is known: NULL, empty text and text of spaces only are unknown
    (``where label <> ''``), never a class. A note counts the rows dropped."""
    column = table.column(label)
    nulls = column.null_count
    known = pc.is_valid(column)
    empty = 0
    if is_string_type(column.type):
        blank = pc.fill_null(pc.equal(pc.utf8_trim_whitespace(column), ""), False)
        empty = int(pc.sum(blank).as_py() or 0)
        known = pc.and_(known, pc.invert(blank))
    if nulls + empty == table.num_rows:
        what = "NULL" if not empty else ("empty text" if not nulls else "NULL or empty text")
        raise DataError(
            f"The label column {label!r} is {what} in every row of the train query. "
            "Select the column that holds the known answers.",
            details={"label": label, "rows": table.num_rows, "null_rows": nulls, "empty_rows": empty},
        )
    if not nulls and not empty:
        return table
    table = table.filter(known)
    parts = [f"{nulls} row(s) where the label {label!r} is NULL"] if nulls else []
    if empty:
        where = "where it is" if nulls else f"row(s) where the label {label!r} is"
        parts.append(f"{empty} {where} empty text ('' means unknown, like NULL)")
    notes.append(f"Dropped {' and '.join(parts)}; trained on {table.num_rows}.")
    return table


def frame_for_prediction(batch: pa.RecordBatch | pa.Table, features: list[FeatureSpec]) -> pd.DataFrame:
    """X for a predict batch, converted exactly as in training."""
    return frame(batch, features)


def _compatible(trained: FeatureSpec, actual: pa.DataType) -> bool:
    if pa.types.is_null(actual):
        return True
    kind = feature_kind(actual)
    if trained.kind in ("numeric", "boolean"):
        return kind in ("numeric", "boolean")
    if trained.kind == "array":
        return kind in ("array", "categorical")  # JSON text arrays are strings
    if trained.kind in ("categorical", "text"):
        return kind in ("categorical", "text")
    return kind == trained.kind


def check_predict_schema(schema: pa.Schema, features: list[FeatureSpec], id_columns: list[str],
                         label: str | None, *, version: int | str | None = None) -> None:
    """``SchemaMismatchError`` when the predict query lacks or mistypes a trained feature."""
    present = {f.name: f.type for f in schema}
    missing = [spec.name for spec in features if spec.name not in present]
    wrong = [
        {"column": spec.name, "trained": f"{spec.kind} ({spec.arrow_type})", "got": str(present[spec.name])}
        for spec in features if spec.name in present and not _compatible(spec, present[spec.name])
    ]
    if not missing and not wrong:
        return
    trained_on = f"version {version} was trained on" if version is not None else "the model was trained on"
    parts = []
    if missing:
        parts.append(f"The predict query is missing column(s) {', '.join(missing)} that {trained_on}.")
    if wrong:
        listed = "; ".join(f"{w['column']} is {w['got']} but was {w['trained']}" for w in wrong)
        parts.append(f"Column type(s) differ from training: {listed}. Cast them in the predict query.")
    feature_names = {spec.name for spec in features}
    extra = [name for name in present if name not in feature_names]
    raise SchemaMismatchError(
        " ".join(parts),
        details={"missing": missing, "wrong_type": wrong, "extra": extra, "id_columns": id_columns, "label": label},
    )
