"""Splitting a script: ; inside strings, backtick paths and comments never ends a statement."""

from __future__ import annotations

import pytest

from softquery.sql.parse import parse_script
from softquery.sql.script import split_script
from softquery.sql.statement_errors import SqlError
from softquery.sql.statements import CreateModel, DropModel, Query


def test_statements_split_at_semicolons_outside_strings_names_and_comments() -> None:
    script = "select 'a;b' as x; -- one; two\nselect `c;d` from t /* e; f */ ;;\n  select 3"
    _, parts = split_script(script)
    assert [p.text for p in parts] == ["select 'a;b' as x", "select `c;d` from t", "select 3"]
    assert parts[2].error("x").details["line"] == 3 and parts[2].error("x").details["column"] == 3


def test_variables_are_substituted_and_an_unknown_one_is_named() -> None:
    _, parts = split_script("select ${n} as v", {"n": "42"})
    assert parts[0].text == "select 42 as v"
    with pytest.raises(SqlError) as caught:
        split_script("select ${nn} as v", {"n": "42"})
    assert "${nn}" in caught.value.message and caught.value.details["suggestion"] == "n"


def test_bigquery_forms_parse_into_typed_statements() -> None:
    create, query, drop = parse_script(
        "CREATE OR REPLACE MODEL demo.m OPTIONS(model_type='linear_reg', input_label_cols=['y'], l2_reg=0.5)"
        " AS SELECT a, y FROM t;\nSELECT * FROM t;\nDROP MODEL IF EXISTS m")
    assert isinstance(create, CreateModel) and create.replace and create.model.source == "demo"
    assert {k: o.value for k, o in create.options.items()} == {
        "model_type": "linear_reg", "input_label_cols": ["y"], "l2_reg": 0.5}
    assert isinstance(query, Query)
    assert isinstance(drop, DropModel) and drop.if_exists and drop.model.name == "m"


def test_an_error_has_its_line_column_and_a_caret() -> None:
    with pytest.raises(SqlError) as caught:
        parse_script("select 1;\nselect 'abc")
    details = caught.value.details
    assert (details["line"], details["column"]) == (2, 8)
    assert details["excerpt"] == "select 'abc\n       ^"


def test_a_write_statement_is_refused_by_name() -> None:
    with pytest.raises(SqlError) as caught:
        parse_script("select 1; delete from houses")
    assert "DELETE" in caught.value.message and caught.value.details["line"] == 1
