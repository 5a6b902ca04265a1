"""FastAPI app factory (no module-level app: each entry point builds its own)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import Depends, FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse, JSONResponse

from softquery import __version__
from softquery.api.body_limit import BodyLimitMiddleware
from softquery.api.errors import install_error_handlers
from softquery.api.openapi import install_openapi
from softquery.api.routers import api_router, health, mlsql
from softquery.api.security import allow, require_access
from softquery.auth.policy import Action
from softquery.jobs.executor import Executor
from softquery.services.context import ServiceContext
from softquery.services.online import OnlinePredictor
from softquery.web import mount_web

SWAGGER_JS = "/static/vendor/swagger-ui/swagger-ui-bundle.js"
SWAGGER_CSS = "/static/vendor/swagger-ui/swagger-ui.css"
FAVICON = "/static/favicon.svg"


def create_app(ctx: ServiceContext, executor: Executor | None,
               serving: OnlinePredictor | None = None) -> FastAPI:
    """``serving``: online prediction (version cache + serving workers); one is made from
    ``ctx.settings`` when not given. The app stops its serving workers when it shuts down."""
    online = serving or OnlinePredictor(ctx)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        online.start()
        try:
            yield
        finally:
            await online.aclose()

    # The default /docs loads Swagger UI from a CDN; ours uses the copies served under /static.
    # /openapi.json and /docs are ours (below): behind login like everything else.
    app = FastAPI(title="softquery", version=__version__, docs_url=None, redoc_url=None, openapi_url=None,
                  description="Train, run and serve machine-learning models from SQL queries.",
                  lifespan=lifespan)
    app.state.ctx = ctx
    app.state.executor = executor
    app.state.online = online
    install_error_handlers(app)
    app.add_middleware(BodyLimitMiddleware, max_body_bytes=ctx.settings.max_body_bytes,
                       serving_max_body_bytes=ctx.settings.serving_max_body_bytes)
    app.include_router(health.router)
    app.include_router(api_router())
    # MLSQL's client posts to /model/predict (outside /api/v1); it runs models, so the
    # same access dependency as every /api/v1 route guards it.
    app.include_router(mlsql.router, dependencies=[Depends(require_access)])

    @app.get("/openapi.json", include_in_schema=False, dependencies=[allow(Action.READ)])
    def openapi() -> JSONResponse:
        return JSONResponse(app.openapi())

    @app.get("/docs", include_in_schema=False, response_class=HTMLResponse, dependencies=[allow(Action.READ)])
    def docs() -> HTMLResponse:
        return get_swagger_ui_html(openapi_url="/openapi.json",
                                   title="softquery API", swagger_js_url=SWAGGER_JS,
                                   swagger_css_url=SWAGGER_CSS, swagger_favicon_url=FAVICON)

    install_openapi(app)  # bearer security scheme and the error envelope in the document
    mount_web(app)  # /static (Swagger UI, favicon, page assets) and the HTML pages
    return app
