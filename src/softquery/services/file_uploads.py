"""Use case: upload a file into the files folder (the web UI's files page).

The name is a path relative to the folder (``services.files.resolve_file`` refuses one that
leaves it); the bytes are written through ``files.open_for_writing`` (never through a
symlink), at most ``files.MAX_UPLOAD_BYTES`` of them: a bigger upload is refused and
nothing of it is kept. Each upload is audited.
"""

from __future__ import annotations

import os
from typing import BinaryIO

from softquery.errors import InvalidInputError, LimitExceededError, SoftqueryError
from softquery.services import audit, files
from softquery.services.context import ServiceContext
from softquery.services.files import FileEntry

CHUNK = 1024 * 1024


def save_upload(ctx: ServiceContext, name: str, stream: BinaryIO, *, overwrite: bool) -> FileEntry:
    """Write ``stream`` to ``name`` in the files folder; the new entry."""
    name = name.strip().replace("\\", "/")
    if not name or name.endswith("/"):
        raise InvalidInputError("Give the file a name (a path inside the files folder, such as data/houses.csv).",
                                details={"path": name})
    real = files.resolve_file(ctx, name, must_exist=False)  # refuses .., other absolute paths, symlinks
    if real.is_dir():
        raise InvalidInputError(f"{name!r} is a folder in the files folder; choose a file name.",
                                details={"path": name})
    fd = files.open_for_writing(ctx, name, overwrite=overwrite)
    written = 0
    try:
        with os.fdopen(fd, "wb") as out:
            while chunk := stream.read(CHUNK):
                written += len(chunk)
                if written > files.MAX_UPLOAD_BYTES:
                    raise LimitExceededError(
                        f"The file is larger than {files.MAX_UPLOAD_BYTES // (1024 * 1024):,} MB, the most one "
                        "upload may be; load big data from a data source instead.",
                        details={"path": name, "max_bytes": files.MAX_UPLOAD_BYTES})
                out.write(chunk)
    except (SoftqueryError, OSError):
        real.unlink(missing_ok=True)  # nothing of a refused or broken upload is kept
        raise
    audit.record(ctx, "file.upload", "file", name, {"bytes": written, "overwrite": overwrite})
    entry = next((e for e in files.list_files(ctx) if e.path == files.resolve_file(ctx, name).relative_to(
        files.files_folder(ctx)).as_posix()), None)
    return entry or FileEntry(name, written, 0.0)
