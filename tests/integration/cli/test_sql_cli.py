"""`softquery sql`: statements as an argument, from a file or stdin, ${var}, tables, --json, --csv, errors."""

from __future__ import annotations

import io
import sys
from pathlib import Path

import pytest
from tests.integration.cli.cli_harness import SoftqueryCLI


@pytest.fixture
def demo(sq: SoftqueryCLI) -> SoftqueryCLI:
    sq("demo")
    return sq


def test_a_select_prints_a_plain_table_when_piped(demo: SoftqueryCLI) -> None:
    out = demo("sql", "--source", "demo", "select id, price from houses order by id limit 3").out
    lines = out.splitlines()
    assert lines[0].split() == ["id", "price"]
    assert [line.split()[0] for line in lines[1:4]] == ["1", "2", "3"]
    assert "…" not in out


def test_a_script_file_with_comments_and_variables(demo: SoftqueryCLI, tmp_path: Path) -> None:
    script = tmp_path / "script.sql"
    script.write_text("-- the first houses\nselect id from houses where id <= ${n} order by id;\n"
                      "/* a comment; with a semicolon */\nselect count(*) as species from (select distinct "
                      "species from iris) as s;\n")
    out = demo("sql", "--source", "demo", "-f", str(script), "--set", "n=2").out
    assert "-- statement 1 (line 2), select: 2 rows" in out
    assert "-- statement 2 (line 4), select: 1 row" in out
    assert out.split("-- statement 2")[1].splitlines()[1:3] == ["species", "3"]


def test_statements_from_stdin(demo: SoftqueryCLI, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(b"select 41 + 1 as answer")))
    assert demo("sql", "--source", "demo", "-f", "-").out.split() == ["answer", "42"]


def test_json_and_csv(demo: SoftqueryCLI) -> None:
    result = demo("sql", "--source", "demo", "--json", "select id, quality from houses order by id limit 2").json()
    assert result["error"] is None
    [table] = result["results"]
    assert table["kind"] == "table"
    assert table["columns"] == [{"name": "id", "type": "int64"}, {"name": "quality", "type": "double"}]
    assert table["rows"] == [[1, 5.6], [2, 1.3]] and table["row_count"] == 2 and table["truncated"] is False
    csv = demo("sql", "--source", "demo", "--csv", "select 1 as a; select id, price from houses order by id limit 2").out
    assert csv.splitlines() == ["id,price", "1,594000.0", "2,166000.0"]


def test_max_rows_says_the_table_is_cut(demo: SoftqueryCLI) -> None:
    out = demo("sql", "--source", "demo", "--max-rows", "5", "select id from houses").out
    assert len(out.splitlines()) == 1 + 5 + 1
    assert "only the first 5 rows are shown" in out


def test_a_syntax_error_shows_line_column_and_caret(demo: SoftqueryCLI) -> None:
    result = demo("sql", "--source", "demo", "select 1;\nselect 'open from houses", ok=False)
    assert result.code == 2
    assert "Line 2, column 8" in result.err
    lines = result.err.splitlines()
    at = next(i for i, line in enumerate(lines) if line.strip() == "select 'open from houses")
    assert lines[at + 1] == "  " + " " * 7 + "^"
    assert result.out == ""  # nothing ran


def test_a_misspelt_variable_gets_the_suggestion(demo: SoftqueryCLI) -> None:
    result = demo("sql", "--source", "demo", "--set", "limit_rows=3", "select id from houses limit ${limit_row}",
                  ok=False)
    assert result.code == 2
    assert "Did you mean variable 'limit_rows'?" in result.err
    assert "^" in result.err


def test_a_failing_statement_prints_what_ran_before_it(demo: SoftqueryCLI) -> None:
    result = demo("sql", "--source", "demo",
                  "select count(*) as n from iris;\nselect json('{bad') as j from houses;\nselect 3", ok=False)
    assert result.code == 2
    assert "-- statement 1 (line 1), select: 1 row" in result.out and "150" in result.out
    assert "Statement 2 (line 2) failed" in result.err and "malformed JSON" in result.err
    assert "  select json('{bad') as j from houses;\n  ^\n" in result.err and "-- statement 3" not in result.out
    as_json = demo("sql", "--source", "demo", "--json", "select 1 as x; select json('{bad') as j", ok=False)
    body = as_json.json()
    assert as_json.code == 2 and body["failed_statement"] == 2 and len(body["results"]) == 1
    assert body["error"]["details"]["line"] == 1 and body["error"]["details"]["column"] == 16


def test_bad_arguments(demo: SoftqueryCLI, tmp_path: Path) -> None:
    assert demo("sql", ok=False).code == 2
    assert demo("sql", "--set", "novalue", "select 1", ok=False).code == 2
    assert demo("sql", "--json", "--csv", "select 1", ok=False).code == 2
    assert demo("sql", "-f", str(tmp_path / "missing.sql"), ok=False).code == 2
