"""Fixtures for end-to-end engine tests through the CLI."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.integration.cli.cli_harness import SoftqueryCLI


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "home"
    monkeypatch.setenv("SOFTQUERY_HOME", str(path))
    monkeypatch.delenv("SOFTQUERY_DATABASE_URL", raising=False)
    monkeypatch.delenv("SOFTQUERY_SECRET_KEY", raising=False)
    return path


@pytest.fixture
def sq(home: Path, capsys: pytest.CaptureFixture[str]) -> SoftqueryCLI:
    """The CLI on an initialised home."""
    cli = SoftqueryCLI(capsys, home)
    cli("init")
    return cli
