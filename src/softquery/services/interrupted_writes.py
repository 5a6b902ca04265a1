"""Use case: recover data sources from prediction writes that were killed midway.

A batch prediction writes ``_sq_stage_<run>`` and swaps it in at the end. When
the process writing it dies (``kill -9`` of the server or of an RQ worker, a
crash), the source keeps the staging table and, on SQLite, a hot rollback
journal that blocks every read-only query on the file. This undoes both:

* when ``softquery serve`` or ``softquery worker`` starts: every source;
* before a prediction writes to a source (``services.prediction.predict_spec``);
* when the reaper marks a run abandoned: the source of its model.

A staging table is dropped only when its run is in this installation's
metadata DB and has finished: the table of a running run is its live write,
and a table of a run this metadata DB does not know may belong to another
installation writing the same database.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable

from softquery.data.source_urls import mask_url
from softquery.data.write_recovery import WriteRecovery, recover_writes
from softquery.errors import NotFoundError, SoftqueryError
from softquery.prediction.table_writer import STAGE_PREFIX, staging_name
from softquery.services.context import ServiceContext

log = logging.getLogger(__name__)


def _run_is_over(ctx: ServiceContext, table: str) -> bool:
    run_id = table[len(STAGE_PREFIX):]
    try:
        run = ctx.runs.get(run_id)
    except NotFoundError:
        return False
    return run.status.finished and staging_name(run.id) == table


def recover_url(ctx: ServiceContext, url: str) -> WriteRecovery:
    """Undo the interrupted writes of the source at ``url`` (its driver's errors propagate)."""
    result = recover_writes(url, STAGE_PREFIX, lambda table: _run_is_over(ctx, table))
    if result.changed:
        log.warning("recovered data source %s from an interrupted write: %s%s", mask_url(url),
                    f"rolled back {result.rolled_back}; " if result.rolled_back else "",
                    f"dropped {', '.join(result.dropped)}" if result.dropped else "no staging table left")
    return result


def _not_checked(source: str, exc: Exception) -> None:
    if isinstance(exc, SoftqueryError):  # e.g. a missing file: its message says it all
        log.warning("could not check data source %s for interrupted writes: %s", source, exc.message)
    else:
        log.warning("could not check data source %s for interrupted writes", source, exc_info=exc)


def recover_before_write(ctx: ServiceContext, url: str) -> None:
    """Best effort before a write: a source that cannot be recovered now fails the write
    itself, with its own message."""
    try:
        recover_url(ctx, url)
    except Exception as exc:  # noqa: BLE001 - the write that follows reports what is wrong
        _not_checked(mask_url(url), exc)


def recover_sources(ctx: ServiceContext, names: Iterable[str] | None = None) -> dict[str, WriteRecovery]:
    """Recover every source (or those named); one that fails is logged and skipped."""
    done: dict[str, WriteRecovery] = {}
    for name in sorted(set(names)) if names is not None else [s.name for s in ctx.sources.list()]:
        try:
            done[name] = recover_url(ctx, ctx.sources.get(name).url)
        except Exception as exc:  # noqa: BLE001 - one unreachable source must not stop the others
            _not_checked(repr(name), exc)
    return done


def recover_after_abandoned(ctx: ServiceContext, run_ids: Iterable[str]) -> dict[str, WriteRecovery]:
    """Recover the sources the models of these (just abandoned) runs write to."""
    names = set()
    for run_id in run_ids:
        try:
            names.add(ctx.models.get(ctx.runs.get(run_id).model).source)
        except NotFoundError:
            continue
    return recover_sources(ctx, names) if names else {}


def recover_in_background(ctx_factory: Callable[[], ServiceContext]) -> threading.Thread:
    """At start: recover every source on a thread (a slow or unreachable source must not
    delay the start; a query meeting the journal meanwhile says it is being recovered)."""

    def work() -> None:
        try:
            ctx = ctx_factory()
        except Exception:  # noqa: BLE001
            log.warning("could not open the metadata DB to recover data sources", exc_info=True)
            return
        try:
            recover_sources(ctx)
        finally:
            ctx.close()

    thread = threading.Thread(target=work, name="softquery-source-recovery", daemon=True)
    thread.start()
    return thread
