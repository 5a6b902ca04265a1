"""The home is its owner's alone: the folder 0700, every file in it 0600, whatever the umask.

The home holds the metadata DB (password hashes, sessions, API tokens, signed artifacts), the
secret key and the demo data. ``softquery init`` creates the folder 0700 and each file 0600
itself (an ``open`` mode, not the umask, decides); SQLite gives a database's -wal, -shm and
-journal files the database file's own mode. A home that others can read (made by hand, by an
older softquery under umask 022, or ``chmod``-ed since) is repaired on the next start of
``init``, ``serve``, ``worker``, ``scheduler`` or any command that opens the home, which says
what it changed; one it cannot repair (someone else's files) is refused.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

from sqlalchemy.engine import make_url

from softquery.config import Settings
from softquery.errors import SoftqueryError

PRIVATE_DIR = 0o700
PRIVATE_FILE = 0o600
OTHERS = 0o077  # group and other bits
JOURNALS = ("-wal", "-shm", "-journal")


def make_private_dir(path: Path) -> None:
    """Create ``path`` (and missing parents) with the folder itself 0700 (an existing one is
    left to ``secure_home``, which says what it changes)."""
    path.mkdir(mode=PRIVATE_DIR, parents=True, exist_ok=True)


def create_private_file(path: Path) -> None:
    """Create ``path`` empty with mode 0600 unless it exists (SQLite takes an empty file as a
    new database and gives its journals the same mode)."""
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE))
    except FileExistsError:
        pass


def metadata_file(settings: Settings) -> Path | None:
    """The metadata DB's file when it is SQLite (in the home or elsewhere), else None."""
    url = make_url(settings.metadata_url)
    if url.get_backend_name() != "sqlite" or url.database in (None, "", ":memory:"):
        return None
    return Path(str(url.database)).absolute()


def _private_paths(settings: Settings) -> Iterator[Path]:
    """The home, everything in it (symbolic links are not followed), and a metadata SQLite
    file kept elsewhere with its journals."""
    home = settings.home.absolute()
    if home.is_dir():
        yield home
        for folder, dirs, files in os.walk(home):
            for name in [*dirs, *files]:
                yield Path(folder, name)
    db = metadata_file(settings)
    if db is not None and not db.is_relative_to(home):
        yield from (p for p in (db, *(Path(f"{db}{s}") for s in JOURNALS)) if p.exists())


def secure_home(settings: Settings) -> list[str]:
    """Take every permission of group and others off the home and its files; returns what
    it changed (``"<path> 0755 -> 0700"``), empty when the home was already private.

    Raises ``home_not_private`` when a path cannot be changed (owned by another user)."""
    changed: list[str] = []
    for path in _private_paths(settings):
        try:
            mode = path.lstat().st_mode
        except FileNotFoundError:  # removed meanwhile (a -journal at the end of a write)
            continue
        if stat.S_ISLNK(mode) or not stat.S_IMODE(mode) & OTHERS:
            continue
        old = stat.S_IMODE(mode)
        try:
            os.chmod(path, old & ~OTHERS)
        except FileNotFoundError:
            continue
        except PermissionError as exc:
            raise SoftqueryError(
                f"{path} can be read by other users of this machine (mode {old:04o}), and softquery "
                f"cannot change it ({exc.strerror}). The softquery home holds password hashes, "
                f"sessions, API tokens, the secret key and model artifacts: as its owner, run "
                f"`chmod -R go-rwx {settings.home}` and start again.",
                code="home_not_private", details={"path": str(path), "mode": f"{old:04o}"}) from exc
        changed.append(f"{path} {old:04o} -> {old & ~OTHERS:04o}")
    return changed


def repair_message(changed: list[str]) -> str:
    """What a start prints after ``secure_home`` repaired something."""
    shown = changed[:10] + ([f"… and {len(changed) - 10} more"] if len(changed) > 10 else [])
    return ("softquery: the home could be read by other users of this machine; made it private "
            "(folder 0700, files 0600):\n  " + "\n  ".join(shown))
