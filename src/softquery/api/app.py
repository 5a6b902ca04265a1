"""FastAPI app factory (no module-level app: each entry point builds its own)."""

from __future__ import annotations

from fastapi import FastAPI

from softquery import __version__
from softquery.api.errors import install_error_handlers
from softquery.api.routers import health, runs
from softquery.jobs.executor import Executor
from softquery.services.context import ServiceContext


def create_app(ctx: ServiceContext, executor: Executor | None) -> FastAPI:
    app = FastAPI(title="softquery", version=__version__,
                  description="Train, run and serve machine-learning models from SQL queries.")
    app.state.ctx = ctx
    app.state.executor = executor
    install_error_handlers(app)
    app.include_router(health.router)
    app.include_router(runs.router, prefix="/api/v1")
    return app
