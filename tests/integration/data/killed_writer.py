"""A real interrupted write of a SQLite file: a process starts a transaction, changes
pages (a tiny page cache makes it write some of them to the file itself) and is
killed with SIGKILL before it commits. It leaves a hot rollback journal."""

from __future__ import annotations

import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

from softquery.data.sqlite_journal import pending_journal

_WRITER = r"""
import os, signal, sqlite3, sys
conn = sqlite3.connect(sys.argv[1], isolation_level=None)
conn.execute("pragma cache_size = 2")
conn.execute("begin")
conn.execute(sys.argv[2])
os.kill(os.getpid(), signal.SIGKILL)
"""


def kill_mid_write(path: Path, statement: str) -> Path:
    """Run ``statement`` on ``path`` in a process killed before its commit; the journal."""
    proc = subprocess.run([sys.executable, "-c", _WRITER, str(path), statement], timeout=60)
    assert proc.returncode == -signal.SIGKILL, proc
    journal = pending_journal(path)
    assert journal is not None, "the killed writer left no journal"
    return journal


def read_only_fails(path: Path) -> bool:
    """True when SQLite refuses a read-only read of ``path`` (a hot journal it cannot undo)."""
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        conn.execute("select count(*) from sqlite_master").fetchall()
        return False
    except sqlite3.OperationalError as exc:
        return "readonly" in str(exc)
    finally:
        conn.close()


def as_written(path: Path, sql: str) -> list[tuple[object, ...]]:
    """``sql`` on the file's bytes as they are, journal ignored (``immutable``): no lock,
    no rollback, so it shows what a killed writer left in the file itself."""
    conn = sqlite3.connect(f"file:{path}?immutable=1", uri=True)
    try:
        return conn.execute(sql).fetchall()
    finally:
        conn.close()
