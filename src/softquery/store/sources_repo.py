"""Repository of named data-source connections.

A URL with a password is stored twice: masked in ``url`` (what people see)
and whole in ``url_encrypted`` (Fernet, key derived from the secret key).
The metadata DB never holds the password in plain text; ``get`` and ``list``
return the real URL for trusted code (job specs, connection tests). How a URL
carries its password is the data layer's knowledge (``softquery.data.source_urls``):
the service layer hands it over as ``UrlSecrets``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import Engine, delete, insert, select, update
from sqlalchemy.engine import RowMapping
from sqlalchemy.exc import IntegrityError

from softquery.clock import as_utc, utcnow
from softquery.domain import DataSource
from softquery.errors import AlreadyExistsError, NotFoundError
from softquery.store.database import write_tx
from softquery.store.secret_box import SecretBox
from softquery.store.tables import sources


@dataclass(frozen=True)
class UrlSecrets:
    """How to find a source URL's password and how to show the URL without it."""

    password_of: Callable[[str], str | None]
    mask: Callable[[str], str]


class SourceRepository:
    def __init__(self, engine: Engine, secret_key: Callable[[], bytes], url_secrets: UrlSecrets):
        self.engine = engine
        self._secret_key = secret_key
        self._urls = url_secrets
        self._box: SecretBox | None = None

    def _sealed(self) -> SecretBox:
        if self._box is None:
            self._box = SecretBox(self._secret_key())
        return self._box

    def _stored(self, url: str) -> dict[str, str | None]:
        if self._urls.password_of(url) is None:
            return {"url": url, "url_encrypted": None}
        return {"url": self._urls.mask(url), "url_encrypted": self._sealed().encrypt(url)}

    def _entity(self, row: RowMapping) -> DataSource:
        url = row["url"]
        if row["url_encrypted"] is not None:
            url = self._sealed().decrypt(row["url_encrypted"], source=row["name"])
        return DataSource(name=row["name"], url=url, created_at=as_utc(row["created_at"]))

    def add(self, name: str, url: str) -> DataSource:
        try:
            with write_tx(self.engine) as conn:
                conn.execute(insert(sources).values(name=name, created_at=utcnow(), **self._stored(url)))
        except IntegrityError as exc:
            raise AlreadyExistsError(
                f"A data source named {name!r} already exists; pick another name or remove it first.",
                details={"source": name},
            ) from exc
        return self.get(name)

    def get(self, name: str) -> DataSource:
        with self.engine.connect() as conn:
            row = conn.execute(select(sources).where(sources.c.name == name)).mappings().first()
        if row is None:
            raise NotFoundError(
                f"There is no data source named {name!r}. See `softquery source list`, "
                "or add one with `softquery source add NAME URL`.",
                details={"source": name},
            )
        return self._entity(row)

    def list(self) -> list[DataSource]:
        with self.engine.connect() as conn:
            rows = conn.execute(select(sources).order_by(sources.c.name)).mappings().all()
        return [self._entity(r) for r in rows]

    def masked_urls(self) -> dict[str, str]:
        """name → URL without its password, no key needed (what people may see)."""
        with self.engine.connect() as conn:
            rows = conn.execute(select(sources.c.name, sources.c.url).order_by(sources.c.name)).all()
        return {name: self._urls.mask(url) for name, url in rows}

    def remove(self, name: str) -> None:
        self.get(name)
        with write_tx(self.engine) as conn:
            conn.execute(delete(sources).where(sources.c.name == name))

    def encrypt_plaintext(self) -> int:
        """Encrypt rows stored before passwords were encrypted; returns how many."""
        with write_tx(self.engine) as conn:
            rows = conn.execute(select(sources.c.id, sources.c.url)
                                .where(sources.c.url_encrypted.is_(None))).all()
            changed = 0
            for row_id, url in rows:
                if self._urls.password_of(url) is None:
                    continue
                conn.execute(update(sources).where(sources.c.id == row_id).values(**self._stored(url)))
                changed += 1
        if changed and self.engine.dialect.name == "sqlite":
            self._scrub_sqlite_file()
        return changed

    def _scrub_sqlite_file(self) -> None:
        """Rewrite the SQLite file so no free page or WAL frame keeps the old plaintext."""
        raw = self.engine.raw_connection()
        try:
            driver = raw.driver_connection
            assert driver is not None
            driver.execute("pragma wal_checkpoint(TRUNCATE)")
            driver.execute("vacuum")
            driver.execute("pragma wal_checkpoint(TRUNCATE)")
        finally:
            raw.close()
