"""The model editor: create, bad input next to its field with what was typed, update, delete, duplicate."""

from __future__ import annotations

import html as html_lib

from fastapi.testclient import TestClient
from tests.web.html import element, has_testid

from softquery.errors import NotFoundError
from softquery.modelcode.templates import template_code
from softquery.services.context import ServiceContext

TRAIN_SQL = "select id, price, quality from houses where quality is not null and price > 0"
PREDICT_SQL = "select id, price from houses where quality is null"


def form(**changes: str) -> dict[str, str]:
    values = {"name": "prices", "description": "Quality from price <by> the analyst", "source": "demo",
              "template": "linear_regression", "code": template_code("linear_regression"),
              "train_sql": TRAIN_SQL, "predict_sql": PREDICT_SQL, "label": "", "id_columns": "",
              "output_table": "", "write_mode": "replace", "deploy": "most_recent", "schedule_preset": "",
              "schedule": "", "schedule_action": "train", "schedule_timezone": "", "time_limit_seconds": "",
              "memory_limit_mb": ""}
    values.update(changes)
    return values


def test_new_model_form_starts_from_a_template(demo_client: TestClient) -> None:
    html = demo_client.get("/new").text
    assert "class Model" in html and has_testid(html, "load-template")
    assert 'id="templates-data"' in html  # every template's code, for "Load template"
    assert '<option value="demo" selected>' in html  # the only source is preselected


def test_create_model_via_form(demo_client: TestClient, demo_ctx: ServiceContext) -> None:
    response = demo_client.post("/new", data=form(schedule_preset="daily", schedule_timezone="Europe/Berlin",
                                                  time_limit_seconds="600"))
    assert response.status_code == 303
    assert response.headers["location"].startswith("/models/prices")
    model = demo_ctx.models.get("prices")
    assert model.template == "linear_regression"  # unchanged template code keeps its name
    assert model.train_sql == TRAIN_SQL and model.description.startswith("Quality from price")
    assert (model.schedule, model.schedule_timezone, model.time_limit_seconds) == ("daily", "Europe/Berlin", 600)
    page = demo_client.get(response.headers["location"])
    assert page.status_code == 200 and has_testid(page.text, "saved-notice")


def test_invalid_name_is_shown_at_the_name_and_keeps_the_input(demo_client: TestClient,
                                                                 demo_ctx: ServiceContext) -> None:
    response = demo_client.post("/new", data=form(name="1 bad-name"))
    assert response.status_code == 200
    html = response.text
    assert "is not allowed" in element(html, "error-name")
    assert 'value="1 bad-name"' in html
    assert html_lib.escape(TRAIN_SQL) in html and "Quality from price &lt;by&gt; the analyst" in html
    assert 'aria-invalid="true" aria-describedby="name-error"' in html
    assert "prices" not in [m.name for m in demo_ctx.models.list()]


def test_bad_code_is_shown_at_its_line(demo_client: TestClient) -> None:
    code = "import numpy as np\n\nclass Model:\n    def train(self, X):\n        pass\n    def predict(self, X):\n        return X\n"
    response = demo_client.post("/new", data=form(code=code, template=""))
    assert response.status_code == 200
    html = response.text
    assert "Line 4" in element(html, "error-code")
    assert 'data-line="4"' in html and has_testid(html, "code-problem")
    assert "def train(self, X):" in html  # the code as typed


def test_syntax_error_keeps_every_field(demo_client: TestClient) -> None:
    code = "class Model:\n    def train(self, X, y):\n\tpass\n"
    response = demo_client.post("/new", data=form(code=code, template="", label="quality", id_columns="id"))
    assert response.status_code == 200
    assert has_testid(response.text, "error-code")
    assert 'value="quality"' in response.text and 'value="id"' in response.text


def test_other_fields_errors(demo_client: TestClient) -> None:
    cases = {
        "source": form(source="nowhere"),
        "train_sql": form(train_sql="   "),
        "time_limit_seconds": form(time_limit_seconds="soon"),
        "schedule": form(schedule_preset="custom", schedule="every tuesday"),
        "schedule_timezone": form(schedule_preset="daily", schedule_timezone="Mars/Olympus"),
        "label": form(label="not a column!"),
    }
    for field, data in cases.items():
        response = demo_client.post("/new", data=data)
        assert response.status_code == 200, (field, response.status_code)
        assert has_testid(response.text, f"error-{field}"), (field, response.text[-2000:])
    taken = demo_client.post("/new", data=form(name="house_quality"))
    assert taken.status_code == 200 and has_testid(taken.text, "error-name")


def test_update_model_and_clear_optional_fields(demo_client: TestClient, demo_ctx: ServiceContext) -> None:
    demo_client.post("/new", data=form(label="quality", id_columns="id"))
    response = demo_client.post("/models/prices/edit", data=form(description="changed", label="", id_columns=""))
    assert response.status_code == 303
    model = demo_ctx.models.get("prices")
    assert (model.description, model.label, model.id_columns) == ("changed", None, None)
    bad = demo_client.post("/models/prices/edit", data=form(predict_sql=""))
    assert bad.status_code == 200 and has_testid(bad.text, "error-predict_sql")
    assert demo_ctx.models.get("prices").predict_sql == PREDICT_SQL


def test_own_code_is_saved_as_code(demo_client: TestClient, demo_ctx: ServiceContext) -> None:
    code = template_code("linear_regression") + "\n# tuned by hand\n"
    assert demo_client.post("/new", data=form(code=code)).status_code == 303
    model = demo_ctx.models.get("prices")
    assert model.template is None and model.code.endswith("# tuned by hand\n")


def test_delete_asks_first(demo_client: TestClient, demo_ctx: ServiceContext) -> None:
    confirm = demo_client.get("/models/house_quality/delete")
    assert confirm.status_code == 200 and has_testid(confirm.text, "confirm-delete-button")
    unconfirmed = demo_client.post("/models/house_quality/delete")
    assert unconfirmed.status_code == 200 and has_testid(unconfirmed.text, "confirm-delete")
    demo_ctx.models.get("house_quality")
    done = demo_client.post("/models/house_quality/delete", data={"confirm": "house_quality"})
    assert done.status_code == 303
    try:
        demo_ctx.models.get("house_quality")
        raise AssertionError("still there")
    except NotFoundError:
        pass


def test_duplicate(demo_client: TestClient, demo_ctx: ServiceContext) -> None:
    response = demo_client.post("/models/house_quality/duplicate", data={"new_name": "house_copy"})
    assert response.status_code == 303 and response.headers["location"].startswith("/models/house_copy/edit")
    assert demo_ctx.models.get("house_copy").train_sql == demo_ctx.models.get("house_quality").train_sql
    taken = demo_client.post("/models/house_quality/duplicate", data={"new_name": "house_copy"})
    assert taken.status_code == 200 and has_testid(taken.text, "error-new_name")
    bad = demo_client.post("/models/house_quality/duplicate", data={"new_name": "no way"})
    assert bad.status_code == 200 and 'value="no way"' in bad.text


def test_preview_shows_rows_types_and_detected_columns(demo_client: TestClient) -> None:
    response = demo_client.post("/editor/preview", data=form(), headers={"HX-Request": "true"})
    assert response.status_code == 200
    html = response.text
    assert element(html, "detected-label").endswith(">quality</")
    assert "price" in element(html, "detected-features") and "id" in element(html, "detected-ids")
    assert "double" in html and has_testid(html, "preview-train-query")
    broken = demo_client.post("/editor/preview", data=form(predict_sql="select nope from houses"))
    assert has_testid(broken.text, "preview-error") and "nope" in broken.text
    no_source = demo_client.post("/editor/preview", data=form(source=""))
    assert has_testid(no_source.text, "preview-problem")


def test_cross_validation_fields_are_saved_and_a_bad_fold_count_is_shown_at_its_field(
        demo_client: TestClient, demo_ctx: ServiceContext) -> None:
    refused = demo_client.post("/new", data=form(cv_folds="50", order_column="id"))
    assert refused.status_code == 200
    assert "Cross-validation folds must be a whole number from 2 to 20" in element(refused.text, "error-cv_folds")
    assert 'value="50"' in refused.text and "prices" not in [m.name for m in demo_ctx.models.list()]
    response = demo_client.post("/new", data=form(cv_folds="3", order_column="id"))
    assert response.status_code == 303
    model = demo_ctx.models.get("prices")
    assert (model.cv_folds, model.order_column) == (3, "id")
