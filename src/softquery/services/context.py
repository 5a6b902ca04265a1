"""What every use case needs: settings, repositories and the signing key."""

from __future__ import annotations

import dataclasses
import getpass
from dataclasses import dataclass, field

from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError

from softquery.config import Settings
from softquery.data.source_urls import mask_url, password_of
from softquery.domain.accounts import Principal
from softquery.errors import NotInitialisedError
from softquery.store.audit_repo import AuditRepository
from softquery.store.database import is_current, make_engine
from softquery.store.executors_repo import ExecutorRepository
from softquery.store.models_repo import ModelRepository
from softquery.store.output_tables_repo import OutputTableRepository
from softquery.store.runs_repo import RunRepository
from softquery.store.schedules_repo import ScheduleRepository
from softquery.store.sources_repo import SourceRepository, UrlSecrets
from softquery.store.tokens_repo import TokenRepository
from softquery.store.users_repo import UserRepository
from softquery.store.versions_repo import VersionRepository

INIT_HINT = "Run `softquery init` to create it (or set SOFTQUERY_HOME to an initialised folder)."


@dataclass
class ServiceContext:
    settings: Settings
    engine: Engine
    sources: SourceRepository
    models: ModelRepository
    versions: VersionRepository
    runs: RunRepository
    executors: ExecutorRepository
    users: UserRepository
    tokens: TokenRepository
    audit: AuditRepository
    output_tables: OutputTableRepository
    schedules: ScheduleRepository
    # who the use cases act for (owner of new models, the audit log's actor); entry points
    # set it with ``acting_as``; the default is the local operator (CLI, tests, scripts)
    actor: Principal = field(default_factory=lambda: Principal.local_operator(_os_user()))
    client_ip: str | None = None

    @classmethod
    def from_engine(cls, settings: Settings, engine: Engine) -> ServiceContext:
        return cls(
            settings=settings,
            engine=engine,
            sources=source_repository(settings, engine),
            models=ModelRepository(engine),
            versions=VersionRepository(engine),
            runs=RunRepository(engine),
            executors=ExecutorRepository(engine),
            users=UserRepository(engine),
            tokens=TokenRepository(engine),
            audit=AuditRepository(engine),
            output_tables=OutputTableRepository(engine),
            schedules=ScheduleRepository(engine),
        )

    def acting_as(self, actor: Principal, client_ip: str | None = None) -> ServiceContext:
        """The same context (engine, repositories) acting for ``actor``: cheap, per request."""
        return dataclasses.replace(self, actor=actor, client_ip=client_ip)

    def secret_key(self) -> bytes:
        return read_secret_key(self.settings)

    def close(self) -> None:
        self.engine.dispose()


def _os_user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


def source_repository(settings: Settings, engine: Engine) -> SourceRepository:
    """The data-source repository, told how a source URL carries its password."""
    return SourceRepository(engine, lambda: read_secret_key(settings),
                            UrlSecrets(password_of=password_of, mask=mask_url))


def read_secret_key(settings: Settings) -> bytes:
    """The server's secret key: SOFTQUERY_SECRET_KEY, else <home>/secret.key."""
    if settings.secret_key:
        return settings.secret_key.encode()
    path = settings.secret_key_path
    if not path.exists():
        raise NotInitialisedError(f"The secret key file {path} is missing. {INIT_HINT}")
    return path.read_bytes().strip()


def open_context(settings: Settings) -> ServiceContext:
    """Open an initialised home; a clear error says how to initialise one."""
    if not settings.database_url and not (settings.home / "softquery.db").exists():
        raise NotInitialisedError(f"softquery is not initialised in {settings.home}. {INIT_HINT}")
    engine = make_engine(settings.metadata_url)
    try:
        current = is_current(engine)
    except SQLAlchemyError as exc:
        engine.dispose()
        raise NotInitialisedError(
            f"Cannot open the metadata database: {exc.__class__.__name__}: {exc}. {INIT_HINT}"
        ) from exc
    if not current:
        engine.dispose()
        raise NotInitialisedError(
            f"The metadata database at {settings.home} is not initialised or is out of date. "
            "Run `softquery init` to create or upgrade it."
        )
    return ServiceContext.from_engine(settings, engine)
