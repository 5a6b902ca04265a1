"""What the models page shows above and in its table: the filters as chosen, links that
change one of them (sort by a column, another page, the other view), and one table row
per model with its active version's key metric."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

from softquery.domain import Model, Run
from softquery.services import model_catalog as catalog
from softquery.services.context import ServiceContext
from softquery.services.schedules import next_fire_time
from softquery.web.summaries import active_version, key_metric_of

VIEW_COOKIE = "softquery_models_view"
VIEWS = ("cards", "table")
SORT_LABELS = {"name": "Name", "owner": "Owner", "status": "Status", "last_run": "Last run"}


def view_of(asked: str, remembered: str | None) -> str:
    """The view asked for in the URL, else the one this browser used last, else cards."""
    for choice in (asked, remembered):
        if choice in VIEWS:
            return choice
    return "cards"


@dataclass
class TableRow:
    model: Model
    status: str
    run: Run | None  # the run the status comes from
    last_run: Run | None
    version: int | None
    key_metric: tuple[str, Any] | None
    next_run_at: datetime | None


def table_rows(ctx: ServiceContext, rows: list[catalog.ModelRow]) -> list[TableRow]:
    """One page of rows, with each active version's key metric (one lookup per row shown)."""
    found = []
    for row in rows:
        version = active_version(ctx, row.model)
        found.append(TableRow(model=row.model, status=row.status, run=row.run, last_run=row.last_run,
                              version=version.version if version else None, key_metric=key_metric_of(version),
                              next_run_at=next_fire_time(row.model)))
    return found


def _params(query: catalog.ModelQuery, view: str) -> dict[str, str]:
    params = {"q": query.search, "owner": query.owner, "status": query.status, "schedule": query.schedule,
              "sort": query.sort if query.sort != "name" else "", "order": "desc" if query.descending else "",
              "view": view, "page": str(query.page) if query.page > 1 else ""}
    return {k: v for k, v in params.items() if v}


def _url(params: dict[str, str], **changes: str) -> str:
    merged = {k: v for k, v in {**params, **changes}.items() if v}
    return "/?" + urlencode(merged) if merged else "/"


def list_context(query: catalog.ModelQuery, listing: catalog.ModelListing, view: str) -> dict[str, Any]:
    """Everything models.html needs to draw the tools above the list and its pager."""
    params = _params(query, view)
    sort_links = {}
    for key in SORT_LABELS:
        flip = "" if (query.sort == key and query.descending) or query.sort != key else "desc"
        sort_links[key] = _url(params, sort=key if key != "name" else "", order=flip, page="")
    filtered = bool(query.search or query.owner or query.status or query.schedule)
    return {
        "query": query, "listing": listing, "view": view, "filtered": filtered,
        "statuses": catalog.STATUSES, "schedules": catalog.SCHEDULES, "sort_labels": SORT_LABELS,
        "no_owner": catalog.NO_OWNER, "sort_links": sort_links,
        "view_links": {v: _url(params, view=v) for v in VIEWS},
        "clear_link": _url({"view": view}),
        "prev_link": _url(params, page=str(listing.page - 1) if listing.page > 2 else "")
        if listing.page > 1 else None,
        "next_link": _url(params, page=str(listing.page + 1)) if listing.page < listing.pages else None,
    }
