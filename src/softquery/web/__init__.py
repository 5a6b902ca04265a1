"""Server-rendered pages (Jinja2 + htmx) over the service layer, and their static files.

``mount_web(app)`` adds the pages and ``/static`` to an app built by
``softquery.http.app.create_app`` (``softquery.server`` does); page routes never run SQL, file I/O or
training themselves: they call ``softquery.services``.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

STATIC_DIR = Path(__file__).with_name("static")


def mount_web(app: FastAPI) -> None:
    """Mount ``/static`` and every page router on ``app`` (unknown pages get an HTML 404)."""
    from softquery.web.error_pages import install_page_method_not_allowed, install_page_not_found
    from softquery.web.routes import (
        account,
        admin,
        copy_and_delete,
        editor,
        files_page,
        login,
        model_list,
        model_page,
        runs,
        sources,
        sql_console,
    )

    app.mount("/static", StaticFiles(directory=STATIC_DIR, check_dir=False), name="static")
    app.include_router(login.router)
    app.include_router(login.logout_router)
    for module in (model_list, editor, copy_and_delete, model_page, runs, sources, sql_console, files_page,
                   account, admin):
        app.include_router(module.router)
    from softquery.web.routes import version_page
    app.include_router(version_page.router)
    install_page_not_found(app)
    install_page_method_not_allowed(app)
