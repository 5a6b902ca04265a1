"""SQL statements: POST /sql runs a script; GET /sql/history (the caller's own), GET /sql/completions.

The route's own decision is READ (a viewer may SELECT); each statement is then decided by
the services with the same policy as its REST equivalent (``Session.require``): a viewer's
CREATE MODEL is refused there, with nothing created.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse

from softquery.api.deps import Ctx
from softquery.api.schemas.sql import CompletionsPublic, SqlAnswer, SqlHistoryPublic, SqlRequest
from softquery.auth.policy import Action
from softquery.errors import SoftqueryError
from softquery.http.route_policies import allow
from softquery.services import sql_completions, sql_history
from softquery.services.sql_requests import run_statements

router = APIRouter(tags=["sql"])

FAILED = ("A statement failed and the script stopped there. The body is the error envelope "
          "(`error`: code, message, details with the statement's `line`, `column` and `excerpt`) plus what the "
          "statements before it did: `results` (as in 200), `failed_statement` (1-based) and `seconds`. "
          "The status is the failing statement's: 403 a statement the caller's role may not run (nothing of "
          "it was done), 404 a missing model, table or source, 409 a conflict, 422 a query the database "
          "refused, bad data or a bad option. The statements before it stay done.")


@router.post("/sql", response_model=SqlAnswer, dependencies=[allow(Action.READ)], responses={
    422: {"description": "The script does not parse, or names an unknown variable: nothing ran. `error.details` "
          "has `line`, `column`, `excerpt` (the line with a caret under the place) and, where a known name is "
          "close, `suggestion`. A failing statement whose error is a 422 answers as described for 400."},
    400: {"description": FAILED},
    403: {"description": "The token's scope may not read (a predict token), or the caller's role may not run a "
          "statement of the script: then the body is as described for 400 (what ran before it, nothing of it)."},
    404: {"description": "A statement names a model, table or source that does not exist; see 400 for the body."},
})
def run_sql(body: SqlRequest, ctx: Ctx) -> SqlAnswer | JSONResponse:
    """Run the statements in order, one result per statement: a table (typed columns, rows, `truncated`),
    a message, or a run (its id; with `wait`, its outcome). Every statement that changes something is
    audited with its text; the script is kept in the caller's history."""
    script = run_statements(ctx, body.sql, source=body.source, params=body.params, wait=body.wait)
    answer = SqlAnswer.of(script)
    if script.error is None:
        return answer
    return JSONResponse(answer.model_dump(mode="json"), status_code=status_of(str(script.error.get("code"))))


def status_of(code: str) -> int:
    """The HTTP status of an error code: the ``http_status`` of the error class with that code
    (the one mapping the error envelope uses), 422 for a code no class has."""
    pending: list[type[SoftqueryError]] = [SoftqueryError]
    while pending:
        cls = pending.pop()
        if cls.code == code:
            return cls.http_status
        pending.extend(cls.__subclasses__())
    return 422


@router.get("/sql/history", response_model=list[SqlHistoryPublic], dependencies=[allow(Action.READ)])
def history(ctx: Ctx, limit: Annotated[int, Query(ge=1, le=sql_history.MAX_HISTORY)] = 50) -> list[SqlHistoryPublic]:
    """The caller's own scripts, newest first (never another user's, whatever the role)."""
    return [SqlHistoryPublic.of(e) for e in sql_history.my_history(ctx, limit)]


@router.get("/sql/completions", response_model=CompletionsPublic, dependencies=[allow(Action.READ)])
def completions(ctx: Ctx, source: Annotated[str | None, Query(max_length=63)] = None) -> CompletionsPublic:
    """What the SQL console completes: the source's tables and columns, the models, the ML functions."""
    return CompletionsPublic.of(sql_completions.completions(ctx, source))
