"""Data sources: passwords are never part of any response."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from softquery.api.schemas.patterns import IDENTIFIER_PATTERN, documented
from softquery.services.sources import SourceView
from softquery.services.text_limits import MAX_CHARS


class SourceCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(description="Letters, digits and underscores, e.g. shop.",
                      json_schema_extra=documented(IDENTIFIER_PATTERN))
    url: str = Field(description="SQLAlchemy URL, e.g. postgresql://user:password@host:5432/db.",
                     json_schema_extra={"maxLength": MAX_CHARS["url"][1]})
    test: bool = Field(True, description="Connect and run `select 1` before saving.")


class SourcePublic(BaseModel):
    name: str
    url: str = Field(description="The URL with its password replaced by ***.")
    dialect: str

    @classmethod
    def of(cls, view: SourceView) -> SourcePublic:
        return cls(name=view.name, url=view.url, dialect=view.dialect)


class SourceTestPublic(SourcePublic):
    ok: bool = True
