"""Finding models in a long list: search, filters (owner, status, schedule), sort and pages.

The web's models page asks this with the query parameters of its URL, so a list of
hundreds of models is filtered and sorted here, with one query for the models and one
for the newest run of each, and only one page of rows leaves it.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from softquery.domain import Model, Run, RunStatus
from softquery.errors import InvalidInputError
from softquery.services.context import ServiceContext

NO_OWNER = "(admins)"  # the owner filter's value for models nobody owns (made on the command line)
STATUSES = ("untrained", "ready", *(s.value for s in RunStatus))
SCHEDULES = ("scheduled", "unscheduled")
SORTS = ("name", "owner", "status", "last_run")
PER_PAGE = 50
# "status" sorts what needs a look first: failed, then what is going, then the rest
_STATUS_ORDER = {s: i for i, s in enumerate(("failed", "running", "queued", "cancelled", "succeeded",
                                              "ready", "untrained"))}


@dataclass(frozen=True)
class ModelQuery:
    """What a person asked the list for; "" means "any"."""

    search: str = ""  # part of the name or the description, any case
    owner: str = ""  # a username, or NO_OWNER
    status: str = ""  # one of STATUSES
    schedule: str = ""  # one of SCHEDULES
    sort: str = "name"  # one of SORTS
    descending: bool = False
    page: int = 1
    per_page: int = PER_PAGE

    def checked(self) -> ModelQuery:
        """Itself, or an InvalidInputError that names the choices of the value that is not one."""
        for what, value, choices in (("status", self.status, STATUSES), ("schedule", self.schedule, SCHEDULES),
                                     ("sort", self.sort, SORTS)):
            if value and value not in choices:
                raise InvalidInputError(f"{what.capitalize()} {value!r} is not one of: {', '.join(choices)}.",
                                        details={"field": what, "value": value})
        if self.page < 1 or self.per_page < 1:
            raise InvalidInputError("Pages are counted from 1.", details={"field": "page"})
        return self


@dataclass
class ModelRow:
    """One model as the list shows it: its status and the run that status comes from."""

    model: Model
    status: str
    run: Run | None  # the running run, else the queued one, else the newest (logs left out)
    last_run: Run | None  # the newest run (logs left out)


@dataclass
class ModelListing:
    rows: list[ModelRow]  # this page of the models that match
    total: int  # every model
    matched: int  # the models that match the query
    page: int
    pages: int
    owners: list[str]  # every owner of a model (NO_OWNER first when some model has none)


def status_of(model: Model, run: Run | None) -> str:
    if run is None:
        return "untrained" if model.active_version is None else "ready"
    return run.status.value


def _matches(query: ModelQuery, row: ModelRow) -> bool:
    model = row.model
    if query.search:
        needle = query.search.strip().casefold()
        if needle not in model.name.casefold() and needle not in (model.description or "").casefold():
            return False
    if query.owner and (model.owner or NO_OWNER) != query.owner:
        return False
    if query.status and row.status != query.status:
        return False
    if query.schedule:
        return bool(model.schedule) == (query.schedule == "scheduled")
    return True


def _sort_key(sort: str) -> Callable[[ModelRow], Any]:
    if sort == "owner":
        return lambda r: ((r.model.owner or NO_OWNER).casefold(), r.model.name)
    if sort == "status":
        return lambda r: (_STATUS_ORDER.get(r.status, 99), r.model.name)
    if sort == "last_run":
        never = datetime.min.replace(tzinfo=UTC)
        return lambda r: (r.last_run.created_at if r.last_run else never, r.model.name)
    return lambda r: r.model.name


def find_models(ctx: ServiceContext, query: ModelQuery) -> ModelListing:
    """The page ``query.page`` of the models that match ``query``, sorted as it asks."""
    query = query.checked()
    models = ctx.models.list()
    newest = ctx.runs.newest_per_model()
    going = ctx.runs.newest_per_model((RunStatus.RUNNING,))
    waiting = ctx.runs.newest_per_model((RunStatus.QUEUED,))
    rows = []
    for model in models:
        last = newest.get(model.name)
        run = going.get(model.name) or waiting.get(model.name) or last
        rows.append(ModelRow(model=model, status=status_of(model, run), run=run, last_run=last))
    matched = [r for r in rows if _matches(query, r)]
    matched.sort(key=_sort_key(query.sort), reverse=query.descending)
    pages = max(1, math.ceil(len(matched) / query.per_page))
    page = min(query.page, pages)
    start = (page - 1) * query.per_page
    owners = sorted({m.owner for m in models if m.owner}, key=str.casefold)
    if any(m.owner is None for m in models):
        owners.insert(0, NO_OWNER)
    return ModelListing(rows=matched[start:start + query.per_page], total=len(rows), matched=len(matched),
                        page=page, pages=pages, owners=owners)
