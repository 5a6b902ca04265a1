"""The web's own wording: service messages without CLI hints, error codes as titles, numbers
rounded, a version's code diffed against the active one."""

from __future__ import annotations

import math

import pytest

from softquery.web.number_format import fmt_bytes, fmt_number
from softquery.web.plain_words import cause_of, plain, title_of
from softquery.web.version_view import code_diff, diff_stats


@pytest.mark.parametrize(("message", "shown"), [
    ("This model needs a label column, but the train query has none. Set --label.",
     "This model needs a label column, but the train query has none. Set the label column."),
    ("The label column 'x' is not among the train query's columns: a, b. Select it in the train query or "
     "pick another --label.",
     "The label column 'x' is not among the train query's columns: a, b. Select it in the train query or "
     "pick another label column."),
    ("Model 'm' has no trained version yet. Train it first: `softquery train m`.",
     "Model 'm' has no trained version yet. Train it first."),
    ("A model named 'x' already exists; choose another name or change the existing one with "
     "`softquery model update`.", "A model named 'x' already exists; choose another name or change the existing one."),
    ("There is no model named 'x'. See `softquery model list`.", "There is no model named 'x'."),
    ("A model needs a data source (--source NAME).", "A model needs a data source."),
    ("A model needs code: choose a --template or give --code-file.",
     "A model needs code: choose a template or give your own code."),
    ("Give model 'm' an output table of its own (output_table; --output-table on the command line) or "
     "another name.", "Give model 'm' an output table of its own or another name."),
    ("Nothing to change here.", "Nothing to change here."),
])
def test_messages_without_cli_hints(message: str, shown: str) -> None:
    assert plain(message) == shown


def test_codes_become_titles() -> None:
    assert title_of("model_code_error") == "A problem in the model code"
    assert title_of("query_error") == "The database refused the query"
    assert title_of("no_such_code") == "That did not work"
    assert cause_of("data_error") == "the rows cannot be used"
    assert cause_of("internal_error") == "softquery hit an unexpected error"


@pytest.mark.parametrize(("value", "shown"), [
    (0.96666666, "0.967"), (0.935123, "0.935"), (12.3456, "12.3"), (123.45, "123"), (4512.3, "4,512"),
    (1.0, "1"), (0.5, "0.5"), (-0.123456, "-0.123"), (1.2345e-5, "0.0000123"), (0.0, "0"),
    (math.nan, "—"), (math.inf, "∞"), (150, "150"), (1234567, "1,234,567"), (None, "—"), (True, "True"),
])
def test_numbers_rounded_for_reading(value: object, shown: str) -> None:
    assert fmt_number(value) == shown


def test_bytes() -> None:
    assert (fmt_bytes(500), fmt_bytes(12345), fmt_bytes(3 * 1024 * 1024)) == ("500 bytes", "12.1 KB", "3 MB")


def test_code_diff_against_the_active_version() -> None:
    active = "a\nb\nc\nd\ne\nf\ng\nh\ni\nj\n"
    this = "a\nb\nC\nd\ne\nf\ng\nh\ni\nj\nk\n"
    lines = code_diff(active, this)
    assert [(d.kind, d.text) for d in lines if d.kind in ("add", "del")] == [("del", "c"), ("add", "C"), ("add", "k")]
    assert lines[0].kind == "hunk" and lines[0].text == "@@ -1,6 +1,6 @@"
    assert diff_stats(lines) == {"added": 2, "removed": 1}
    assert code_diff(active, active) == []
