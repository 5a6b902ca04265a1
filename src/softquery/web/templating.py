"""The Jinja2 environment of the pages and the filters that format values for people."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from softquery.services.cv_figures import mean_pm_std
from softquery.web import access, summaries
from softquery.web.number_format import fmt_bytes, fmt_number
from softquery.web.plain_words import plain, title_of
from softquery.web.version_view import key_cv

TEMPLATE_DIR = Path(__file__).with_name("templates")


def fmt_time(value: datetime | None) -> str:
    if value is None:
        return "—"
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def iso(value: datetime | None) -> str:
    if value is None:
        return ""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.isoformat()


def ago(value: datetime | None, now: datetime | None = None) -> str:
    """'3 min ago' / 'in 2 h' — short and relative, for lists."""
    if value is None:
        return "never"
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    seconds = ((now or datetime.now(UTC)) - value).total_seconds()
    future = seconds < 0
    seconds = abs(seconds)
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60)):
        if seconds >= size:
            text = f"{int(seconds // size)} {unit}"
            break
    else:
        text = f"{int(seconds)} s"
    return f"in {text}" if future else f"{text} ago"


def fmt_duration(seconds: float | None) -> str:
    if seconds is None:
        return "—"
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, rest = divmod(int(seconds), 60)
    if minutes < 60:
        return f"{minutes} min {rest} s"
    return f"{minutes // 60} h {minutes % 60} min"


def to_json(value: Any) -> str:
    """JSON for a <script type="application/json"> block (no `</` can close the tag)."""
    return json.dumps(value, default=str).replace("</", "<\\/")


@lru_cache(maxsize=1)
def templates() -> Jinja2Templates:
    tpl = Jinja2Templates(directory=str(TEMPLATE_DIR))
    tpl.env.filters.update(fmt_time=fmt_time, ago=ago, fmt_duration=fmt_duration,
                           fmt_number=fmt_number, iso=iso, to_json=to_json,
                           fmt_bytes=fmt_bytes, plain=plain, key_cv=key_cv)
    tpl.env.globals.update(mean_pm_std=mean_pm_std)  # "0.35 ± 0.07": both to the std's first digit
    tpl.env.globals.update(run_summary=summaries.run_summary, is_long=summaries.is_long,
                           preview_of=summaries.preview_of)
    tpl.env.globals.update(error_title=title_of)
    tpl.env.globals.update(can=access.can, csrf_field=access.csrf_field, role_rule=access.ROLE_RULE)
    tpl.env.globals["nav_items"] = [("models", "/", "Models"), ("runs", "/runs", "Runs"),
                                    ("sources", "/sources", "Sources"), ("sql", "/sql", "SQL"),
                                    ("files", "/files", "Files")]
    tpl.env.globals["admin_nav_items"] = [("users", "/admin/users", "Users"), ("audit", "/admin/audit", "Audit")]
    return tpl


def is_htmx(request: Request) -> bool:
    return request.headers.get("HX-Request") == "true"


def render(request: Request, name: str, context: dict[str, Any] | None = None, *,
           status_code: int = 200, headers: dict[str, str] | None = None) -> HTMLResponse:
    """Render a page; every template sees ``principal`` (None: not logged in) and ``csrf_token``."""
    principal = access.principal_of(request)
    full = {"principal": principal, "csrf_token": access.csrf_token_of(request),
            "is_admin": access.is_admin(principal), **(context or {})}
    return templates().TemplateResponse(request, name, full, status_code=status_code, headers=headers)
