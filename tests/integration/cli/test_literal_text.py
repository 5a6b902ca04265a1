"""The CLI prints a user's text as typed: no emoji for ``:name:``, no rich markup for ``[bold]``
(item 5 of the issue 14 review)."""

from __future__ import annotations

from tests.integration.cli.cli_harness import SoftqueryCLI

DESCRIPTION = ":warning: [bold]x[/] and [red]y"


def _create(sq: SoftqueryCLI, *extra: str, ok: bool = True) -> str:
    result = sq("model", "create", "m", "--source", "shop", "--template", "random_forest_regressor",
                "--train-sql", "select id, price, quality from houses", "--predict-sql",
                "select id, price from houses", *extra, ok=ok)
    return result.out + result.err


def test_model_text_prints_as_typed(sq: SoftqueryCLI, shop: None) -> None:
    _create(sq, "--description", DESCRIPTION, "--search", "random", "--param", "n_estimators=10:100:log")
    text = sq("model", "show", "m").out
    assert DESCRIPTION in text, text
    assert "n_estimators=10:100:log" in text, text
    assert "\u26a0" not in text and "\U0001f4af" not in text, text


def test_an_error_quotes_the_syntax_as_typed(sq: SoftqueryCLI, shop: None) -> None:
    text = _create(sq, "--param", "=3", ok=False)
    assert "0.001:100:log" in text, text
    assert "\U0001f4af" not in text, text
