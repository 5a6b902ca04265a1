"""The browser libraries the pages load from /static/vendor/ (htmx, CodeMirror, Chart.js), built
by scripts/build-assets.sh from npm and carried by every wheel (setup.py): which files the
templates reference, and which of them this installation lacks."""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path

from softquery.web import STATIC_DIR
from softquery.web.templating import TEMPLATE_DIR

VENDOR_URL = re.compile(r"/static/vendor/[A-Za-z0-9_./-]+[A-Za-z0-9_]")


def referenced_vendor_files(template_dir: Path = TEMPLATE_DIR) -> list[str]:
    """Every ``/static/vendor/…`` URL a page template loads, sorted."""
    found: set[str] = set()
    for template in template_dir.rglob("*.html"):
        found.update(VENDOR_URL.findall(template.read_text(encoding="utf-8")))
    return sorted(found)


def missing_vendor_files(also: Iterable[str] = (), static_dir: Path = STATIC_DIR,
                         template_dir: Path = TEMPLATE_DIR) -> list[str]:
    """The ``/static/vendor/…`` URLs the templates (and ``also``) load that have no file here."""
    wanted = sorted({*referenced_vendor_files(template_dir), *also})
    return [url for url in wanted if not (static_dir / url.removeprefix("/static/")).is_file()]
