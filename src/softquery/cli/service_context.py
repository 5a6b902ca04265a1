"""Open the home's service context for a command, acting as the local operator."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import click

from softquery.cli.command_access import operator_for
from softquery.cli.home_securing import secure_home_on_start
from softquery.config import Settings
from softquery.services.context import ServiceContext, open_context


@contextlib.contextmanager
def service_context() -> Iterator[ServiceContext]:
    """The home's service context acting as the local operator (see cli/command_access.py)."""
    click_ctx = click.get_current_context()
    actor = operator_for(click_ctx.command)
    settings: Settings = click_ctx.find_object(Settings)  # type: ignore[assignment]
    secure_home_on_start(settings)
    ctx = open_context(settings).acting_as(actor)
    try:
        yield ctx
    finally:
        ctx.close()
