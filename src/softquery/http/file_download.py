"""A file of the files folder as a download, the same for the web page and the API.

Streamed from the descriptor ``services.files.open_for_reading`` opened (never read into
memory, never reopened by name), always as an attachment: a content type from a short
list of data formats (anything else is ``application/octet-stream``: no HTML, script or
SVG is ever rendered by the browser), ``X-Content-Type-Options: nosniff``, a sandboxing
Content-Security-Policy, and a file name made safe for the header.
"""

from __future__ import annotations

import re
from pathlib import PurePosixPath
from urllib.parse import quote

from fastapi.responses import StreamingResponse

from softquery.services.files import OpenedFile

# data formats SQL scripts read and write; none of them is rendered as a page
CONTENT_TYPES = {
    ".csv": "text/csv; charset=utf-8",
    ".tsv": "text/tab-separated-values; charset=utf-8",
    ".txt": "text/plain; charset=utf-8",
    ".json": "application/json",
    ".jsonl": "application/x-ndjson",
    ".ndjson": "application/x-ndjson",
    ".parquet": "application/vnd.apache.parquet",
}
OCTET_STREAM = "application/octet-stream"
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def content_type(path: str, *, json_lines: bool = False) -> str:
    """The type by the file's suffix; a ``.json`` file of JSON lines (what ``save … as json.``
    writes) is JSON lines, not one JSON document."""
    if json_lines:
        return CONTENT_TYPES[".jsonl"]
    return CONTENT_TYPES.get(PurePosixPath(path).suffix.lower(), OCTET_STREAM)


def disposition(path: str) -> str:
    """``attachment`` with the file's own name: an ASCII fallback (anything but letters, digits,
    ``. _ -`` becomes ``_``) and the exact name, percent-encoded (RFC 6266)."""
    name = PurePosixPath(path).name or "download"
    fallback = _UNSAFE.sub("_", name).strip(".") or "download"
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(name, safe='')}"


def download_response(opened: OpenedFile) -> StreamingResponse:
    return StreamingResponse(opened.chunks(), media_type=content_type(opened.path, json_lines=opened.json_lines), headers={
        "Content-Disposition": disposition(opened.path),
        "Content-Length": str(opened.size),
        "X-Content-Type-Options": "nosniff",
        "Content-Security-Policy": "default-src 'none'; sandbox",
        "Cache-Control": "private, no-store",
    })
