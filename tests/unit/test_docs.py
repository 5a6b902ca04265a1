"""The README documents what exists: every setting, every command, the package graph (datasette's test_docs idea)."""

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


def test_the_readme_package_table_is_the_code_s() -> None:
    """README's "Who imports whom" is what scripts/package_graph.py reads from the imports today."""
    import subprocess
    import sys

    script = README.parent / "scripts" / "package_graph.py"
    table = subprocess.run([sys.executable, str(script), "--markdown"], capture_output=True, text=True,
                           check=True).stdout
    assert "| `services` |" in table
    assert table in README.read_text(), "update the README's table: python3 scripts/package_graph.py --markdown"
