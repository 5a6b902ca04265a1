"""The server's app: the shared HTTP layer with the REST API and the web pages mounted on it.

The one place that knows all three (``softquery.http`` imports neither the API nor the
pages, and they never import each other); ``softquery serve`` and the tests build their
app here.
"""

from __future__ import annotations

from fastapi import FastAPI

from softquery.api.mount import mount_api
from softquery.http import app as http_app
from softquery.jobs.executor import Executor
from softquery.services.context import ServiceContext
from softquery.services.online import OnlinePredictor
from softquery.web import mount_web
from softquery.web.error_pages import error_page


def create_app(ctx: ServiceContext, executor: Executor | None,
               serving: OnlinePredictor | None = None) -> FastAPI:
    """``serving``: online prediction (version cache + serving workers); one is made from
    ``ctx.settings`` when not given. The app stops its serving workers when it shuts down."""
    # the API first, then /static (Swagger UI, favicon, page assets) and the HTML pages
    return http_app.create_app(ctx, executor, serving, mounts=(mount_api, mount_web), page_error=error_page)


def missing_browser_files() -> list[str]:
    """The /static/vendor/ files the pages and the API's /docs load that this installation
    lacks (built by scripts/build-assets.sh; every wheel carries them)."""
    from softquery.api.mount import SWAGGER_CSS, SWAGGER_JS
    from softquery.web.browser_assets import missing_vendor_files

    return missing_vendor_files(also=(SWAGGER_JS, SWAGGER_CSS))
