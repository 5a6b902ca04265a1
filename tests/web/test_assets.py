"""Browser libraries are served from this server (built by scripts/build-assets.sh), nothing external."""

from __future__ import annotations

import re
from pathlib import Path

from fastapi.testclient import TestClient

import softquery.web
from softquery.services.context import ServiceContext

STATIC = Path(softquery.web.__file__).with_name("static")
TEMPLATES = Path(softquery.web.__file__).with_name("templates")
VENDOR_FILES = [
    "htmx/htmx.min.js", "chartjs/chart.umd.js", "codemirror/lib/codemirror.js", "codemirror/lib/codemirror.css",
    "codemirror/mode/python/python.js", "codemirror/mode/sql/sql.js", "codemirror/addon/lint/lint.js",
    "codemirror/addon/lint/lint.css", "codemirror/addon/display/placeholder.js",
    "swagger-ui/swagger-ui-bundle.js", "swagger-ui/swagger-ui.css",
]
EXTERNAL = re.compile(r"""https?://(?!testserver[/:"'\s])[^\s"'<>)]+""")


def test_vendor_files_are_served(empty_client: TestClient) -> None:
    missing = [f for f in VENDOR_FILES if not (STATIC / "vendor" / f).is_file()]
    assert not missing, f"run `bash scripts/build-assets.sh` (or `make install`); missing: {missing}"
    for name in VENDOR_FILES:
        response = empty_client.get(f"/static/vendor/{name}")
        assert response.status_code == 200 and len(response.content) > 1000, name
    assert "htmx" in empty_client.get("/static/vendor/htmx/htmx.min.js").text
    for own in ("app.css", "app.js", "editor.js", "charts.js", "favicon.svg"):
        assert empty_client.get(f"/static/{own}").status_code == 200, own


def test_every_referenced_static_file_exists(empty_client: TestClient) -> None:
    for template in TEMPLATES.rglob("*.html"):
        for path in re.findall(r'(?:src|href)="(/static/[^"]+)"', template.read_text()):
            assert empty_client.get(path).status_code == 200, (template.name, path)


def test_no_external_urls_in_our_files() -> None:
    for path in [*STATIC.glob("*.*"), *TEMPLATES.rglob("*.html")]:
        text = path.read_text()
        assert not EXTERNAL.findall(text.replace("http://www.w3.org/2000/svg", "")), path.name


def test_no_external_urls_in_rendered_pages(trained_client: TestClient, trained_ctx: ServiceContext) -> None:
    run = trained_ctx.runs.list("house_quality", None, 1)[0]
    for path in ("/", "/new", "/runs", "/sources", "/models/house_quality", "/models/iris_species",
                 "/models/house_quality/edit", f"/runs/{run.id}", "/nope"):
        html = trained_client.get(path).text
        assert not EXTERNAL.findall(html), (path, EXTERNAL.findall(html)[:3])
