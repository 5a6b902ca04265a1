"""Printing a command's results: JSON for scripts (``--json``), tables and formatted values for people."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import click
from rich.console import Console
from rich.table import Table
from rich.text import Text

json_option = click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")


def _default(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value)


def print_json(data: Any) -> None:
    click.echo(json.dumps(data, indent=2, default=_default))


def console() -> Console:
    """Prints text as given: no rich markup (``[bold]`` in a user's text stays), no emoji codes
    (``:100:`` in ``0.001:100:log`` stays). A line that styles a word passes ``markup=True`` and
    escapes every user value in it (``rich.markup.escape``)."""
    return Console(highlight=False, soft_wrap=True, markup=False, emoji=False)


def print_table(columns: list[str], rows: list[list[Any]], *, empty: str) -> None:
    """Rows for people. Nothing is ever cut (names, tokens and URLs get copied): a terminal gets
    a table whose narrow cells wrap; a pipe or file gets plain columns with every value whole."""
    out = console()
    if not rows:
        out.print(empty)
        return
    cells = [["" if v is None else str(v) for v in row] for row in rows]
    if not out.is_terminal:
        click.echo(plain_columns(columns, cells))
        return
    table = Table(show_lines=False, header_style="bold")
    for name in columns:
        table.add_column(name, overflow="fold")  # wrap a long value, never end it with "…"
    for row in cells:
        table.add_row(*(Text(cell) for cell in row))  # a cell is text, never markup or emoji
    out.print(table)


def plain_columns(columns: list[str], rows: list[list[str]]) -> str:
    """Columns padded with spaces to their widest value (two spaces apart), one line a row."""
    widths = [max(len(line) for line in (name, *(row[i] for row in rows))) for i, name in enumerate(columns)]
    return "\n".join("  ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True)).rstrip()
                     for line in (columns, *rows))


def fmt_time(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M:%S") if value else ""


def fmt_metrics(metrics: dict[str, Any]) -> str:
    """``r2=0.9351, mae=0.3856`` — floats to 4 significant digits."""
    return ", ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}" for k, v in metrics.items())
