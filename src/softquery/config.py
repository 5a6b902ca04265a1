"""Typed settings, read from ``SOFTQUERY_*`` environment variables.

Each entry point builds one ``Settings`` and passes it down; nothing here is
a module-level singleton.
"""

from __future__ import annotations

import os
import types
import typing
from pathlib import Path

from pydantic import Field, ValidationError
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
    queue: str | None = Field(default=None, description="redis://HOST:PORT/DB to run jobs on RQ workers; local job slots when unset.")
    job_slots: int = Field(default_factory=lambda: os.cpu_count() or 1, ge=1, description="Job slots of `softquery serve` with the local executor.")
    time_limit_seconds: int = Field(default=3600, ge=1, description="Default wall-time limit of one run (a model can set its own).")
    memory_limit_mb: int = Field(default=4096, ge=64, description="Default memory limit of one run (a model can set its own).")
    max_time_limit_seconds: int | None = Field(default=None, ge=1, description="Largest time limit a model may set (a larger one is refused; runs never get more); SOFTQUERY_TIME_LIMIT_SECONDS when unset.")
    max_memory_limit_mb: int | None = Field(default=None, ge=64, description="Largest memory limit a model may set (a larger one is refused; runs never get more); SOFTQUERY_MEMORY_LIMIT_MB when unset.")
    max_processes: int = Field(default=64, ge=1, description="Most processes a run's code may have at once.")
    cv_folds: int = Field(default=5, ge=0, le=20, description="Cross-validation folds of a training whose model does not set its own (--cv-folds); 0 or 1: no cross-validation unless the model asks (a hyperparameter search or AutoML still cross-validates, with 5).")
    cv_max_rows: int = Field(default=100_000, ge=10, description="Most rows a training cross-validates on: with more, the folds run on a seeded sample of this many (the holdout and the final model use every row).")
    max_file_mb: int = Field(default=10240, ge=1, description="Largest file a run's code may write.")
    isolation: bool = Field(default=True, description="Run model code as a user of its own, with no network and the home and data files hidden (README, Isolation). Turn off only to debug.")
    heartbeat_seconds: float = Field(default=2.0, gt=0, description="How often a running job reports it is alive.")
    abandon_after_seconds: float = Field(default=30.0, gt=0, description="A running job silent this long is marked failed (abandoned).")
    metadata_retry_seconds: float = Field(default=20.0, gt=0, description="How long a running job retries its heartbeat, log, progress and outcome writes while the metadata DB is unreachable (a PostgreSQL restart); longer, it fails naming the lost connection. Keep it below SOFTQUERY_ABANDON_AFTER_SECONDS.")
    statement_timeout_seconds: float = Field(default=1800.0, gt=0, description="Longest a train or predict query may read (PostgreSQL statement_timeout, SQLite/DuckDB interrupt); previews get at most 30 s.")
    host: str = Field(default="127.0.0.1", description="Address `softquery serve` listens on.")
    port: int = Field(default=8765, ge=0, le=65535, description="Port `softquery serve` listens on.")
    serving_workers: int = Field(default_factory=lambda: max(4, (os.cpu_count() or 2) - 1), ge=1, description="Serving worker processes for online predictions (started on demand), counted across owners: each holds one owner's models, and one owner uses at most cores - 1 of them (the API process takes one core).")
    serving_max_versions: int = Field(default=4, ge=1, description="Most model versions one serving worker keeps loaded (least recently used unloaded first).")
    serving_max_rows: int = Field(default=10_000, ge=1, description="Most rows in one online prediction request (more: 413).")
    serving_max_body_bytes: int = Field(default=16 * 1024 * 1024, ge=1024, description="Largest online prediction request body (more: 413).")
    max_body_bytes: int = Field(default=1024 * 1024, ge=1024, description="Largest request body of the API and web pages, online predictions aside (SOFTQUERY_SERVING_MAX_BODY_BYTES); more: 413.")
    serving_timeout_seconds: float = Field(default=30.0, gt=0, description="An online prediction taking longer gets 503 and its serving worker restarted.")
    serving_refresh_seconds: float = Field(default=0.5, gt=0, description="How long the server trusts its cached active version before re-reading it (activations by other processes), and how soon serving workers that do not hide a newly added data source are replaced.")

    session_hours: float = Field(default=12.0, gt=0, description="How long a web login lasts.")
    login_link_hours: float = Field(default=24.0, gt=0, description="How long a one-time login link stays valid (it works once).")
    token_days: int = Field(default=90, ge=1, le=3660, description="Default lifetime of a new API token.")
    secure_cookies: bool = Field(default=False, description="Mark the session cookie Secure even when the request did not arrive over https (set behind a TLS-terminating proxy).")
    login_max_failures: int = Field(default=5, ge=1, description="Failed logins per username within 15 minutes before logins for it are refused (429).")
    files_dir: Path | None = Field(default=None, description="The one folder SQL scripts load files from and save files into (MLSQL load/save); <home>/files when unset. Paths that leave it are refused.")
    public_url: str | None = Field(default=None, description="The address people use to reach the server (for printed login links); http://HOST:PORT when unset.")

    @property
    def metadata_url(self) -> str:
        if self.database_url:
            return normalise_metadata_url(self.database_url)
        return f"sqlite:///{self.home / 'softquery.db'}"

    @property
    def files_folder(self) -> Path:
        return self.files_dir if self.files_dir is not None else self.home / "files"

    @property
    def secret_key_path(self) -> Path:
        return self.home / "secret.key"


def normalise_metadata_url(url: str) -> str:
    """Use the psycopg 3 driver for a bare ``postgresql://`` URL."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


def _accepted(name: str) -> str:
    """What the setting ``name`` accepts, in words: "a whole number from 0 to 20"."""
    field = Settings.model_fields[name]
    kinds = [field.annotation]
    if typing.get_origin(field.annotation) in (typing.Union, types.UnionType):
        kinds = [arg for arg in typing.get_args(field.annotation) if arg is not type(None)]
    kind = kinds[0] if len(kinds) == 1 else str
    if kind is bool:
        return "true or false"
    if kind is Path:
        return "a folder path"
    if kind not in (int, float):
        return "text"
    noun = "a whole number" if kind is int else "a number"
    low = high = None
    above = False
    for rule in field.metadata:
        if getattr(rule, "ge", None) is not None:
            low = rule.ge
        if getattr(rule, "gt", None) is not None:
            low, above = rule.gt, True
        if getattr(rule, "le", None) is not None:
            high = rule.le

    def shown(value: object) -> str:
        return f"{value:g}" if isinstance(value, float) else str(value)

    if low is not None and high is not None and not above:
        return f"{noun} from {shown(low)} to {shown(high)}"
    if low is not None:
        bound = f"{noun} greater than {shown(low)}" if above else f"{noun} of at least {shown(low)}"
        return bound + (f" and at most {shown(high)}" if high is not None else "")
    if high is not None:
        return f"{noun} of at most {shown(high)}"
    return noun


def settings_problems(error: ValidationError) -> list[str]:
    """One line per bad ``SOFTQUERY_*`` variable of a failed ``Settings()``: "SOFTQUERY_CV_FOLDS
    must be a whole number from 0 to 20; it is 25." (for every command, ``serve`` and ``worker``
    too: the CLI prints these instead of pydantic's traceback)."""
    lines: list[str] = []
    seen: set[str] = set()
    for problem in error.errors():
        name = str(problem["loc"][0]) if problem.get("loc") else ""
        if name in seen:
            continue
        seen.add(name)
        if name not in Settings.model_fields:
            lines.append(f"A setting is invalid: {problem.get('msg', 'invalid value')}.")
            continue
        variable = f"SOFTQUERY_{name.upper()}"
        value = problem.get("input")
        lines.append(f"{variable} must be {_accepted(name)}; it is {value if isinstance(value, str) else repr(value)}.")
    return lines
