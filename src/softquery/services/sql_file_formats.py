"""MLSQL's file formats, read and written only inside the files folder (``services/files.py``).

``load csv|json|parquet|libsvm.`PATH``` reads a file through ``files.resolve_file`` (``..``,
an absolute path elsewhere and symlinks are refused) opened with ``O_NOFOLLOW``;
``save … as csv|json|parquet.`PATH``` writes through ``files.open_for_writing``.

- csv: ``header`` (default "false": columns _c0, _c1 … as Spark names them),
  ``inferSchema`` (default "false": every column a string), ``delimiter`` (default ",").
- json: JSON lines, one object a line.
- parquet.
- libsvm: ``label index:value …`` lines (1-based indices) into a ``label`` double column
  and a ``features`` column, list<double> (dense; ``numFeatures`` sets its length, else the
  largest index).
"""

from __future__ import annotations

import io
import json
import os
import re
from collections.abc import Mapping

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.json as pajson
import pyarrow.parquet as pq

from softquery.errors import InvalidInputError
from softquery.services.context import ServiceContext
from softquery.services.files import open_for_writing, resolve_file
from softquery.services.sql_rows import writable
from softquery.sql.statements import Option

FILE_FORMATS = ("csv", "json", "parquet", "libsvm")
HIDDEN = ".mlsql"  # the files folder's folder of MLSQL models' training rows (sql_mlsql_train)
READ_OPTIONS: dict[str, tuple[str, ...]] = {
    "csv": ("header", "inferschema", "delimiter", "sep"),
    "json": (),
    "parquet": (),
    "libsvm": ("numfeatures",),
}
WRITE_OPTIONS: dict[str, tuple[str, ...]] = {"csv": ("header", "delimiter", "sep"), "json": (), "parquet": ()}


def _flag(options: Mapping[str, Option], name: str, default: bool) -> bool:
    for key, option in options.items():
        if key.lower() == name.lower():
            return str(option.value).lower() in ("true", "1", "yes")
    return default


def _text(options: Mapping[str, Option], default: str, *names: str) -> str:
    for key, option in options.items():
        if key.lower() in names:
            return str(option.value)
    return default


def ignored_options(options: Mapping[str, Option], known: tuple[str, ...], what: str) -> list[str]:
    """A note for each option with no meaning here (accepted, never silently)."""
    return [f"option {key} has no meaning for {what} in softquery and is ignored"
            for key in options if key.lower() not in known]


def header_notes(fmt: str, table: pa.Table, options: Mapping[str, Option]) -> list[str]:
    """A note when a CSV loaded without the header option looks like it has one: its first row is
    all text while a column's later rows are numbers (Spark's default reads the header as data)."""
    if fmt != "csv" or any(key.lower() == "header" for key in options) or table.num_rows < 2:
        return []
    sample = table.slice(0, 101).to_pylist()
    first, rest = sample[0], sample[1:]
    if not all(value not in (None, "") and not _is_number(value) for value in first.values()):
        return []
    numeric_below = any(all(_is_number(row[name]) for row in rest if row[name] not in (None, ""))
                        and any(row[name] not in (None, "") for row in rest) for name in first)
    return ["the first row looks like a header: add where header='true'"] if numeric_below else []


def _is_number(value: object) -> bool:
    if isinstance(value, int | float):
        return True
    try:
        float(str(value))
    except ValueError:
        return False
    return True


def _not_hidden(path: str) -> str:
    """The files folder's ``.mlsql`` holds the data MLSQL's models train on: no script reads or writes it."""
    if any(part == HIDDEN for part in re.split(r"[/\\]", path)):
        raise InvalidInputError(f"{path!r} is in {HIDDEN}/, where softquery keeps the rows MLSQL's models train "
                                "on; scripts neither read nor write it.", details={"path": path})
    return path


def read_file(ctx: ServiceContext, fmt: str, path: str, options: Mapping[str, Option]) -> pa.Table:
    """The file ``path`` of the files folder as an Arrow table."""
    real = resolve_file(ctx, _not_hidden(path))
    if real.is_dir():
        raise InvalidInputError(f"{path!r} is a folder; load one file (folders of part files are not read).",
                                details={"path": path})
    fd = os.open(real, os.O_RDONLY | os.O_NOFOLLOW)
    with os.fdopen(fd, "rb") as handle:
        data = handle.read()
    try:
        return _parse(fmt, data, options)
    except (pa.ArrowInvalid, ValueError, UnicodeDecodeError) as exc:
        raise InvalidInputError(f"The file {path!r} cannot be read as {fmt}: {str(exc).splitlines()[0]}",
                                details={"path": path, "format": fmt}) from None


def _parse(fmt: str, data: bytes, options: Mapping[str, Option]) -> pa.Table:
    if fmt == "parquet":
        return pq.read_table(io.BytesIO(data))
    if fmt == "json":
        return pajson.read_json(io.BytesIO(data))
    if fmt == "libsvm":
        return _libsvm(data.decode("utf-8"), int(_text(options, "0", "numfeatures") or 0))
    header = _flag(options, "header", False)
    infer = _flag(options, "inferSchema", False)
    delimiter = _text(options, ",", "delimiter", "sep")
    if len(delimiter) != 1:
        raise InvalidInputError(f"delimiter must be one character, not {delimiter!r}.")
    read = pacsv.ReadOptions(autogenerate_column_names=not header)
    table = pacsv.read_csv(io.BytesIO(data), read_options=read, parse_options=pacsv.ParseOptions(delimiter=delimiter))
    if not header:
        table = table.rename_columns([f"_c{i}" for i in range(table.num_columns)])
    if not infer:
        table = table.cast(pa.schema([pa.field(f.name, pa.string()) for f in table.schema]))
    return table


def _libsvm(text: str, size: int) -> pa.Table:
    labels: list[float] = []
    rows: list[dict[int, float]] = []
    for number, line in enumerate(text.splitlines(), start=1):
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        parts = line.split()
        try:
            labels.append(float(parts[0]))
            row: dict[int, float] = {}
            for item in parts[1:]:
                index, value = item.split(":", 1)
                if int(index) < 1:
                    raise ValueError("libsvm indices start at 1")
                row[int(index) - 1] = float(value)
        except ValueError as exc:
            raise ValueError(f"line {number}: {exc}") from None
        rows.append(row)
    width = max([size] + [max(r) + 1 for r in rows if r])
    dense = [[row.get(i, 0.0) for i in range(width)] for row in rows]
    return pa.table({"label": pa.array(labels, pa.float64()),
                     "features": pa.array(dense, pa.list_(pa.float64()))})


def _encoded(fmt: str, table: pa.Table, options: Mapping[str, Option]) -> bytes:
    if fmt == "parquet":
        sink = pa.BufferOutputStream()
        pq.write_table(table, sink)
        return bytes(sink.getvalue().to_pybytes())
    if fmt == "json":
        return "".join(json.dumps(row, default=str) + "\n" for row in table.to_pylist()).encode("utf-8")
    table = writable(table)  # lists and structs (a classifier's _probs) as JSON text
    sink = pa.BufferOutputStream()
    header = _flag(options, "header", True)
    delimiter = _text(options, ",", "delimiter", "sep")
    pacsv.write_csv(table, sink, pacsv.WriteOptions(include_header=header, delimiter=delimiter))
    return bytes(sink.getvalue().to_pybytes())


def write_file(ctx: ServiceContext, fmt: str, path: str, table: pa.Table, mode: str,
               options: Mapping[str, Option]) -> bool:
    """Write ``table`` to ``path`` of the files folder; False when ``ignore`` kept an existing file."""
    if fmt not in WRITE_OPTIONS:
        raise InvalidInputError(f"save writes csv, json or parquet files (or table.`source.name`), not {fmt}.",
                                details={"format": fmt})
    real = resolve_file(ctx, _not_hidden(path), must_exist=False)
    if mode == "append":
        raise InvalidInputError("save append adds to a table of a source (table.`source.name`); a file is "
                                "written whole: use overwrite.", details={"path": path})
    if real.exists() and mode == "ignore":
        return False
    data = _encoded(fmt, table, options)  # all of it first: a table that cannot be written leaves no file
    fd = open_for_writing(ctx, path, overwrite=mode == "overwrite")
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
    return True
