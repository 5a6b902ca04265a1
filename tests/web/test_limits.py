"""The editor refuses texts over their limit and run limits over the server's maximum, at the field."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from tests.web.html import element, has_testid
from tests.web.test_editor import form

from softquery.errors import NotFoundError
from softquery.services.context import ServiceContext


def assert_not_created(ctx: ServiceContext) -> None:
    with pytest.raises(NotFoundError):
        ctx.models.get("prices")


@pytest.mark.parametrize(("field", "value", "message"), [
    ("description", "d" * 10_001, "The description is 10,001 characters long; at most 10,000 are allowed."),
    ("code", "#" * 200_001, "The model code is 200,001 characters long; at most 200,000 are allowed."),
    ("train_sql", "select 1" + " " * 100_000, "The train query is 100,008 characters long; at most 100,000"),
])
def test_a_long_text_is_refused_at_its_field(demo_client: TestClient, demo_ctx: ServiceContext, field: str,
                                             value: str, message: str) -> None:
    response = demo_client.post("/new", data=form(**{field: value}))
    assert response.status_code == 200  # the editor again, the error at the field
    assert message in element(response.text, f"error-{field}")
    assert has_testid(response.text, "form-error-summary")
    assert_not_created(demo_ctx)


@pytest.mark.parametrize(("field", "value", "setting"), [
    ("memory_limit_mb", "100000000", "SOFTQUERY_MAX_MEMORY_LIMIT_MB"),
    ("time_limit_seconds", "2000000000", "SOFTQUERY_MAX_TIME_LIMIT_SECONDS"),
])
def test_run_limits_above_the_maximum_are_refused_at_their_field(demo_client: TestClient, demo_ctx: ServiceContext,
                                                                 field: str, value: str, setting: str) -> None:
    response = demo_client.post("/new", data=form(**{field: value}))
    assert response.status_code == 200
    error = element(response.text, f"error-{field}")
    assert "above this server&#39;s maximum" in error and setting in error
    assert_not_created(demo_ctx)
    # editing an existing model: refused the same way, nothing changed
    response = demo_client.post("/models/house_quality/edit", data=form(name="house_quality", **{field: value}))
    assert setting in element(response.text, f"error-{field}")
    assert getattr(demo_ctx.models.get("house_quality"), field) is None
