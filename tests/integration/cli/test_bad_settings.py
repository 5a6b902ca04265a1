"""A bad SOFTQUERY_* variable (REVIEW_19 #1): the real `softquery` command, any command
(`serve` too), says in one line per variable what it accepts and exits 2, no traceback."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]


def softquery(home: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("SOFTQUERY_")}
    return subprocess.run([sys.executable, "-m", "softquery.cli.main", *args], capture_output=True, text=True,
                          timeout=120, cwd=ROOT, env={**clean, **env, "SOFTQUERY_HOME": str(home)})


def test_a_bound_and_a_type_each_get_one_line_and_exit_2(tmp_path: Path) -> None:
    done = softquery(tmp_path / "home", "versions", "house_quality",
                     SOFTQUERY_CV_FOLDS="25", SOFTQUERY_TOKEN_DAYS="abc")
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr and "pydantic" not in done.stderr, done.stderr
    lines = done.stderr.strip().splitlines()
    assert sorted(lines) == [
        "Error (invalid_setting): SOFTQUERY_CV_FOLDS must be a whole number from 0 to 20; it is 25.",
        "Error (invalid_setting): SOFTQUERY_TOKEN_DAYS must be a whole number from 1 to 3660; it is abc.",
    ], done.stderr
    assert done.stdout == ""


def test_serve_says_the_same_and_does_not_start(tmp_path: Path) -> None:
    done = softquery(tmp_path / "home", "serve", "--port", "0", SOFTQUERY_CV_FOLDS="-1")
    assert done.returncode == 2, done.stderr
    assert done.stderr.strip() == (
        "Error (invalid_setting): SOFTQUERY_CV_FOLDS must be a whole number from 0 to 20; it is -1.")
