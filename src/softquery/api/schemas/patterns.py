"""Patterns the OpenAPI document states for names (so clients and fuzzers send valid ones).

They are documentation only (``json_schema_extra``): the services check the values and
answer with messages that say what to do instead of quoting a regular expression.
"""

from __future__ import annotations

from typing import Any

from pydantic.config import JsonDict

from softquery.identifiers import IDENTIFIER_RE
from softquery.services.accounts import USERNAME

IDENTIFIER_PATTERN = f"^{IDENTIFIER_RE.pattern}$"  # model, source, table and column names
USERNAME_PATTERN = USERNAME.pattern


def documented(pattern: str, **more: Any) -> JsonDict:
    """``Field(json_schema_extra=documented(IDENTIFIER_PATTERN))``."""
    return {"pattern": pattern, **more}
