"""Data sources: add (tested on add), test and remove; passwords are never rendered."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlencode

from fastapi import Form, Request
from fastapi.responses import RedirectResponse, Response

from softquery.auth.policy import Action
from softquery.errors import SoftqueryError
from softquery.http.route_policies import allow
from softquery.services import sources as sources_svc
from softquery.web.deps import ctx_of, page_router
from softquery.web.forms import FIELD_ALIASES
from softquery.web.plain_words import plain
from softquery.web.templating import render

router = page_router()


def _page(request: Request, *, status_code: int = 200, **extra: object) -> Response:
    ctx = ctx_of(request)
    return render(request, "sources.html", {
        "nav": "sources", "sources": sources_svc.list_sources(ctx), "examples": sources_svc.URL_EXAMPLES,
        "notice": request.query_params.get("notice"), "notice_name": request.query_params.get("name"),
        "errors": {}, "name": "", "url": "", "remove_error": _refused(request), **extra,
    }, status_code=status_code)


def _refused(request: Request) -> dict[str, str] | None:
    """The refused Remove the redirect after it names (``?remove_refused=NAME&models=a,b``)."""
    name = request.query_params.get("remove_refused")
    models = [m for m in request.query_params.get("models", "").split(",") if m]
    if not name or not models:
        return None
    return {"name": name, "message": f"Data source {name!r} is used by model(s) {', '.join(models)}; "
                                    "delete or move them first."}


@router.get("/sources", dependencies=[allow(Action.READ)])
def sources_page(request: Request) -> Response:
    return _page(request)


@router.post("/sources", dependencies=[allow(Action.MANAGE_SOURCES)])
def add_source(request: Request, name: Annotated[str, Form()] = "", url: Annotated[str, Form()] = "",
               skip_test: Annotated[str, Form()] = "") -> Response:
    try:
        sources_svc.add_source(ctx_of(request), name.strip(), url.strip(), test=not skip_test)
    except SoftqueryError as exc:
        field = FIELD_ALIASES.get(str(exc.details.get("field", "")), "")
        target = "name" if field == "source" or exc.code == "already_exists" else "url"
        # A URL with a password is not sent back to the browser; one without is kept.
        keep = not sources_svc.has_password(url.strip())
        return _page(request, errors={target: plain(exc.message)}, name=name,
                     url=url if keep else "", url_dropped=bool(url.strip()) and not keep)
    return RedirectResponse(f"/sources?notice=added&name={name.strip()}", status_code=303)


@router.post("/sources/{name}/test", dependencies=[allow(Action.MANAGE_SOURCES)])
def test_source(request: Request, name: str) -> Response:
    try:
        source = sources_svc.test_source(ctx_of(request), name)
    except SoftqueryError as exc:
        return render(request, "partials/source_test.html", {"name": name, "ok": False,
                                                              "message": plain(exc.message)})
    return render(request, "partials/source_test.html", {"name": name, "ok": True,
                                                          "message": f"Connected to {source.dialect}."})


@router.post("/sources/{name}/remove", dependencies=[allow(Action.MANAGE_SOURCES)])
def remove_source(request: Request, name: str) -> Response:
    try:
        sources_svc.remove_source(ctx_of(request), name)
    except SoftqueryError as exc:
        if exc.code != "conflict":
            return _page(request, remove_error={"name": name, "message": plain(exc.message)})
        # Redirect after the POST (a reload does not send it again); the page names the models.
        models = exc.details.get("models")
        query = urlencode({"remove_refused": name,
                           "models": ",".join(str(m) for m in models) if isinstance(models, list) else ""})
        return RedirectResponse(f"/sources?{query}", status_code=303)
    return RedirectResponse(f"/sources?notice=removed&name={name}", status_code=303)
