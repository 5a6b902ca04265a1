from __future__ import annotations

import pytest

from softquery.data import dialect_of, mask_url
from softquery.errors import SourceError


@pytest.mark.parametrize(("url", "dialect"), [
    ("sqlite:////abs/file.db", "sqlite"),
    ("duckdb:////abs/file.duckdb", "duckdb"),
    ("postgresql://u:p@h:5432/db", "postgresql"),
    ("postgres://u@h/db", "postgresql"),
    ("postgresql+psycopg://u@h/db", "postgresql"),
    ("mysql+pymysql://u:p@h/db", "mysql"),
])
def test_dialect_of(url: str, dialect: str) -> None:
    assert dialect_of(url) == dialect


@pytest.mark.parametrize("url", ["", "not a url", "://nothing"])
def test_malformed_url_shows_examples(url: str) -> None:
    with pytest.raises(SourceError) as caught:
        dialect_of(url)
    for example in ("sqlite:////abs/path/file.db", "duckdb:////abs/path/file.duckdb",
                    "postgresql://user:password@host:5432/dbname"):
        assert example in caught.value.message


def test_mask_url_hides_password() -> None:
    masked = mask_url("postgresql+psycopg://ana:Sup3r%40secret@db:5432/sales")
    assert "Sup3r" not in masked and "secret" not in masked
    assert masked == "postgresql+psycopg://ana:***@db:5432/sales"
    assert mask_url("sqlite:////x.db") == "sqlite:////x.db"
