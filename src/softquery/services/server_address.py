"""Where this home's running ``softquery serve`` listens, so that links other commands print
(``softquery user add`` / ``user link``) reach it on the address it really took (``--port``,
``--port 0``) rather than the default one.

The server writes ``<home>/server-url`` (its pid and URL, private like the rest of the home)
once it listens and removes it when it stops; a file left by a killed server names a pid that
is gone, and is ignored.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

FILE_NAME = "server-url"


def record(home: Path, url: str) -> None:
    """Say that this process serves ``home`` at ``url``."""
    path = home / FILE_NAME
    temporary = path.with_name(f".{FILE_NAME}.{os.getpid()}")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as out:
        out.write(f"{os.getpid()} {url}\n")
    os.replace(temporary, path)


def forget(home: Path) -> None:
    """Remove the record, if it is this process's."""
    if _read(home)[0] == os.getpid():
        with contextlib.suppress(FileNotFoundError):
            (home / FILE_NAME).unlink()


def running_url(home: Path) -> str | None:
    """The URL of the server running for ``home``, or None (none runs, or it was killed)."""
    pid, url = _read(home)
    if pid is None or url is None:
        return None
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return None
    except PermissionError:  # alive, as another user
        pass
    return url


def _read(home: Path) -> tuple[int | None, str | None]:
    try:
        text = (home / FILE_NAME).read_text()
    except (OSError, UnicodeDecodeError):
        return None, None
    pid, _, url = text.strip().partition(" ")
    if not pid.isdigit() or not url.startswith(("http://", "https://")):
        return None, None
    return int(pid), url
