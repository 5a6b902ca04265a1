"""Every page renders: empty states on a fresh home, real content with the demo trained."""

from __future__ import annotations

from fastapi.testclient import TestClient
from tests.web.html import element, has_testid

from softquery.services.context import ServiceContext


def test_empty_home_pages_explain_what_to_do(empty_client: TestClient) -> None:
    home = empty_client.get("/")
    assert home.status_code == 200
    assert has_testid(home.text, "models-empty")
    assert has_testid(home.text, "load-demo") and 'action="/demo"' in home.text
    assert 'href="/new"' in home.text
    runs = empty_client.get("/runs")
    assert runs.status_code == 200 and has_testid(runs.text, "runs-empty")
    sources = empty_client.get("/sources")
    assert sources.status_code == 200 and has_testid(sources.text, "sources-empty")
    editor = empty_client.get("/new")
    assert editor.status_code == 200 and has_testid(editor.text, "model-form")
    assert "add one" in editor.text  # no sources yet: the editor says where to add one


def test_navigation_on_every_page(empty_client: TestClient) -> None:
    for path in ("/", "/models", "/runs", "/sources", "/new"):
        html = empty_client.get(path).text
        for item in ("nav-home", "nav-models", "nav-runs", "nav-sources", "nav-create"):
            assert has_testid(html, item), (path, item)


def test_load_the_demo_button(empty_client: TestClient, empty_ctx: ServiceContext) -> None:
    response = empty_client.post("/demo")
    assert response.status_code == 303
    page = empty_client.get(response.headers["location"])
    assert has_testid(page.text, "notice")
    assert page.text.count('data-testid="model-card"') == len(empty_ctx.models.list()) >= 5
    again = empty_client.post("/demo")  # already there: a friendly page, not a 500
    assert again.status_code == 409 and has_testid(again.text, "error-message")


def test_models_page_with_trained_demo(trained_client: TestClient) -> None:
    html = trained_client.get("/").text
    card = html[html.index('id="model-house_quality"'):]
    assert "r2 0.9" in element(card, "key-metric")
    assert "v2" in element(card, "active-version")
    assert 'data-testid="model-status">succeeded' in card
    assert has_testid(card, "train-button") and has_testid(card, "predict-button")
    assert "not scheduled" in element(card, "next-run")


def test_model_page_regression(trained_client: TestClient) -> None:
    response = trained_client.get("/models/house_quality")
    assert response.status_code == 200
    html = response.text
    assert html.count('data-testid="version-row"') == 2
    assert has_testid(html, "active-marker") and has_testid(html, "activate-version-1")
    assert "Roll back to v1" in html
    for item in ("chart-history", "chart-scatter", "chart-importance", "manifest", "fingerprint",
                 "manifest-packages", "export-json", "snippet-curl", "snippet-python", "runs-table"):
        assert has_testid(html, item), item
    assert "/api/v1/models/house_quality/export.json" in html
    assert "/api/v1/models/house_quality/predict" in html and "&#34;price&#34;: 1.0" in html
    assert "/static/vendor/chartjs/chart.umd.js" in html
    assert 'hx-get="/models/house_quality/output"' in html


def test_model_page_classification_and_export_note(trained_client: TestClient) -> None:
    html = trained_client.get("/models/iris_species").text
    assert has_testid(html, "confusion-matrix") and "versicolor" in html
    assert not has_testid(html, "chart-scatter")
    assert "only available for linear models" in element(html, "export-unavailable")


def test_untrained_model_page(trained_client: TestClient) -> None:
    html = trained_client.get("/models/wine_cultivar").text
    assert has_testid(html, "versions-empty") and not has_testid(html, "manifest")
    assert has_testid(html, "export-unavailable")


def test_output_table_preview(trained_client: TestClient) -> None:
    missing = trained_client.get("/models/house_quality/output")
    assert missing.status_code == 200 and has_testid(missing.text, "output-empty")


def test_runs_and_run_pages(trained_client: TestClient, trained_ctx: ServiceContext) -> None:
    html = trained_client.get("/runs").text
    assert html.count('data-testid="run-row"') == 3
    assert trained_client.get("/runs?model=iris_species").text.count('data-testid="run-row"') == 1
    assert trained_client.get("/runs?status=failed").text.count('data-testid="run-row"') == 0
    bad = trained_client.get("/runs?status=nonsense")
    assert bad.status_code == 422 and has_testid(bad.text, "error-page")
    run = trained_ctx.runs.list("house_quality", None, 1)[0]
    page = trained_client.get(f"/runs/{run.id}")
    assert page.status_code == 200 and "succeeded" in element(page.text, "run-status")
    assert trained_client.get(f"/runs/{run.id}/live").status_code == 200


def test_editor_of_existing_model(trained_client: TestClient) -> None:
    html = trained_client.get("/models/house_quality/edit").text
    assert "select id, price, quality from houses" in html
    assert has_testid(html, "delete-button") and has_testid(html, "duplicate-form")
    assert "/static/vendor/codemirror/lib/codemirror.js" in html


def test_errors_are_pages_not_json(trained_client: TestClient) -> None:
    missing_model = trained_client.get("/models/nope")
    assert missing_model.status_code == 404
    assert "text/html" in missing_model.headers["content-type"]
    assert "no model named" in element(missing_model.text, "error-message")
    unknown = trained_client.get("/no/such/page")
    assert unknown.status_code == 404 and has_testid(unknown.text, "error-page")
    api = trained_client.get("/api/v1/no-such-thing")
    assert api.status_code == 404 and api.headers["content-type"].startswith("application/json")


def test_htmx_errors_go_to_the_flash_area(trained_client: TestClient) -> None:
    response = trained_client.post("/models/nope/train", headers={"HX-Request": "true"})
    assert response.status_code == 200 and response.headers["X-Softquery-Status"] == "404"
    assert response.headers["HX-Retarget"] == "#flash"
    assert has_testid(response.text, "flash-error")
