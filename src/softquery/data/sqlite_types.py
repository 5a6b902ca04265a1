"""SQLite's dynamic typing meets Arrow's fixed column types.

The ADBC SQLite driver infers each column's type from the first batch of rows
(``adbc.sqlite.query.batch_rows``). Two things can then go wrong:

* a later row holds another type (e.g. ``'n/a'`` text in a REAL column): the
  driver fails with "Type mismatch in column N" → we raise a ``DataError``
  naming the column;
* the first batch already mixes text and numbers: the driver silently makes
  the column text and renders the numbers as ``1.500000e+00`` → we detect
  that rendering and raise the same ``DataError``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import pyarrow as pa
import pyarrow.compute as pc

from softquery.errors import DataError

_MISMATCH = re.compile(r"Type mismatch in column (\d+): expected (\S+) but got (\S+)")
# How the ADBC SQLite driver prints a REAL value inside a text column.
_RENDERED_REAL = r"^-?[0-9]\.[0-9]{6}e[+-][0-9]{2,3}$"
_NUMBER = r"^\s*[-+]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][-+]?[0-9]+)?\s*$"

_KIND = {"INT64": "whole numbers", "DOUBLE": "decimal numbers", "STRING/BINARY": "text"}


def _kind(name: str) -> str:
    return _KIND.get(name, name.lower())


def mixed_type_error(column: str, *, what: str, first: str, later: str, sample: str | None = None) -> DataError:
    mixes_text = "text" in (first, later)
    if mixes_text:
        summary = f"column {column!r} mixes text and numbers"
        fix = (f"Clean the column in the query, e.g. `CASE WHEN typeof({column}) IN ('integer','real') "
               f"THEN {column} END AS {column}` to turn text like 'n/a' into NULL, "
               f"or `CAST({column} AS TEXT)` to treat it as text.")
    else:
        summary = f"column {column!r} mixes whole numbers and decimal numbers"
        fix = f"Cast it in the query: `CAST({column} AS REAL) AS {column}`."
    example = f" (for example {sample!r})" if sample else ""
    return DataError(
        f"The {what} returned rows where {summary}{example}: its first rows hold {first}, "
        f"later rows hold {later}. SQLite lets a column hold any type; a model needs one type per column. {fix}",
        details={"query": what, "column": column, "first_type": first, "later_type": later},
    )


def explain_mismatch(exc: BaseException, schema: pa.Schema | None, *, what: str) -> DataError | None:
    """A ``DataError`` for the driver's "Type mismatch in column N" error, else None."""
    match = _MISMATCH.search(str(exc))
    if not match:
        return None
    index = int(match.group(1))
    column = schema.field(index).name if schema is not None and index < len(schema) else f"#{index + 1}"
    return mixed_type_error(column, what=what, first=_kind(match.group(2)), later=_kind(match.group(3)))


def check_batch(batch: pa.RecordBatch, *, what: str) -> None:
    """Raise if a text column holds numbers the driver rendered as text."""
    for index, field in enumerate(batch.schema):
        if not (pa.types.is_string(field.type) or pa.types.is_large_string(field.type)):
            continue
        column = batch.column(index)
        if column.null_count == len(column):
            continue
        if not (pc.any(pc.match_substring(column, "e+")).as_py()
                or pc.any(pc.match_substring(column, "e-")).as_py()):
            continue  # cheap pre-filter: no exponent, no rendered REAL
        if not pc.any(pc.match_substring_regex(column, _RENDERED_REAL)).as_py():
            continue
        not_number = pc.invert(pc.match_substring_regex(column, _NUMBER))
        if pc.any(not_number).as_py():
            sample = column.filter(pc.fill_null(not_number, False))[0].as_py()
            raise mixed_type_error(field.name, what=what, first="numbers", later="text", sample=sample)


def checked(batches: Iterator[pa.RecordBatch], *, what: str) -> Iterator[pa.RecordBatch]:
    for batch in batches:
        check_batch(batch, what=what)
        yield batch
