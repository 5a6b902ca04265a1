"""Numbers as pages show them: rounded for reading (the exact value stays in a title or the API)."""

from __future__ import annotations

import math
from typing import Any

SIGNIFICANT_DIGITS = 3  # how precisely a page shows a measured number (metrics, timings)


def fmt_number(value: Any) -> str:
    """A number as a person reads it: 0.967, 12.3, 4,512 (never 4.512e+03)."""
    if isinstance(value, bool) or value is None:
        return "—" if value is None else str(value)
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        if not math.isfinite(value) or value == 0:
            return {0.0: "0", math.inf: "∞", -math.inf: "−∞"}.get(value, "—")
        size = abs(value)
        if size >= 10 ** SIGNIFICANT_DIGITS:
            return f"{value:,.0f}"
        decimals = min(SIGNIFICANT_DIGITS - 1 - math.floor(math.log10(size)), 12)
        text = f"{value:.{decimals}f}"
        return text.rstrip("0").rstrip(".") if "." in text else text
    return str(value)


def fmt_bytes(size: int | None) -> str:
    if size is None:
        return "—"
    for unit, scale in (("GB", 1 << 30), ("MB", 1 << 20), ("KB", 1 << 10)):
        if size >= scale:
            return f"{fmt_number(size / scale)} {unit}"
    return f"{size} bytes"
