"""The app factory the API and the pages are mounted on (no module-level app: each entry
point builds its own).

It builds what both share: the service context and executor on ``app.state``, online
prediction (started and stopped with the app), the JSON error envelope and the body-size
limit. The parts themselves (``softquery.api.mount.mount_api``, ``softquery.web.mount_web``)
are given by the caller, so this layer imports neither; ``softquery.server`` puts them together.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager

from fastapi import FastAPI

from softquery import __version__
from softquery.http.body_limit import BodyLimitMiddleware, PageError
from softquery.http.error_envelope import install_error_handlers
from softquery.jobs.executor import Executor
from softquery.services.context import ServiceContext
from softquery.services.files import MAX_UPLOAD_BYTES
from softquery.services.online import OnlinePredictor

Mount = Callable[[FastAPI], None]


def create_app(ctx: ServiceContext, executor: Executor | None, serving: OnlinePredictor | None = None, *,
               mounts: Sequence[Mount] = (), page_error: PageError | None = None) -> FastAPI:
    """``serving``: online prediction (version cache + serving workers); one is made from
    ``ctx.settings`` when not given. The app stops its serving workers when it shuts down.
    ``mounts`` add routes to the app, in order; ``page_error`` renders a refused body on a
    page (the API's paths always get the JSON envelope)."""
    online = serving or OnlinePredictor(ctx)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        online.start()
        try:
            yield
        finally:
            await online.aclose()

    # The default /docs loads Swagger UI from a CDN; the API mounts its own (behind login).
    app = FastAPI(title="softquery", version=__version__, docs_url=None, redoc_url=None, openapi_url=None,
                  description="Train, run and serve machine-learning models from SQL queries.",
                  lifespan=lifespan)
    app.state.ctx = ctx
    app.state.executor = executor
    app.state.online = online
    install_error_handlers(app)
    app.add_middleware(BodyLimitMiddleware, max_body_bytes=ctx.settings.max_body_bytes,
                       serving_max_body_bytes=ctx.settings.serving_max_body_bytes, page_error=page_error,
                       upload_max_body_bytes=MAX_UPLOAD_BYTES)
    for mount in mounts:
        mount(app)
    return app
