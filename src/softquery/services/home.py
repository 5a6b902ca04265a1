"""Create and upgrade a softquery home: folder, metadata DB, secret key."""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass

from softquery.config import Settings
from softquery.services.context import read_secret_key
from softquery.store.database import make_engine, migrate
from softquery.store.sources_repo import SourceRepository


@dataclass
class InitResult:
    home: str
    database: str
    created_key: bool


def init_home(settings: Settings) -> InitResult:
    """Idempotent: creates what is missing and migrates the DB to the newest schema."""
    home = settings.home
    home.mkdir(parents=True, exist_ok=True)
    created_key = False
    if not settings.secret_key and not settings.secret_key_path.exists():
        fd = os.open(settings.secret_key_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(secrets.token_hex(32) + "\n")
        created_key = True
    engine = make_engine(settings.metadata_url)
    try:
        migrate(engine)
        # Passwords saved before they were encrypted at rest: encrypt them now (init has the key).
        SourceRepository(engine, lambda: read_secret_key(settings)).encrypt_plaintext()
    finally:
        engine.dispose()
    database = settings.metadata_url
    if "@" in database:
        from softquery.data.sources import mask_url

        database = mask_url(database)
    return InitResult(home=str(home), database=database, created_key=created_key)
