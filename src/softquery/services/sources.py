"""Use cases for named data-source connections."""

from __future__ import annotations

from dataclasses import dataclass

from softquery.data import open_source
from softquery.data.source_urls import URL_EXAMPLES, dialect_of, mask_url, password_of
from softquery.errors import ConflictError
from softquery.identifiers import check_identifier
from softquery.services import audit
from softquery.services.context import ServiceContext
from softquery.services.text_limits import check_length

__all__ = ["URL_EXAMPLES", "SourceView", "add_source", "get_source_url", "has_password", "list_sources",
           "remove_source", "test_source"]


@dataclass
class SourceView:
    """A source as shown to people: the password is never included."""

    name: str
    url: str
    dialect: str

    def to_dict(self) -> dict[str, str]:
        return {"name": self.name, "url": self.url, "dialect": self.dialect}


def has_password(url: str) -> bool:
    """Does the URL carry a password (in its user-info part or as a secret query parameter)?"""
    return password_of(url) is not None


def _view(name: str, url: str) -> SourceView:
    return SourceView(name=name, url=mask_url(url), dialect=dialect_of(url))


def add_source(ctx: ServiceContext, name: str, url: str, *, test: bool = True) -> SourceView:
    check_identifier(name, "source name")
    check_length("url", url)
    dialect_of(url)
    if test:
        with open_source(url) as conn:
            conn.test()
    source = ctx.sources.add(name, url)
    audit.record(ctx, "source.add", "source", name, {"url": mask_url(source.url)})  # never the password
    return _view(source.name, source.url)


def list_sources(ctx: ServiceContext) -> list[SourceView]:
    # masked URLs straight from the store: listing needs no decryption (nor the key)
    return [_view(name, url) for name, url in ctx.sources.masked_urls().items()]


def get_source_url(ctx: ServiceContext, name: str) -> str:
    return ctx.sources.get(name).url


def test_source(ctx: ServiceContext, name: str) -> SourceView:
    source = ctx.sources.get(name)
    with open_source(source.url) as conn:
        conn.test()
    return _view(source.name, source.url)


def remove_source(ctx: ServiceContext, name: str) -> None:
    users = ctx.models.uses_source(name)
    if users:
        raise ConflictError(
            f"Data source {name!r} is used by model(s) {', '.join(users)}; delete or move them first.",
            details={"source": name, "models": users},
        )
    ctx.sources.remove(name)
    audit.record(ctx, "source.remove", "source", name)
