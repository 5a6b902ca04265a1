"""One script a user ran in the SQL console or over POST /api/v1/sql (their own history)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class SqlHistoryEntry:
    id: int
    user_id: int
    at: datetime
    source: str | None
    sql: str
    statements: int  # statements that ran (the failing one included)
    error: str | None  # the error's message when a statement failed or the script did not parse
    seconds: float
