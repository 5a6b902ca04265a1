"""The SQL console: statements typed in CodeMirror run through POST /api/v1/sql (the page's
script calls the API with the session cookie and its CSRF token); completion, history and
result links come from the API too. The page itself only picks the default source and the
examples of its empty state."""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import Response

from softquery.auth.policy import Action
from softquery.http.route_policies import allow
from softquery.services import models as models_svc
from softquery.services import sources as sources_svc
from softquery.services.demo import DEMO_SOURCE
from softquery.web.deps import ctx_of, page_router
from softquery.web.templating import render

router = page_router()

DEMO_EXAMPLES = (
    "select id, price, quality from houses order by price desc limit 10",
    "select species, count(*) as flowers, avg(petal_length_cm) as petal_length from iris group by species",
)
MODEL_EXAMPLE = ("select * from ML.PREDICT(MODEL {model},\n  (select id, price from houses where quality is null))\n"
                 "order by predicted_quality desc limit 10")


@router.get("/sql", dependencies=[allow(Action.READ)])
def console_page(request: Request, source: str = "") -> Response:
    ctx = ctx_of(request)
    sources = sources_svc.list_sources(ctx)
    names = [s.name for s in sources]
    chosen = source if source in names else (DEMO_SOURCE if DEMO_SOURCE in names else (names[0] if names else ""))
    examples: list[str] = []
    if chosen == DEMO_SOURCE:
        examples = list(DEMO_EXAMPLES)
        if any(m.name == "house_quality" and m.active_version for m in models_svc.list_models(ctx)):
            examples.append(MODEL_EXAMPLE.format(model="house_quality"))
    else:
        examples = ["select 1 as one"]
    return render(request, "sql_console.html", {"nav": "sql", "sources": sources, "source": chosen,
                                                "examples": examples})
