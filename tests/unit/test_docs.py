"""Every setting is documented in the README (datasette's test_docs idea)."""

from __future__ import annotations

from pathlib import Path

from softquery.config import Settings

README = Path(__file__).resolve().parents[2] / "README.md"


def test_every_setting_is_documented() -> None:
    text = README.read_text()
    missing = [f"SOFTQUERY_{name.upper()}" for name in Settings.model_fields
               if f"`SOFTQUERY_{name.upper()}`" not in text]
    assert missing == []


def test_every_cli_command_is_documented() -> None:
    from softquery.cli.main import cli

    text = README.read_text()
    missing = [name for name in cli.commands if f"softquery {name}" not in text]
    assert missing == []
