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

from softquery.cli.access import operator_for
from softquery.config import Settings
from softquery.services.accounts import login_url
from softquery.services.context import ServiceContext, open_context
from softquery.services.home_privacy import repair_message, secure_home

json_option = click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")


@contextlib.contextmanager
def service_context() -> Iterator[ServiceContext]:
    """The home's service context acting as the local operator (see cli/access.py)."""
    click_ctx = click.get_current_context()
    actor = operator_for(click_ctx.command)
    settings: Settings = click_ctx.find_object(Settings)  # type: ignore[assignment]
    secure_home_on_start(settings)
    ctx = open_context(settings).acting_as(actor)
    try:
        yield ctx
    finally:
        ctx.close()


def secure_home_on_start(settings: Settings) -> None:
    """Make a home that others can read private, saying so on stderr, or refuse it
    (``home_not_private``) when its files are someone else's: services/home_privacy.py."""
    report_repairs(secure_home(settings))


def report_repairs(changed: list[str]) -> None:
    if changed:
        click.echo(repair_message(changed), err=True)


def server_url(host: str, port: int) -> str:
    """``http://HOST:PORT`` (IPv6 addresses in brackets)."""
    shown = f"[{host}]" if ":" in host and not host.startswith("[") else host
    return f"http://{shown}:{port}"


def base_url(settings: Settings, host: str | None = None, port: int | None = None) -> str:
    """Where people reach the server: SOFTQUERY_PUBLIC_URL, else http://HOST:PORT."""
    if settings.public_url:
        return settings.public_url.rstrip("/")
    return server_url(host or settings.host, settings.port if port is None else port)


def login_link(settings: Settings, secret: str, host: str | None = None, port: int | None = None) -> str:
    return login_url(base_url(settings, host, port), secret)


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
