"""Run the real `softquery` command in-process against a temporary home."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from softquery.cli.exit_codes import run_with_error_handling
from softquery.cli.main import cli


@dataclass
class Result:
    code: int
    out: str
    err: str

    def json(self) -> Any:
        return json.loads(self.out)


class SoftqueryCLI:
    def __init__(self, capsys: pytest.CaptureFixture[str], home: Path):
        self.capsys = capsys
        self.home = home

    def __call__(self, *args: str, ok: bool = True) -> Result:
        self.capsys.readouterr()
        code = run_with_error_handling(cli, list(args))
        captured = self.capsys.readouterr()
        result = Result(code, captured.out, captured.err)
        if ok and code != 0:
            raise AssertionError(f"softquery {' '.join(args)} exited {code}:\n{result.out}\n{result.err}")
        return result
