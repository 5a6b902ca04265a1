"""A question before a form ends something must be one the browser asks: ``hx-confirm`` only
works on elements htmx sends itself; plain POST forms use ``data-confirm`` (static/app.js)."""

from __future__ import annotations

import re
from pathlib import Path

import softquery.web

TEMPLATES = Path(softquery.web.__file__).parent / "templates"
TAG = re.compile(r"<[a-zA-Z][^>]*>", re.S)


def test_every_hx_confirm_is_on_an_element_htmx_sends() -> None:
    for template in sorted(TEMPLATES.rglob("*.html")):
        for tag in TAG.findall(template.read_text()):
            if "hx-confirm=" in tag:
                assert re.search(r"\bhx-(post|get|put|patch|delete)=", tag), f"{template.name}: {tag[:120]}"
    plain = [t.name for t in TEMPLATES.rglob("*.html") if "data-confirm=" in t.read_text()]
    assert {"sources.html", "account.html", "admin_users.html"} <= set(plain), plain
