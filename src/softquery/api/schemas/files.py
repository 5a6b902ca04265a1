"""The files folder in the API: what GET /files lists."""

from __future__ import annotations

from datetime import UTC, datetime

from pydantic import BaseModel, Field

from softquery.services.files import FileEntry


class FilePublic(BaseModel):
    path: str = Field(description="Relative to the files folder, with `/`; download it at /api/v1/files/{path}.",
                      examples=["data/houses.csv"])
    size: int = Field(description="Bytes.")
    modified: datetime

    @classmethod
    def of(cls, entry: FileEntry) -> FilePublic:
        return cls(path=entry.path, size=entry.size, modified=datetime.fromtimestamp(entry.modified, UTC))
