"""FastAPI app factory (no module-level app: each entry point builds its own)."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse

from softquery import __version__
from softquery.api.errors import install_error_handlers
from softquery.api.routers import api_router, health
from softquery.jobs.executor import Executor
from softquery.services.context import ServiceContext
from softquery.web import mount_web

SWAGGER_JS = "/static/vendor/swagger-ui/swagger-ui-bundle.js"
SWAGGER_CSS = "/static/vendor/swagger-ui/swagger-ui.css"
FAVICON = "/static/favicon.svg"


def create_app(ctx: ServiceContext, executor: Executor | None) -> FastAPI:
    # The default /docs loads Swagger UI from a CDN; ours uses the copies served under /static.
    app = FastAPI(title="softquery", version=__version__, docs_url=None, redoc_url=None,
                  description="Train, run and serve machine-learning models from SQL queries.")
    app.state.ctx = ctx
    app.state.executor = executor
    install_error_handlers(app)
    app.include_router(health.router)
    app.include_router(api_router())

    @app.get("/docs", include_in_schema=False, response_class=HTMLResponse)
    def docs() -> HTMLResponse:
        return get_swagger_ui_html(openapi_url=app.openapi_url or "/openapi.json",
                                   title="softquery API", swagger_js_url=SWAGGER_JS,
                                   swagger_css_url=SWAGGER_CSS, swagger_favicon_url=FAVICON)

    mount_web(app)  # /static (Swagger UI, favicon, page assets) and the HTML pages
    return app
