"""Find elements by data-testid in rendered HTML."""

from __future__ import annotations

import re


def element(html: str, name: str) -> str:
    """The opening tag and text after the first element with data-testid=name ('' when absent)."""
    match = re.search(rf'<[^>]*data-testid="{re.escape(name)}"[^>]*>(.*?)</', html, re.S)
    return match.group(0) if match else ""


def has_testid(html: str, name: str) -> bool:
    return f'data-testid="{name}"' in html
