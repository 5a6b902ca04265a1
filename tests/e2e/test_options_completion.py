"""Review 19: Ctrl-Space inside CREATE MODEL's OPTIONS( … ) offers only the options that apply to
the model_type written and are not written yet; after model_type= the model types; inside a
quoted value of an option with known values those values, never option names."""

from __future__ import annotations

from playwright.sync_api import Page, expect


def _console(page: Page) -> None:
    page.goto("/sql")
    page.wait_for_function("window.softquerySqlConsole !== undefined")
    expect(page.get_by_test_id("cm-console-sql")).to_have_attribute("data-names-loaded", "demo")
    page.get_by_test_id("cm-console-sql").click()


def _offered(page: Page, text: str) -> list[str]:
    """What Ctrl-Space offers with the cursor at the end of ``text`` (the names, without their kind)."""
    page.keyboard.press("Escape")
    expect(page.locator(".CodeMirror-hints")).to_have_count(0)
    page.evaluate("t => { const cm = window.softquerySqlConsole; cm.setValue(t); cm.focus();"
                  " cm.setCursor(cm.lineCount(), 0); }", text)
    page.keyboard.press("Control+Space")
    if text.endswith(("l2_reg=", "description='")):  # nothing to offer: the hint ran and no list opens
        page.wait_for_function("() => { const c = window.softquerySqlConsole.state.completionActive;"
                               " return c != null && c.data !== undefined; }")
        expect(page.locator(".CodeMirror-hints")).to_have_count(0)
        return []
    expect(page.locator(".CodeMirror-hints li").first).to_be_visible()
    return [t.split("  ·")[0].strip() for t in page.locator(".CodeMirror-hints li").all_inner_texts()]


def test_options_completion_follows_the_model_type_and_the_value(page: Page) -> None:
    _console(page)
    start = "create or replace model m options("
    linear = _offered(page, start + "model_type='linear_reg', ")
    assert "l2_reg" in linear and "input_label_cols" in linear and "write_mode" in linear
    assert "num_clusters" not in linear and "kmeans_init_method" not in linear
    assert "model_type" not in linear  # already written
    kmeans = _offered(page, start + "model_type='kmeans', num_clusters=3, ")
    assert "kmeans_init_method" in kmeans and "num_clusters" not in kmeans and "input_label_cols" not in kmeans
    # after model_type= (with or without the quote): the model types
    assert {"linear_reg", "kmeans"} <= set(_offered(page, start + "model_type='"))
    unquoted = _offered(page, start + "model_type=")
    assert "'linear_reg'" in unquoted and "l2_reg" not in unquoted
    page.keyboard.press("Enter")  # the chosen type is quoted
    assert page.evaluate("() => window.softquerySqlConsole.getValue()").startswith(start + "model_type='")
    # inside a quoted value: that option's values, never option names
    assert _offered(page, start + "model_type='linear_reg', write_mode='") == ["replace", "append"]
    assert _offered(page, start + "model_type='linear_reg', deploy='") == ["most_recent", "best_score"]
    tuning = _offered(page, start + "model_type='linear_reg', l2_reg=HPARAM_RANGE(0.1, 1), hparam_tuning_algorithm='")
    assert tuning == ["GRID_SEARCH", "RANDOM_SEARCH", "VIZIER_DEFAULT"]
    assert _offered(page, start + "model_type='linear_reg', description='") == []
    assert _offered(page, start + "model_type='linear_reg', l2_reg=") == []
