"""Sources page: add (tested), test, remove; a password is never rendered."""

from __future__ import annotations

from fastapi.testclient import TestClient
from tests.web.html import element, has_testid

from softquery.services.context import ServiceContext


def test_add_test_and_remove_a_source(empty_client: TestClient, sqlite_url: str) -> None:
    url = sqlite_url
    response = empty_client.post("/sources", data={"name": "shop", "url": url})
    assert response.status_code == 303
    page = empty_client.get(response.headers["location"]).text
    assert has_testid(page, "notice") and element(page, "source-url").endswith(f">{url}</")
    tested = empty_client.post("/sources/shop/test", headers={"HX-Request": "true"})
    assert 'data-ok="true"' in tested.text
    removed = empty_client.post("/sources/shop/remove")
    assert removed.status_code == 303
    assert has_testid(empty_client.get("/sources").text, "sources-empty")


def test_bad_source_input_next_to_its_field(empty_client: TestClient) -> None:
    bad_name = empty_client.post("/sources", data={"name": "my shop", "url": "sqlite:///x.db"})
    assert bad_name.status_code == 200 and has_testid(bad_name.text, "error-name")
    assert 'value="my shop"' in bad_name.text
    missing = empty_client.post("/sources", data={"name": "shop", "url": "sqlite:////nowhere/x.db"})
    assert missing.status_code == 200 and "does not exist" in element(missing.text, "error-url")
    assert 'value="sqlite:////nowhere/x.db"' in missing.text  # no password: kept as typed
    bad_url = empty_client.post("/sources", data={"name": "pg", "url": "postgresql://ann:hunter2secret@127.0.0.1:1/db"})
    assert bad_url.status_code == 200 and has_testid(bad_url.text, "error-url")
    assert "hunter2secret" not in bad_url.text


def test_passwords_are_never_rendered(empty_client: TestClient) -> None:
    url = "postgresql://ann:hunter2secret@db.internal:5432/sales"
    response = empty_client.post("/sources", data={"name": "sales", "url": url, "skip_test": "1"})
    assert response.status_code == 303
    for path in ("/sources", "/new", "/"):
        html = empty_client.get(path).text
        assert "hunter2secret" not in html
    assert "ann:***@db.internal" in empty_client.get("/sources").text
    failing = empty_client.post("/sources/sales/test", headers={"HX-Request": "true"})
    assert 'data-ok="false"' in failing.text and "hunter2secret" not in failing.text


def test_removing_a_used_source_explains_why_not(demo_client: TestClient, demo_ctx: ServiceContext) -> None:
    response = demo_client.post("/sources/demo/remove", follow_redirects=False)
    # REVIEW_19 #16: redirect after the POST, to the Sources page that says why (a reload GETs it)
    assert response.status_code == 303 and response.headers["location"].startswith("/sources?")
    page = demo_client.get(response.headers["location"])
    assert page.status_code == 200
    assert "house_quality" in element(page.text, "remove-error") and "delete or move them first" in page.text
    assert demo_ctx.sources.get("demo")
