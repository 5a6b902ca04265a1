"""Online request bodies → an Arrow batch typed from the version's feature schema.

Accepted bodies (exactly one key):

* ``{"rows": [{col: value, ...}, ...]}`` (softquery);
* ``{"dataframe_records": [...]}`` and ``{"dataframe_split": {"columns": [...], "data": [[...]]}}`` (MLflow);
* ``{"instances": [{...}, ...]}`` (TF-Serving; a list of value lists is read in feature order).

Every feature must be present in every row with a value of its kind (NULL is
always allowed: the model's preprocessing handles it as in batch prediction);
id columns may be sent and are ignored; any other column is refused. The batch
is converted by the worker with ``frame_for_prediction``, exactly as a batch
prediction converts rows read from a database. Nothing here runs model code.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any, TypeAlias

import numpy as np
import pyarrow as pa

from softquery.data import FeatureSpec
from softquery.errors import InvalidInputError, SchemaMismatchError
from softquery.serving.failures import PayloadTooLargeError

FORMATS = ("rows", "dataframe_records", "dataframe_split", "instances")
_EXPECTS = {"numeric": "a number", "boolean": "true/false (or 0/1)", "categorical": "text",
            "text": "text", "array": "a list of numbers", "datetime": "a date/time text (ISO 8601)"}
MAX_LISTED_ROWS = 5
_NUMBERS_ONLY = object()


@dataclass
class Schema:
    """What the API process knows of a version's inputs (from its signed manifest)."""

    features: list[FeatureSpec]
    id_columns: list[str]

    @property
    def names(self) -> list[str]:
        return [f.name for f in self.features]


def _kind_of(value: Any) -> str:
    return {bool: "true/false", int: "a number", float: "a number", str: "text", list: "a list",
            dict: "an object", type(None): "null"}.get(type(value), type(value).__name__)


def _typename(value: Any) -> str:
    """What a sent value is, in an analyst's words ("a list holding text")."""
    if type(value) is not list:
        return _kind_of(value)
    if not value:
        return "an empty list"
    odd = next((x for x in value if not _is_number(x)), _NUMBERS_ONLY)
    return f"a list of {len(value)} numbers" if odd is _NUMBERS_ONLY else f"a list holding {_kind_of(odd)}"


def _expects(spec: FeatureSpec) -> str:
    """What a column takes, and how it was trained, without contradicting itself."""
    if spec.kind == "array":
        numbers = f"{spec.length} numbers" if spec.length is not None else "numbers"
        stored = "JSON text arrays" if spec.arrow_type in ("string", "large_string", "string_view") else "lists"
        return f"a list of {numbers} (trained on {stored} of {numbers})"
    return f"{_EXPECTS.get(spec.kind, spec.kind)} (trained as {spec.arrow_type})"


def parse_json(raw: bytes | str, what: str = "The request body") -> Any:
    """``raw`` parsed; ``InvalidInputError`` (422) for invalid JSON and for JSON nested so
    deeply that the parser gives up (Python's recursion limit, about 1,000 levels)."""
    try:
        return json.loads(raw)
    except RecursionError:
        message = (f"{what} is nested too deeply to read. A row holds column: value pairs, and a value "
                   "is a number, text, true/false, null or a list of numbers.")
        raise InvalidInputError(message, details={"problems": [{"problem": "too_deep", "message": message}]}) from None
    except (ValueError, UnicodeDecodeError) as exc:
        raise InvalidInputError(f"{what} is not valid JSON: {exc}.",
                                details={"problems": [{"message": str(exc)}]}) from None


def rows_of(body: Any, schema: Schema) -> tuple[list[dict[str, Any]] | None, list[str] | None, list[list[Any]] | None]:
    """(row objects) or (columns, value lists) from one of the accepted formats."""
    if not isinstance(body, dict):
        raise InvalidInputError(f"The request body must be a JSON object with one of the keys {', '.join(FORMATS)}.")
    keys = [k for k in FORMATS if k in body]
    if len(keys) != 1 or len(body) != 1:
        raise InvalidInputError(
            f"The request body must have exactly one of the keys {', '.join(FORMATS)}; it has "
            f"{', '.join(map(str, body)) or 'none'}.",
            details={"accepted": list(FORMATS), "got": [str(k) for k in body]})
    key = keys[0]
    value = body[key]
    if key == "dataframe_split":
        if not isinstance(value, dict) or not isinstance(value.get("columns"), list) \
                or not isinstance(value.get("data"), list):
            raise InvalidInputError('"dataframe_split" must be an object with "columns" (a list of names) '
                                    'and "data" (a list of rows, each a list of values).')
        columns, data = value["columns"], value["data"]
        if not all(isinstance(c, str) for c in columns):
            raise InvalidInputError('"dataframe_split.columns" must be a list of column names.')
        return None, columns, data
    if not isinstance(value, list):
        raise InvalidInputError(f'"{key}" must be a list of rows.')
    if key == "instances" and value and all(isinstance(r, list) for r in value):
        return None, schema.names, value
    return value, None, None


def _check_rows(rows: list[Any], schema: Schema, problems: list[dict[str, Any]]) -> None:
    allowed = set(schema.names) | set(schema.id_columns)
    required = set(schema.names)
    first_keys: Any = None
    for i, row in enumerate(rows):
        if not isinstance(row, dict):
            problems.append({"row": i, "problem": "not_an_object",
                             "message": f"row {i} is {_typename(row)}, not an object of column: value"})
            continue
        keys = row.keys()
        if first_keys is not None and keys == first_keys:
            continue  # same columns as an already checked row
        missing = [n for n in schema.names if n not in keys]
        extra = [str(k) for k in keys if k not in allowed]
        for name in missing:
            problems.append({"column": name, "row": i, "problem": "missing",
                             "message": f"row {i} lacks column {name!r}"})
        for name in extra:
            problems.append({"column": name, "row": i, "problem": "extra",
                             "message": f"row {i} has column {name!r}, which the model was not trained on"})
        if not missing and not extra and required <= keys:
            first_keys = keys


def _columns_from_rows(rows: list[dict[str, Any]], names: list[str]) -> dict[str, list[Any]]:
    return {name: [row[name] for row in rows] for name in names}


def _columns_from_split(columns: list[str], data: list[Any], schema: Schema,
                        problems: list[dict[str, Any]]) -> dict[str, list[Any]]:
    allowed = set(schema.names) | set(schema.id_columns)
    for name in schema.names:
        if name not in columns:
            problems.append({"column": name, "problem": "missing", "message": f"column {name!r} is missing"})
    for name in columns:
        if name not in allowed:
            problems.append({"column": name, "problem": "extra",
                             "message": f"column {name!r} is not one the model was trained on"})
    if len(set(columns)) != len(columns):
        problems.append({"problem": "duplicate_columns", "message": "a column name is given more than once"})
    width = len(columns)
    for i, row in enumerate(data):
        if not isinstance(row, list) or len(row) != width:
            problems.append({"row": i, "problem": "wrong_length",
                             "message": f"row {i} must be a list of {width} value(s)"})
            if len(problems) > 50:
                break
    if problems:
        return {}
    index = {name: j for j, name in enumerate(columns)}
    return {name: [row[index[name]] for row in data] for name in schema.names}


def _wrong(spec: FeatureSpec, values: list[Any], ok: Any) -> dict[str, Any] | None:
    bad = [i for i, v in enumerate(values) if v is not None and not ok(v)]
    if not bad:
        return None
    rows = _listed(bad)
    return {"column": spec.name, "problem": "wrong_type", "rows": bad[:100],
            "message": f"column {spec.name!r} expects {_expects(spec)} but row(s) {rows} hold "
                       f"{_typename(values[bad[0]])}"}


def _listed(rows: list[int]) -> str:
    return ", ".join(map(str, rows[:MAX_LISTED_ROWS])) + (" …" if len(rows) > MAX_LISTED_ROWS else "")


def _wrong_length(spec: FeatureSpec, vectors: list[list[float] | None]) -> dict[str, Any] | None:
    """A vector of another length than every training vector had: refused, never padded
    with the mean (nor cut short) as the model's preprocessing would silently do."""
    if spec.length is None:
        return None
    bad = [i for i, v in enumerate(vectors) if v is not None and len(v) != spec.length]
    if not bad:
        return None
    got = [len(vectors[i] or []) for i in bad]
    return {"column": spec.name, "problem": "wrong_length", "rows": bad[:100], "expected": spec.length,
            "got": got[:100],
            "message": f"column {spec.name!r} expects a list of {spec.length} numbers (the length every "
                       f"training row had) but row(s) {_listed(bad)} hold {got[0]}"
                       + ("" if len(set(got)) == 1 else " or another count")}


def _is_number(v: Any) -> bool:
    return type(v) in (int, float)


def _json_array(v: Any) -> list[float] | None:
    if isinstance(v, str):
        try:
            v = json.loads(v)
        except (ValueError, RecursionError):
            return None
    if isinstance(v, list) and all(_is_number(x) for x in v):
        return [float(x) for x in v]
    return None


_TIMESTAMP = re.compile(r"timestamp\[(s|ms|us|ns)(?:, tz=(.+))?\]")


def _temporal_type(arrow_type: str) -> pa.DataType:
    match = _TIMESTAMP.fullmatch(arrow_type)
    if match:
        return pa.timestamp(match.group(1), tz=match.group(2))
    if arrow_type.startswith("date64"):
        return pa.date64()
    return pa.date32() if arrow_type.startswith("date") else pa.timestamp("us")


def _array(spec: FeatureSpec, values: list[Any], problems: list[dict[str, Any]]) -> pa.Array | np.ndarray | None:
    """The column as Arrow, or as a float64 numpy array for a numeric feature
    (NULL → NaN: what a batch prediction's Arrow → pandas conversion gives)."""
    kind = spec.kind
    try:
        if kind == "numeric":
            if spec.arrow_type.startswith(("int", "uint")) and all(type(v) is int for v in values):
                return pa.array(values, type=pa.int64())
            if all(type(v) is float for v in values):
                return np.array(values, dtype=np.float64)
            problem = _wrong(spec, values, lambda v: _is_number(v) or type(v) is bool)
            if problem:
                problems.append(problem)
                return None
            return np.array([np.nan if v is None else float(v) for v in values], dtype=np.float64)
        if kind == "boolean":
            problem = _wrong(spec, values, lambda v: type(v) is bool or v in (0, 1))
            if problem:
                problems.append(problem)
                return None
            return pa.array([None if v is None else float(v) for v in values], type=pa.float64())
        if kind in ("categorical", "text"):
            problem = _wrong(spec, values, lambda v: type(v) is str)
            if problem:
                problems.append(problem)
                return None
            return pa.array(values, type=pa.string())
        if kind == "array":
            parsed = [None if v is None else _json_array(v) for v in values]
            bad = [i for i, (v, p) in enumerate(zip(values, parsed, strict=True)) if v is not None and p is None]
            if bad:
                problems.append(_wrong(spec, values, lambda v: _json_array(v) is not None) or {})
                return None
            if (problem := _wrong_length(spec, parsed)) is not None:
                problems.append(problem)
                return None
            return pa.array(parsed, type=pa.list_(pa.float64()))
        if kind == "datetime":
            problem = _wrong(spec, values, lambda v: type(v) is str)
            if problem:
                problems.append(problem)
                return None
            return pa.array(values, type=pa.string()).cast(_temporal_type(spec.arrow_type))
    except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError, OverflowError) as exc:
        problems.append({"column": spec.name, "problem": "wrong_type",
                         "message": f"column {spec.name!r} expects {_expects(spec)}: {exc}"})
        return None
    problems.append({"column": spec.name, "problem": "unsupported",
                     "message": f"column {spec.name!r} has kind {kind!r}, which online prediction cannot take"})
    return None


Rows: TypeAlias = pa.RecordBatch | np.ndarray


def row_count(rows: Rows) -> int:
    return int(rows.shape[0]) if isinstance(rows, np.ndarray) else rows.num_rows


def to_batch(body: Any, schema: Schema, *, max_rows: int, version: int) -> Rows:
    """Check ``body`` against ``schema``; the feature columns, typed: a float64 matrix
    (rows × features) when every feature is a float column, else an Arrow batch.

    The worker turns either into the same DataFrame ``frame_for_prediction`` builds
    from a database batch (float64 columns, NaN for NULL), the matrix only faster."""
    rows, columns, data = rows_of(body, schema)
    count = len(rows if rows is not None else data or [])
    if count == 0:
        raise InvalidInputError("The request has no rows to predict.", details={"problems": []})
    if count > max_rows:
        raise PayloadTooLargeError(
            f"The request has {count:,} rows; at most {max_rows:,} are accepted per request "
            "(SOFTQUERY_SERVING_MAX_ROWS). Split it, or use a batch prediction.",
            details={"rows": count, "max_rows": max_rows})
    problems: list[dict[str, Any]] = []
    if rows is not None:
        _check_rows(rows, schema, problems)
        values = {} if problems else _columns_from_rows(rows, schema.names)
    else:
        values = _columns_from_split(columns or [], data or [], schema, problems)
    arrays = [] if problems else [_array(spec, values[spec.name], problems) for spec in schema.features]
    if problems:
        shown = problems[:20]
        message = "; ".join(str(p["message"]) for p in shown) + (
            f"; and {len(problems) - len(shown)} more" if len(problems) > len(shown) else "")
        raise SchemaMismatchError(
            f"The rows do not match the columns version {version} was trained on: {message}.",
            details={"problems": problems[:200],
                     "features": [{"name": f.name, "kind": f.kind, "arrow_type": f.arrow_type,
                                   **({"length": f.length} if f.length is not None else {})}
                                  for f in schema.features]})
    floats = [a for a in arrays if isinstance(a, np.ndarray)]
    if len(floats) == len(arrays):
        return np.column_stack(floats)
    return pa.RecordBatch.from_arrays([pa.array(a) if isinstance(a, np.ndarray) else a for a in arrays],
                                      names=schema.names)
