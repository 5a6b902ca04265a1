"""Use cases: the files folder (``SOFTQUERY_FILES_DIR``), the one place SQL scripts read and write files.

A path a user gives is relative to the folder. Every resolution refuses a path that would
leave it: ``..``, an absolute path elsewhere, or a symlink (anywhere along the path), and a
path with a hidden part (``.name``): those are softquery's own files (``.mlsql/``). Files are opened with ``O_NOFOLLOW`` on the last part, so a symlink swapped in
after the check is refused too.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from softquery.errors import InvalidInputError, NotFoundError
from softquery.services.context import ServiceContext

MAX_UPLOAD_BYTES = 512 * 1024 * 1024


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
    real.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    flags = os.O_WRONLY | os.O_CREAT | os.O_NOFOLLOW | (os.O_TRUNC if overwrite else os.O_EXCL)
    try:
        return os.open(real, flags, 0o600)
    except FileExistsError:
        raise InvalidInputError(f"The file {path!r} exists already. Replace it explicitly (\"replace a file of "
                                "the same name\" on the Files page, save overwrite in a script) or choose "
                                "another name.",
                                details={"path": path}) from None
