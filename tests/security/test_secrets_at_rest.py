"""Data-source passwords are encrypted at rest and never shown."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import insert, select
from tests import authkit
from tests.api.conftest import FakeExecutor

from softquery.clock import utcnow
from softquery.config import Settings
from softquery.errors import SourceError
from softquery.server import create_app
from softquery.services import sources as svc
from softquery.services.context import ServiceContext, open_context
from softquery.services.home import init_home
from softquery.store.secret_box import SecretBox
from softquery.store.tables import sources

PASSWORD = "Sup3r-Secret_pw%40x"  # noqa: S105 - a test value; '%40' is an escaped '@'
URL = f"postgresql://analyst:{PASSWORD}@127.0.0.1:1/shop"
PLAIN = "Sup3r-Secret_pw@x"


def _settings(tmp_path: Path, key: str | None = None) -> Settings:
    return Settings(home=tmp_path / "home", secret_key=key)


@pytest.fixture
def ctx(tmp_path: Path) -> Iterator[ServiceContext]:
    settings = _settings(tmp_path)
    init_home(settings)
    context = open_context(settings)
    try:
        yield context
    finally:
        context.close()


def _db_bytes(home: Path) -> bytes:
    return b"".join(p.read_bytes() for p in home.glob("softquery.db*"))


def test_password_not_in_the_metadata_file(ctx: ServiceContext) -> None:
    view = svc.add_source(ctx, "shop", URL, test=False)
    assert PLAIN not in view.url and "***" in view.url
    assert ctx.sources.get("shop").url == URL  # trusted code (job specs) gets the real URL
    assert [s.url for s in ctx.sources.list()] == [URL]
    with ctx.engine.connect() as conn:
        row = conn.execute(select(sources).where(sources.c.name == "shop")).mappings().one()
    assert row["url"] == "postgresql://analyst:***@127.0.0.1:1/shop"
    assert row["url_encrypted"] and PLAIN not in row["url_encrypted"]
    ctx.engine.dispose()
    data = _db_bytes(ctx.settings.home)
    for secret in (PLAIN, PASSWORD, "Sup3r-Secret"):
        assert secret.encode() not in data


def test_url_without_password_is_stored_as_is(ctx: ServiceContext, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'x.db'}"
    svc.add_source(ctx, "local", url, test=False)
    with ctx.engine.connect() as conn:
        row = conn.execute(select(sources).where(sources.c.name == "local")).mappings().one()
    assert row["url"] == url and row["url_encrypted"] is None
    assert ctx.sources.get("local").url == url


def test_api_and_pages_show_masked_urls(ctx: ServiceContext) -> None:
    svc.add_source(ctx, "shop", URL, test=False)
    with TestClient(create_app(ctx, FakeExecutor()), raise_server_exceptions=False) as client:
        client.headers.update(authkit.bearer(ctx))
        for path in ("/api/v1/sources", "/sources", "/openapi.json"):
            response = client.get(path)
            assert response.status_code == 200, path
            assert "Sup3r-Secret" not in response.text, path
        assert "analyst:***@" in client.get("/api/v1/sources").text
    # nor in the audit log, which keeps the masked URL
    assert all("Sup3r-Secret" not in str(e.details) for e in ctx.audit.list())


def test_wrong_secret_key_gives_a_clear_error(ctx: ServiceContext, tmp_path: Path) -> None:
    svc.add_source(ctx, "shop", URL, test=False)
    other = open_context(_settings(tmp_path, key="another-key-entirely"))
    try:
        with pytest.raises(SourceError, match="cannot decrypt|Cannot decrypt") as info:
            other.sources.get("shop")
        assert "was the secret key changed?" in info.value.message
        # listing needs no key: people still see the masked URL
        assert [v.url for v in svc.list_sources(other)] == ["postgresql://analyst:***@127.0.0.1:1/shop"]
    finally:
        other.close()


def test_init_encrypts_plaintext_rows_left_by_older_versions(tmp_path: Path) -> None:
    settings = _settings(tmp_path)
    init_home(settings)
    context = open_context(settings)
    with context.engine.begin() as conn:  # what 0.1 stored: the URL as typed
        conn.execute(insert(sources).values(name="old", url=URL, created_at=utcnow()))
    context.close()
    init_home(settings)
    assert _db_bytes(settings.home).find(PLAIN.encode()) < 0
    context = open_context(settings)
    try:
        assert context.sources.get("old").url == URL
    finally:
        context.close()


def test_secret_box_keys_differ_per_secret() -> None:
    token = SecretBox(b"k1").encrypt("postgresql://a:b@h/d")
    assert SecretBox(b"k1").decrypt(token, source="s") == "postgresql://a:b@h/d"
    with pytest.raises(SourceError, match="was the secret key changed"):
        SecretBox(b"k2").decrypt(token, source="s")
    with pytest.raises(SourceError):
        SecretBox(b"k1").decrypt("not a token", source="s")


def test_a_password_in_the_query_string_is_a_password_too(ctx: ServiceContext) -> None:
    url = "postgresql://analyst@db.internal:5432/shop?password=Qu3ry-Secret&sslmode=require"
    svc.add_source(ctx, "qs", url, test=False)
    with ctx.engine.connect() as conn:
        row = conn.execute(select(sources).where(sources.c.name == "qs")).mappings().one()
    assert "Qu3ry-Secret" not in row["url"] and "password=***" in row["url"] and "sslmode=require" in row["url"]
    assert row["url_encrypted"] is not None and "Qu3ry-Secret" not in row["url_encrypted"]
    assert ctx.sources.get("qs").url == url  # the job still gets the real URL
    assert [s.url for s in svc.list_sources(ctx) if s.name == "qs"] == [row["url"]]
    assert all("Qu3ry-Secret" not in str(e.details) for e in ctx.audit.list())
