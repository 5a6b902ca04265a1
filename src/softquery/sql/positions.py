"""Where a statement or error sits in a script: line, column, an excerpt with a caret."""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from dataclasses import dataclass

EXCERPT_WIDTH = 60


@dataclass(frozen=True)
class Position:
    offset: int  # 0-based character offset into the script
    line: int  # 1-based
    column: int  # 1-based


def locate(text: str, offset: int) -> Position:
    offset = max(0, min(offset, len(text)))
    line = text.count("\n", 0, offset) + 1
    start = text.rfind("\n", 0, offset) + 1
    return Position(offset, line, offset - start + 1)


def excerpt(text: str, offset: int) -> str:
    """The line around ``offset`` (cut to EXCERPT_WIDTH characters) and a caret under it."""
    offset = max(0, min(offset, len(text)))
    start = text.rfind("\n", 0, offset) + 1
    end = text.find("\n", offset)
    line = text[start:] if end < 0 else text[start:end]
    column = offset - start
    left = max(0, column - EXCERPT_WIDTH // 2)
    shown = line[left:left + EXCERPT_WIDTH]
    prefix = "…" if left > 0 else ""
    suffix = "…" if left + EXCERPT_WIDTH < len(line) else ""
    return f"{prefix}{shown}{suffix}\n{' ' * (len(prefix) + column - left)}^"


def nearest(name: str, known: Iterable[str]) -> str | None:
    """The known name closest to ``name`` (case-insensitive), or None when none is close."""
    names = {k.lower(): k for k in known }  # never the very name that was not found
    match = difflib.get_close_matches(name.lower(), list(names), n=1, cutoff=0.6)
    return names[match[0]] if match else None
