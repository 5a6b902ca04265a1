"""Use cases: the files folder (``SOFTQUERY_FILES_DIR``), the one place SQL scripts read and write files.

A path a user gives is relative to the folder. Every resolution refuses a path that would
leave it: ``..``, an absolute path elsewhere, or a symlink (anywhere along the path), and a
path with a hidden part (``.name``): those are softquery's own files (``.mlsql/``). Files are opened with ``O_NOFOLLOW`` on the last part, so a symlink swapped in
after the check is refused too; downloads (``open_for_reading``) and deletions
(``delete_file``) open every folder along the path with ``O_NOFOLLOW`` as well.
"""

from __future__ import annotations

import json
import os
import stat as stat_mode
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from softquery.errors import InvalidInputError, NotFoundError
from softquery.services import audit
from softquery.services.context import ServiceContext

MAX_UPLOAD_BYTES = 512 * 1024 * 1024
READ_CHUNK = 256 * 1024
MAX_PATH_BYTES = 1024  # what a path may be; longer ones are refused before the file system sees them
MAX_NAME_BYTES = 255
SNIFF_BYTES = 1024 * 1024  # how much of a .json file is read to tell JSON lines from one document


@dataclass
class FileEntry:
    path: str  # relative to the files folder, with /
    size: int
    modified: float  # seconds since the epoch


def files_folder(ctx: ServiceContext) -> Path:
    """The files folder, created (mode 0700, like the rest of the home) when missing."""
    folder = ctx.settings.files_folder
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    return folder.resolve()


def resolve_file(ctx: ServiceContext, path: str, *, must_exist: bool = True) -> Path:
    """``path`` (relative to the files folder, or absolute inside it) as a real path inside it."""
    folder = files_folder(ctx)
    if not path or "\x00" in path:
        raise InvalidInputError("Give a file path inside the files folder.", details={"path": path})
    given = Path(path)
    if len(path.encode(errors="surrogateescape")) > MAX_PATH_BYTES or any(
            len(part.encode(errors="surrogateescape")) > MAX_NAME_BYTES for part in given.parts):
        raise InvalidInputError(f"The path is too long: at most {MAX_PATH_BYTES} bytes, each name at most "
                                f"{MAX_NAME_BYTES}.", details={"path": path[:200]})
    candidate = given if given.is_absolute() else folder / given
    outside = InvalidInputError(
        f"The path {path!r} leaves the files folder; scripts may read and write only inside it "
        "(the Files page lists it; SOFTQUERY_FILES_DIR sets it). Upload the file there and name it "
        "relative to the folder, e.g. data/houses.csv.",
        details={"path": path})
    if ".." in given.parts:
        raise outside
    real = candidate.resolve()  # follows every symlink along the path
    if real != folder and folder not in real.parents:
        raise outside
    if Path(os.path.abspath(candidate)) != real:
        raise outside  # a symlink inside the folder, even one pointing back in: refused, never followed
    if any(part.startswith(".") for part in real.relative_to(folder).parts):
        # softquery keeps its own files under hidden names (.mlsql/: the rows MLSQL models
        # train on); a user's path never reaches them, or an upload could replace another
        # user's model's training data
        raise InvalidInputError(
            f"The path {path!r} has a part starting with '.': such names are softquery's own in the "
            "files folder. Name the file without a leading dot.", details={"path": path})
    if must_exist and not real.exists():
        raise NotFoundError(f"There is no file {path!r} in the files folder.", details={"path": path})
    return real


def list_files(ctx: ServiceContext) -> list[FileEntry]:
    folder = files_folder(ctx)
    entries: list[FileEntry] = []
    for root, dirs, names in os.walk(folder, followlinks=False):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for name in sorted(names):
            full = Path(root) / name
            if name.startswith(".") or full.is_symlink():
                continue
            stat = full.stat()
            entries.append(FileEntry(full.relative_to(folder).as_posix(), stat.st_size, stat.st_mtime))
    return entries


def open_for_writing(ctx: ServiceContext, path: str, *, overwrite: bool) -> int:
    """A file descriptor for writing ``path`` inside the folder (parents created; never through a symlink)."""
    real = resolve_file(ctx, path, must_exist=False)
    _make_private_parents(real.parent)
    flags = os.O_WRONLY | os.O_CREAT | os.O_NOFOLLOW | (os.O_TRUNC if overwrite else os.O_EXCL)
    try:
        return os.open(real, flags, 0o600)
    except FileExistsError:
        raise InvalidInputError(f"The file {path!r} exists already. Replace it explicitly (\"replace a file of "
                                "the same name\" on the Files page, save overwrite in a script) or choose "
                                "another name.",
                                details={"path": path}) from None


def _make_private_parents(folder: Path) -> None:
    """Create ``folder`` and each missing folder above it 0700, like the home (``Path.mkdir``
    with ``parents=True`` gives the ones above the last the umask's mode, 0755 under umask 022)."""
    missing: list[Path] = []
    while not folder.exists():
        missing.append(folder)
        folder = folder.parent
    for part in reversed(missing):
        part.mkdir(mode=0o700, exist_ok=True)


def _open_parent(folder: Path, real: Path) -> int:
    """A descriptor of ``real``'s folder, opened part by part from the files folder, each part
    with ``O_NOFOLLOW``: a folder swapped for a symlink after ``resolve_file`` is refused."""
    fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    try:
        for part in real.parent.relative_to(folder).parts:
            inner = os.open(part, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW, dir_fd=fd)
            os.close(fd)
            fd = inner
    except OSError:
        os.close(fd)
        raise
    return fd


def _not_a_file(path: str) -> NotFoundError:
    return NotFoundError(f"There is no file {path!r} in the files folder (a folder, or something else, is "
                         "not a file to download or delete).", details={"path": path})


@dataclass
class OpenedFile:
    """A file of the folder opened for reading: stream ``chunks()`` (it closes the file at the end)."""
    path: str  # relative to the files folder, with /
    size: int
    fd: int
    json_lines: bool = False  # a .json file of one JSON object a line (what ``save … as json.`` writes)

    def chunks(self) -> Iterator[bytes]:
        """The file's bytes, at most ``size`` of them (what it held when opened), chunk by chunk."""
        left = self.size
        try:
            while left > 0:
                chunk = os.read(self.fd, min(READ_CHUNK, left))
                if not chunk:
                    break
                left -= len(chunk)
                yield chunk
        finally:
            self.close()

    def close(self) -> None:
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1

    def __del__(self) -> None:  # a download whose stream never started (the client went away)
        self.close()


def open_for_reading(ctx: ServiceContext, path: str) -> OpenedFile:
    """``path`` opened for a download: a regular file inside the folder, never through a symlink."""
    folder = files_folder(ctx)
    real = resolve_file(ctx, path)
    if real == folder:
        raise _not_a_file(path)
    try:
        parent = _open_parent(folder, real)
        try:
            # O_NONBLOCK: a named pipe does not hang the request (it is refused below, not a file)
            fd = os.open(real.name, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK, dir_fd=parent)
        finally:
            os.close(parent)
    except OSError:
        raise _not_a_file(path) from None
    info = os.fstat(fd)
    if not stat_mode.S_ISREG(info.st_mode):
        os.close(fd)
        raise _not_a_file(path)
    relative = real.relative_to(folder).as_posix()
    return OpenedFile(relative, info.st_size, fd,
                      json_lines=real.suffix.lower() == ".json" and _holds_json_lines(fd, info.st_size))


def _holds_json_lines(fd: int, size: int) -> bool:
    """Whether the file's first two lines are each one JSON object (read without moving the
    descriptor's offset): JSON lines, not one document (a pretty-printed document's first line
    is ``{`` alone; a one-line document is one line)."""
    head = os.pread(fd, min(size, SNIFF_BYTES), 0)
    lines = [line for line in head.split(b"\n")[:3] if line.strip()]
    if len(lines) < 2 or (len(head) == SNIFF_BYTES and head.count(b"\n") < 2):
        return False
    try:
        return all(isinstance(json.loads(line), dict) for line in lines[:2])
    except ValueError:
        return False


def delete_file(ctx: ServiceContext, path: str) -> str:
    """Delete the file ``path`` (never a folder, never through a symlink) and the folders its
    deletion left empty; its path relative to the folder. Audited."""
    folder = files_folder(ctx)
    real = resolve_file(ctx, path)
    if real == folder:
        raise _not_a_file(path)
    relative = real.relative_to(folder)
    try:
        parent = _open_parent(folder, real)
    except OSError:
        raise _not_a_file(path) from None
    try:
        info = os.stat(real.name, dir_fd=parent, follow_symlinks=False)
        if not stat_mode.S_ISREG(info.st_mode):
            raise _not_a_file(path)
        os.unlink(real.name, dir_fd=parent)
    except OSError:
        raise _not_a_file(path) from None
    finally:
        os.close(parent)
    _remove_empty_folders(folder, relative.parent)
    audit.record(ctx, "file.delete", "file", relative.as_posix(), {"bytes": info.st_size})
    return relative.as_posix()


def _remove_empty_folders(folder: Path, relative: Path) -> None:
    """Remove ``relative`` and its parents (never the files folder itself) while they are empty."""
    parts = list(relative.parts)
    while parts:
        try:
            parent = _open_parent(folder, folder.joinpath(*parts))
        except OSError:
            return
        try:
            os.rmdir(parts[-1], dir_fd=parent)  # refuses a folder that is not empty, and a symlink
        except OSError:
            return
        finally:
            os.close(parent)
        parts.pop()
