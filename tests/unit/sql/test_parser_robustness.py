"""The grammar never crashes: any text is statements or one clear, positioned SqlError."""

from __future__ import annotations

import os

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from softquery.sql.parse import parse_script
from softquery.sql.script import MAX_SCRIPT_CHARS
from softquery.sql.statement_errors import SqlError

VALID = [
    "CREATE OR REPLACE MODEL demo.m OPTIONS(model_type='linear_reg', input_label_cols=['y'], l2_reg=0.5) "
    "AS SELECT a, y FROM t",
    "SELECT p.id, p.predicted_y FROM ML.PREDICT(MODEL m, (SELECT id, a FROM t WHERE a > 1)) AS p "
    "JOIN t ON t.id = p.id ORDER BY 2 DESC LIMIT 5",
    "SELECT * FROM ML.EVALUATE(MODEL m, TABLE t, STRUCT(0.5 AS threshold))",
    "SELECT * FROM ML.WEIGHTS(MODEL m)",
    "DROP MODEL IF EXISTS src.m",
    "CREATE TABLE out AS SELECT * FROM ML.PREDICT(MODEL m, TABLE t)",
    "select `a;b`, 'it\\'s', \"q\" from t -- c\n/* x */",
    "load csv.`data/x.csv` where header=\"true\" as t",
    "train t as PythonAlg.`m` where fitParam.0.a=\"1\"",
    "select m(a, b) as p from t",
]
SQL_BITS = ["SELECT", "FROM", "ML.PREDICT(", "MODEL", "TABLE", "STRUCT(", "(", ")", ",", ";", "'", '"', "`",
            "--", "/*", "*/", "AS", "OPTIONS(", "=", "[", "]", "${x}", "\n", " ", "CREATE", "DROP", "1.5e",
            "ML.", "ML.EVALUATE(", "\\", "'''", "x", "\x00", "é", "𝔘"]
PROBE = settings(max_examples=int(os.environ.get("SQL_FUZZ_EXAMPLES", "300")), deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _parsed_or_explained(text: str) -> None:
    try:
        parse_script(text, {"x": "1"})
    except SqlError as exc:
        details = exc.details
        assert exc.message and exc.code == "sql_error"
        assert not any(raw in exc.message for raw in ("<Token", "TokenType", "<class", "Required keyword"))
        if "line" in details:
            assert details["line"] >= 1 and details["column"] >= 1 and "^" in details["excerpt"]


@PROBE
@given(st.text(max_size=300))
@example("select 'abc")
@example("select `abc")
@example("/* never closed")
@example("select (((")
@example("ML.PREDICT(")
@example("SELECT * FROM ML.PREDICT(MODEL")
@example("CREATE MODEL m OPTIONS(")
@example("${")
@example("\x00")
def test_arbitrary_text_never_crashes_the_parser(text: str) -> None:
    _parsed_or_explained(text)


@PROBE
@given(st.lists(st.sampled_from(SQL_BITS), max_size=40).map("".join))
def test_sql_shaped_noise_never_crashes_the_parser(text: str) -> None:
    _parsed_or_explained(text)


@st.composite
def _mutated(draw: st.DrawFn) -> str:
    text = draw(st.sampled_from(VALID))
    for _ in range(draw(st.integers(1, 4))):
        at = draw(st.integers(0, len(text)))
        how = draw(st.sampled_from(["delete", "insert", "replace", "cut"]))
        if how == "delete":
            text = text[:at] + text[at + draw(st.integers(1, 5)):]
        elif how == "insert":
            text = text[:at] + draw(st.sampled_from(SQL_BITS)) + text[at:]
        elif how == "replace":
            text = text[:at] + draw(st.text(min_size=1, max_size=3)) + text[at + 1:]
        else:
            text = text[:at]
    return text


@PROBE
@given(_mutated())
def test_mutations_of_valid_statements_never_crash_the_parser(text: str) -> None:
    _parsed_or_explained(text)


@pytest.mark.parametrize("text", VALID)
def test_the_valid_statements_parse(text: str) -> None:
    assert len(parse_script(text)) == 1


@pytest.mark.parametrize(("script", "line", "column", "words"), [
    ("select 1;\nselect 'abc", 2, 8, "not closed"),
    ("select 1;\n  select `abc from t", 2, 10, "not closed"),
    ("select 1 /* note", 1, 10, "not closed"),
])
def test_an_unterminated_string_backtick_or_comment_points_at_its_opening(
        script: str, line: int, column: int, words: str) -> None:
    with pytest.raises(SqlError) as caught:
        parse_script(script)
    assert words in caught.value.message
    assert (caught.value.details["line"], caught.value.details["column"]) == (line, column)


def test_a_one_megabyte_statement_is_refused_clearly() -> None:
    statement = "select '" + "x" * (1024 * 1024) + "' as big"
    with pytest.raises(SqlError) as caught:
        parse_script(statement)
    error = caught.value
    assert f"at most {MAX_SCRIPT_CHARS:,}" in error.message and "characters" in error.message
    assert error.details["line"] == 1 and error.details["column"] == MAX_SCRIPT_CHARS + 1
    assert error.details["max_chars"] == MAX_SCRIPT_CHARS


@pytest.mark.parametrize(("script", "column", "words"), [
    ("select (1", 10, "Expected ) at the end of the statement: a ( before it is not closed"),
    ("SELECT * FROM ML.PREDICT(MODEL m, (SELECT 1)", 45, "Expected ) at the end of the statement"),
    ("CREATE MODEL m OPTIONS(model_type='linear_reg' AS SELECT 1", 48, "Expected ) at 'AS'"),
    ("selec 1", 1, "SELEC does not start a statement softquery knows. Did you mean SELECT?"),
    ("select * from t where", 22, "The WHERE here is not complete: nothing follows it."),
    ("select 1 +", 11, "The + here has nothing on its right side"),
    ("DROP MOEL m", 6, "This DROP statement cannot be read from 'MOEL' on; softquery reads DROP MODEL"),
    ("CREATE MODLE m OPTIONS(model_type='kmeans') AS SELECT 1", 8, "cannot be read from 'MODLE'"),
    ("DROP MODEL", 11, "Expected a table name here, not the end of the statement."),
    ("select 'it''s'", 12, "Two strings follow each other here"),
    ("select a b c from t", 12, "Unexpected 'c' here"),
])
def test_parse_errors_read_as_sentences_at_their_position(script: str, column: int, words: str) -> None:
    with pytest.raises(SqlError) as caught:
        parse_script(script)
    assert words in caught.value.message
    assert caught.value.details["column"] == column and caught.value.details["line"] == 1
    excerpt = caught.value.details["excerpt"]
    if len(script) < 30:  # shown whole: the caret stands under the column
        assert excerpt == f"{script}\n{' ' * (column - 1)}^"
    else:
        assert excerpt.endswith("^")
