"""Forms answer in place (issue 12): a refused form shows a banner at the top of the page and
puts the cursor in the field to fix; the address a form was sent to opens as a page, never as
the API's JSON."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

from playwright.sync_api import Page, expect
from tests.e2e.kit import Server

Shot = Callable[[Page, str], Path]


def focused_id(page: Page) -> str:
    return str(page.evaluate("() => document.activeElement ? document.activeElement.id : ''"))


def banner_is_at_the_top(page: Page) -> bool:
    """The banner comes before every form of the page's content."""
    return bool(page.evaluate("""() => {
        const banner = document.querySelector('[data-testid="form-banner"]');
        const form = document.querySelector('main form');
        return !!banner && !!form && !!(banner.compareDocumentPosition(form) & Node.DOCUMENT_POSITION_FOLLOWING);
    }"""))


def test_a_refused_duplicate_shows_a_banner_focuses_the_name_and_reloads_as_a_form(
        page: Page, server: Server, shot: Shot) -> None:
    page.goto("/models/house_quality/duplicate")
    name = page.get_by_test_id("duplicate-name")
    name.fill("iris_species")  # taken
    page.get_by_test_id("duplicate-button").click()
    banner = page.get_by_test_id("form-banner")
    expect(banner).to_be_visible()
    expect(banner).to_contain_text("iris_species already exists")
    assert banner_is_at_the_top(page)
    page.wait_for_function("() => document.activeElement && document.activeElement.id === 'new_name'")
    expect(name).to_have_attribute("aria-invalid", "true")
    expect(name).to_have_value("iris_species")  # what was typed stays
    shot(page, "duplicate-refused")

    # the address the form went to opens as the form again (it used to be a JSON 405)
    assert re.search(r"/models/house_quality/duplicate$", page.url)
    response = page.goto(page.url)
    assert response is not None and response.status == 200
    assert "text/html" in response.headers["content-type"]
    expect(page.get_by_test_id("duplicate-form")).to_be_visible()
    expect(page.get_by_test_id("form-banner")).to_have_count(0)
    assert focused_id(page) != "new_name"  # nothing to fix: no field is grabbed

    page.get_by_test_id("duplicate-name").fill("iris_species")
    page.get_by_test_id("duplicate-button").click()
    suggestion = page.get_by_test_id("use-suggestion")
    expect(suggestion).to_contain_text("iris_species_2")
    suggestion.click()
    expect(page.get_by_test_id("duplicate-name")).to_have_value("iris_species_2")
    page.get_by_test_id("duplicate-button").click()
    expect(page).to_have_url(re.compile(r"/models/iris_species_2/edit"))
    with server.api() as client:
        client.delete("/models/iris_species_2").raise_for_status()


def test_a_refused_source_shows_a_banner_and_focuses_the_field(page: Page, shot: Shot) -> None:
    page.goto("/sources")
    page.get_by_test_id("source-name").fill("demo")  # taken
    page.get_by_test_id("source-url-input").fill("sqlite://")
    page.get_by_test_id("source-url-input").press("Enter")
    banner = page.get_by_test_id("form-banner")
    expect(banner).to_be_visible()
    expect(banner).to_contain_text("The source was not added")
    assert banner_is_at_the_top(page)
    page.wait_for_function("() => document.activeElement && document.activeElement.id === 'source-name'")
    expect(page.get_by_test_id("source-name")).to_be_in_viewport()
    shot(page, "source-refused")
    # the banner's link puts the cursor back in the field
    page.get_by_test_id("source-url-input").focus()
    banner.get_by_test_id("form-banner-link").click()
    page.wait_for_function("() => document.activeElement && document.activeElement.id === 'source-name'")


def test_addresses_of_buttons_open_as_pages(page: Page, trained_iris: str) -> None:
    for path, lands in ((f"/models/{trained_iris}/stop", f"/models/{trained_iris}$"),
                        (f"/models/{trained_iris}/versions/1/activate", f"/models/{trained_iris}"),
                        ("/account/tokens/1/revoke", "/account$"),
                        (f"/models/{trained_iris}/train", f"/models/{trained_iris}/train$")):
        response = page.goto(path)
        assert response is not None and response.status == 200, path
        assert "text/html" in response.headers["content-type"], path
        expect(page).to_have_url(re.compile(lands))
        expect(page.locator("h1")).to_be_visible()
