"""CLI tables never cut what a user copies (template and model names, token prefixes, URLs):
piped or redirected output has every value whole, and a narrow terminal wraps, never "…"."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from rich.console import Console
from tests.integration.cli.cli_harness import SoftqueryCLI

ROOT = Path(__file__).resolve().parents[3]
LONG_MODEL = "quarterly_customer_lifetime_value_by_region_and_channel_v2"  # 58 characters


def softquery_piped(*args: str) -> str:
    """Run the real command with its stdout a pipe, in a 40-column "terminal" setting."""
    done = subprocess.run([sys.executable, "-m", "softquery.cli.main", *args], capture_output=True, text=True,
                          timeout=60, cwd=ROOT, env={**os.environ, "COLUMNS": "40"}, check=True)
    return done.stdout


def test_piped_templates_list_every_name_whole() -> None:
    names = [t["name"] for t in json.loads(softquery_piped("templates", "--json"))]
    assert "hist_gradient_boosting_classifier" in names
    lines = softquery_piped("templates").splitlines()
    assert lines[0].split()[:3] == ["name", "task", "title"]
    assert [line.split()[0] for line in lines[1:]] == names  # `| awk '{print $1}'` gives the names
    assert "…" not in "\n".join(lines)


def test_redirected_model_source_and_token_lists_keep_long_values(sq: SoftqueryCLI, tmp_path: Path) -> None:
    sq("demo")
    sq("model", "duplicate", "house_quality", LONG_MODEL)
    url = f"sqlite:///{tmp_path}/a/rather/deep/folder/for/the/warehouse/files/of/this/team/warehouse.db"
    sq("source", "add", "warehouse_of_the_analytics_team", url, "--no-test")
    sq("token", "create", "--user", "admin", "--name", "a token for the nightly export job")
    models = sq("model", "list").out
    assert f"\n{LONG_MODEL} " in models and f"{LONG_MODEL}_prediction" in models
    sources = sq("source", "list").out
    assert "warehouse_of_the_analytics_team" in sources and url in sources
    prefix = sq("token", "list", "--json").json()[0]["prefix"]
    tokens = sq("token", "list").out
    assert prefix in tokens and "a token for the nightly export job" in tokens
    assert "…" not in models + sources + tokens


def test_a_narrow_terminal_wraps_long_names_instead_of_cutting_them(
        sq: SoftqueryCLI, monkeypatch: pytest.MonkeyPatch) -> None:
    screen = io.StringIO()
    terminal = Console(file=screen, force_terminal=True, width=40, highlight=False, soft_wrap=True,
                       color_system=None)
    monkeypatch.setattr("softquery.cli.printing.console", lambda: terminal)
    sq("templates")
    shown = screen.getvalue()
    assert "…" not in shown and "┃ name" in shown  # a table, as before, for a terminal
    # the first column's cells, top to bottom, joined: a wrapped name reads whole
    first_column = "".join(line.split("│")[1].strip() for line in shown.splitlines() if line.startswith("│"))
    assert "hist_gradient_boosting_classifier" in first_column
