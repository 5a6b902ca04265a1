"""SQL injection attempts through model names, table names, column names and queries."""

from __future__ import annotations

import pyarrow as pa
import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy.dialects import postgresql, sqlite
from tests.security.conftest import user_rows

from softquery.data.readonly import check_read_only, split_statements
from softquery.errors import InvalidInputError, QueryError
from softquery.identifiers import IDENTIFIER_RE, check_identifier, is_identifier
from softquery.prediction.table_writer import open_writer

ATTACKS = [
    "x; drop table users",
    "users; --",
    'users"',
    '"users"',
    "users'--",
    "x) ; delete from users; --",
    "x\x00y",
    "users ",
    "ｕsers",  # full-width letter
    "",
    "a" * 64,
    "1users",
    "us-ers",
    "users/*",
]


@pytest.mark.parametrize("name", ATTACKS)
def test_output_table_names_are_refused(users_url: str, name: str) -> None:
    with pytest.raises(InvalidInputError, match="table name"):
        open_writer(users_url, name, "replace", run_id="r1")
    assert user_rows(users_url) == [(1, "ada"), (2, "bob")]


@pytest.mark.parametrize("column", ['a"; drop table users; --', "x y", "x'", ""])
def test_column_names_from_data_are_refused(users_url: str, column: str) -> None:
    batch = pa.record_batch({"id": [1], column: [2.0]})
    with open_writer(users_url, "out_table", "replace", run_id="r1") as writer, \
            pytest.raises(InvalidInputError, match="column name"):
        writer.write(batch)
    assert user_rows(users_url) == [(1, "ada"), (2, "bob")]


def test_writer_only_writes_its_own_table(users_url: str) -> None:
    with open_writer(users_url, "users_prediction", "replace", run_id="r1") as writer:
        writer.write(pa.record_batch({"id": [1, 2], "prediction": [0.5, 0.7]}))
        assert writer.commit() == 2
    assert user_rows(users_url) == [(1, "ada"), (2, "bob")]


@pytest.mark.parametrize("name", ["x; drop table houses", 'houses"', "bad name!", "a" * 64])
def test_model_names_and_output_tables_via_api(client: TestClient, name: str) -> None:
    new = {"name": "ok_model", "source": "demo", "template": "ridge_regression",
           "train_sql": "select id, price, quality from houses where quality is not null",
           "predict_sql": "select id, price from houses where quality is null"}
    for body in ({**new, "name": name}, {**new, "output_table": name}, {**new, "label": name},
                 {**new, "id_columns": [name]}):
        response = client.post("/api/v1/models", json=body)
        assert response.status_code == 422, (body, response.text)
        assert response.json()["error"]["code"] == "invalid_input"
    assert client.get("/api/v1/sources").status_code == 200


def test_queries_with_injected_writes_via_api_preview(client: TestClient) -> None:
    response = client.post("/api/v1/sources/demo/preview", json={"sql": "select 1; drop table houses"})
    assert "tried to change the database; queries in softquery can only read" in response.text
    again = client.post("/api/v1/sources/demo/preview", json={"sql": "select count(*) as n from houses"})
    assert again.status_code == 200 and again.json()["error"] is None, again.text


# -- property tests ------------------------------------------------------------------
PREPARERS = [sqlite.dialect().identifier_preparer, postgresql.dialect().identifier_preparer]


@settings(max_examples=300, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(max_size=80))
def test_identifier_validation_accepts_exactly_the_pattern(name: str) -> None:
    ok = is_identifier(name)
    assert ok == bool(IDENTIFIER_RE.fullmatch(name))
    if ok:
        assert check_identifier(name) == name
        assert 1 <= len(name) <= 63 and name.isascii()
        assert not any(ch in name for ch in " ;'\"`-/*()\x00\n")
    else:
        with pytest.raises(InvalidInputError):
            check_identifier(name)


@settings(max_examples=300, deadline=None, derandomize=True)
@given(st.from_regex(IDENTIFIER_RE, fullmatch=True))
def test_valid_identifiers_quote_to_one_token(name: str) -> None:
    for preparer in PREPARERS:
        quoted = preparer.quote_identifier(name)
        assert quoted in (name, f'"{name}"')
        # the quoted name is one identifier: no statement separator outside quotes
        assert split_statements(f"select 1 as {quoted}") == [f"select 1 as {quoted}"]


@settings(max_examples=300, deadline=None, derandomize=True)
@given(st.text(max_size=40))
def test_quoting_any_text_keeps_it_one_identifier(name: str) -> None:
    """Even text that fails validation would quote safely: doubled quotes, no breakout."""
    quoted = postgresql.dialect().identifier_preparer.quote_identifier(name.replace("\x00", ""))
    if quoted.startswith('"'):
        inner = quoted[1:-1]
        assert inner.replace('""', "").count('"') == 0
    assert len(split_statements(f"select 1 as {quoted}")) == 1


@settings(max_examples=200, deadline=None, derandomize=True)
@given(st.text(alphabet="abc'\";-/*\n $", max_size=40))
def test_a_second_statement_is_never_accepted(tail: str) -> None:
    sql = f"select 1; drop table users {tail}"
    with pytest.raises(QueryError):
        check_read_only(sql, "train query")
