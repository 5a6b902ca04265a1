"""Data source URLs: which backend a URL names, and how to show it safely."""

from __future__ import annotations

import re

from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError

from softquery.errors import SourceError

SUPPORTED = ("sqlite", "duckdb", "postgresql")

URL_EXAMPLES = {
    "sqlite": "sqlite:////abs/path/file.db",
    "duckdb": "duckdb:////abs/path/file.duckdb",
    "postgresql": "postgresql://user:password@host:5432/dbname",
}

_ALIASES = {"postgres": "postgresql", "pgsql": "postgresql"}


def examples_text() -> str:
    return "; ".join(f"{name}: {example}" for name, example in URL_EXAMPLES.items())


def parse_url(url: str) -> URL:
    """Parse a SQLAlchemy-style URL or raise a ``SourceError`` showing examples."""
    try:
        if not isinstance(url, str) or not url.strip():
            raise ArgumentError("empty URL")
        return make_url(url.strip())
    except (ArgumentError, ValueError) as exc:
        raise SourceError(
            f"The data source URL {mask_url(str(url))!r} is not a valid database URL. "
            f"Examples: {examples_text()}.",
            details={"url": mask_url(str(url)), "reason": str(exc), "examples": URL_EXAMPLES},
        ) from None


def dialect_of(url: str) -> str:
    """'sqlite' | 'duckdb' | 'postgresql' | another SQLAlchemy backend name."""
    backend = parse_url(url).get_backend_name()
    return _ALIASES.get(backend, backend)


def mask_url(url: str) -> str:
    """The URL with its password replaced by ``***`` (safe to log and show)."""
    try:
        parsed = make_url(url)
    except Exception:  # noqa: BLE001 - unparsable: hide anything between ':' and '@'
        head, sep, tail = str(url).rpartition("@")
        if not sep or "://" not in head:
            return str(url)
        scheme, _, creds = head.partition("://")
        user = creds.split(":", 1)[0]
        return f"{scheme}://{user}:***@{tail}" if ":" in creds else str(url)
    secret_keys = [k for k in parsed.query if _SECRET_PARAM.search(k)]
    if secret_keys:  # postgresql://u@h/db?password=… is a password too
        parsed = parsed.update_query_dict({k: "***" for k in secret_keys})
    return parsed.render_as_string(hide_password=True).replace("%2A%2A%2A", "***")


# query-string parameters that carry secrets (libpq's password/sslpassword, tokens, keys)
_SECRET_PARAM = re.compile(r"pass|secret|token|key", re.IGNORECASE)


def password_of(url: str) -> str | None:
    """The URL's password, in its user-info part or as a secret query parameter."""
    try:
        parsed = make_url(url)
    except Exception:  # noqa: BLE001
        return None
    if parsed.password is not None:
        return str(parsed.password)
    for key, value in parsed.query.items():
        if _SECRET_PARAM.search(key) and value:
            return str(value if isinstance(value, str) else value[0])
    return None


def scrub_password(text: str, url: str) -> str:
    """Replace the URL's password wherever it appears in ``text``."""
    password = password_of(url)
    if password and len(password) >= 3:
        text = text.replace(password, "***")
    return text


def native_postgres_uri(url: str) -> str:
    """libpq URI for a SQLAlchemy postgres URL (drops a ``+driver`` suffix)."""
    parsed = parse_url(url)
    return parsed.set(drivername="postgresql").render_as_string(hide_password=False)


def file_path_of(url: str) -> str | None:
    """Database file of a sqlite/duckdb URL; None for an in-memory database."""
    database = parse_url(url).database
    if not database or database == ":memory:":
        return None
    return database
