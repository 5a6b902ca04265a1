"""Open the service context for a command and print results."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import click
from rich.console import Console
from rich.table import Table

from softquery.config import Settings
from softquery.services.context import ServiceContext, open_context

json_option = click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")


@contextlib.contextmanager
def service_context() -> Iterator[ServiceContext]:
    settings: Settings = click.get_current_context().find_object(Settings)  # type: ignore[assignment]
    ctx = open_context(settings)
    try:
        yield ctx
    finally:
        ctx.close()


def _default(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value)


def print_json(data: Any) -> None:
    click.echo(json.dumps(data, indent=2, default=_default))


def console() -> Console:
    return Console(highlight=False, soft_wrap=True)


def print_table(columns: list[str], rows: list[list[Any]], *, empty: str) -> None:
    out = console()
    if not rows:
        out.print(empty)
        return
    table = Table(*columns, show_lines=False, header_style="bold")
    for row in rows:
        table.add_row(*["" if v is None else str(v) for v in row])
    out.print(table)


def fmt_time(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M:%S") if value else ""


def fmt_metrics(metrics: dict[str, Any]) -> str:
    """``r2=0.9351, mae=0.3856`` — floats to 4 significant digits."""
    return ", ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}" for k, v in metrics.items())
