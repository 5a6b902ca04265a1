"""The REST API's part of the app: health, every /api/v1 router, MLSQL's /model/predict,
and the OpenAPI document with its Swagger UI (mounted by ``softquery.server``)."""

from __future__ import annotations

from fastapi import Depends, FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse, JSONResponse

from softquery.api.openapi import install_openapi
from softquery.api.routers import api_router, health, mlsql
from softquery.auth.policy import Action
from softquery.http.authentication import require_access
from softquery.http.route_policies import allow

SWAGGER_JS = "/static/vendor/swagger-ui/swagger-ui-bundle.js"
SWAGGER_CSS = "/static/vendor/swagger-ui/swagger-ui.css"
FAVICON = "/static/favicon.svg"


def mount_api(app: FastAPI) -> None:
    """Add the API's routes to ``app`` (built by ``softquery.http.app.create_app``)."""
    app.include_router(health.router)
    app.include_router(api_router())
    # MLSQL's client posts to /model/predict (outside /api/v1); it runs models, so the
    # same access dependency as every /api/v1 route guards it.
    app.include_router(mlsql.router, dependencies=[Depends(require_access)])

    # /openapi.json and /docs (Swagger UI from the copies served under /static): behind login
    # like everything else.
    @app.get("/openapi.json", include_in_schema=False, dependencies=[allow(Action.READ)])
    def openapi() -> JSONResponse:
        return JSONResponse(app.openapi())

    @app.get("/docs", include_in_schema=False, response_class=HTMLResponse, dependencies=[allow(Action.READ)])
    def docs() -> HTMLResponse:
        return get_swagger_ui_html(openapi_url="/openapi.json",
                                   title="softquery API", swagger_js_url=SWAGGER_JS,
                                   swagger_css_url=SWAGGER_CSS, swagger_favicon_url=FAVICON)

    install_openapi(app)  # bearer security scheme and the error envelope in the document
