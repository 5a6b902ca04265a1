"""SQLite's rollback journal: is a write of this file unfinished?

A transaction in SQLite's default journal mode copies the pages it changes to
``<file>-journal`` before changing them. A writer killed mid-transaction
leaves that journal behind, *hot*: the next connection that may write rolls
it back (restoring the file as it was before the transaction) simply by
reading the file. A read-only connection cannot, so every read of the file
fails with "attempt to write a readonly database" until a writing connection
has opened it.
"""

from __future__ import annotations

from pathlib import Path

from softquery.data.source_urls import mask_url
from softquery.errors import InterruptedWriteError

JOURNAL_MAGIC = bytes.fromhex("d9d505f920a163d7")  # the first 8 bytes of a journal in use


def journal_path(database: Path) -> Path:
    return database.with_name(database.name + "-journal")


def pending_journal(database: Path) -> Path | None:
    """The journal of a transaction on ``database`` that was neither committed nor rolled
    back, or None. (SQLite treats it as hot unless a live writer holds the file.)"""
    journal = journal_path(database)
    try:
        with journal.open("rb") as fh:
            head = fh.read(len(JOURNAL_MAGIC))
    except OSError:
        return None
    return journal if head == JOURNAL_MAGIC else None


def interrupted_write(url: str, journal: Path, what: str | None = None) -> InterruptedWriteError:
    """The error of a read-only query that met ``journal``: what happened and how it ends."""
    reading = f"The {what} cannot run" if what else "The data source cannot be read"
    return InterruptedWriteError(
        f"{reading}: a write to the SQLite file of data source {mask_url(url)} was interrupted "
        "(the process writing it, e.g. a prediction writing its output table, was killed or crashed) "
        f"and left its rollback journal {journal}. Until a writing connection undoes that write, "
        "SQLite refuses every read-only query on the file, and softquery's queries only read. "
        "softquery undoes it (the file goes back to how it was before that write; nothing else "
        "is lost) at its next write to this source and whenever `softquery serve` or "
        "`softquery worker` starts: to recover now, start a prediction of a model on this source, "
        "or restart the server.",
        details={"url": mask_url(url), "journal": str(journal), "reason": "interrupted_write",
                 **({"query": what} if what else {})},
    )
