"""Typed settings, read from ``SOFTQUERY_*`` environment variables.

Each entry point builds one ``Settings`` and passes it down; nothing here is
a module-level singleton.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


def _default_home() -> Path:
    return Path.home() / ".softquery"


class Settings(BaseSettings):
    """All settings of a softquery installation (env prefix ``SOFTQUERY_``)."""

    model_config = SettingsConfigDict(env_prefix="SOFTQUERY_", extra="ignore")

    home: Path = Field(default_factory=_default_home, description="Folder holding the metadata DB, secret key and demo data.")
    database_url: str | None = Field(default=None, description="Metadata DB URL; a SQLite file in the home when unset.")
    secret_key: str | None = Field(default=None, description="Key that signs model artifacts; read from <home>/secret.key when unset.")
    chunk_rows: int = Field(default=100_000, ge=1_000, description="Rows per chunk when reading and writing prediction data.")
    max_log_chars: int = Field(default=200_000, ge=1_000, description="Tail of stdout/stderr kept per run.")

    @property
    def metadata_url(self) -> str:
        if self.database_url:
            return normalise_metadata_url(self.database_url)
        return f"sqlite:///{self.home / 'softquery.db'}"

    @property
    def secret_key_path(self) -> Path:
        return self.home / "secret.key"


def normalise_metadata_url(url: str) -> str:
    """Use the psycopg 3 driver for a bare ``postgresql://`` URL."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url
