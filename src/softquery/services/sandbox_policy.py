"""What model code must not see: the isolation every sandbox of this installation gets;
and the end of what a killed server left behind (for the entry points)."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterable

from sqlalchemy.engine import make_url

from softquery.config import Settings
from softquery.data.source_urls import dialect_of, file_path_of
from softquery.sandbox import Isolation, probe
from softquery.sandbox import end_leftovers as _end_leftovers
from softquery.services.context import ServiceContext


def _with_journals(path: str) -> list[str]:
    """A database file and the files beside it that hold its recent writes."""
    path = os.path.abspath(path)
    return [path + suffix for suffix in ("", "-wal", "-shm", "-journal", ".wal")]


def isolation_for(settings: Settings, source_urls: Iterable[str] = ()) -> Isolation:
    """Hide the home (metadata DB, secret key, demo data), a metadata DB kept elsewhere,
    and the files of file-based data sources (their rows reach model code only
    through the queries softquery runs for it)."""
    hide = [str(settings.home)]
    metadata = make_url(settings.metadata_url)
    if metadata.get_backend_name() == "sqlite" and metadata.database not in (None, "", ":memory:"):
        hide += _with_journals(str(metadata.database))
    for url in source_urls:
        with contextlib.suppress(Exception):
            file = file_path_of(url) if dialect_of(url) in ("sqlite", "duckdb") else None
            if file:
                hide += _with_journals(file)
    return Isolation(enabled=settings.isolation, hide=tuple(dict.fromkeys(hide)))


def isolation_of(ctx: ServiceContext) -> Isolation:
    """``isolation_for`` this installation and its data sources as they are now."""
    return isolation_for(ctx.settings, ctx.sources.masked_urls().values())


def isolation_probe(settings: Settings, ctx: ServiceContext) -> str:
    """One line on how model code runs on this machine (``softquery serve`` prints it)."""
    if not settings.isolation:
        return "no: SOFTQUERY_ISOLATION is off, model code runs as the server's user"
    return probe(isolation_of(ctx))


def end_leftovers() -> list[str]:
    """End what killed servers and workers left on this host: job processes, cgroups and
    folders (``softquery.sandbox.leftovers``); returns what was done."""
    return _end_leftovers()
