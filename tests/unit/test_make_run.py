"""`make run` says what it is doing before each quiet step (pip and npm print nothing for
minutes the first time), read from `make -n -B run`: the commands make would run, in order."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def planned() -> list[str]:
    # Run as a make of its own even under `make test` (no "make[1]: Entering directory" lines).
    env = {k: v for k, v in os.environ.items() if k not in ("MAKELEVEL", "MAKEFLAGS", "MFLAGS")}
    done = subprocess.run(["make", "--no-print-directory", "-n", "-B", "run"], cwd=ROOT, capture_output=True,
                          text=True, timeout=60, check=True, env=env)
    return done.stdout.splitlines()


def said_before(lines: list[str], command: str, *words: str) -> None:
    """The line just before the first line running ``command`` is an echo naming ``words``."""
    at = next(i for i, line in enumerate(lines) if command in line and not line.startswith("echo"))
    before = lines[at - 1] if at else ""
    assert before.startswith("echo "), f"nothing is said before `{lines[at]}`:\n" + "\n".join(lines)
    for word in words:
        assert word in before, f"{before!r} does not mention {word!r}"


def test_make_run_says_what_it_does_before_each_quiet_step() -> None:
    lines = planned()
    said_before(lines, "scripts/build-assets.sh", "npm", "browser libraries")
    said_before(lines, "pip install --quiet --upgrade pip", "pip", "minutes")
    said_before(lines, "softquery init", "home", "demo")
    said_before(lines, "softquery serve", "server")
    assert lines[0].startswith("echo ") and "first time takes a few minutes" in lines[0]
