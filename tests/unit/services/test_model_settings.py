"""Every model setting in services/model_settings.py reaches each presenter: the CLI's options and
--json output, the API's Create/Update/Public schemas, and the web editor (shown and read back)."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime

import click
import pytest

from softquery.api.schemas.models import ModelCreate, ModelPublic, ModelUpdate
from softquery.cli.models_cmd import create_cmd, update_cmd
from softquery.cli.present import model_dict
from softquery.domain import DeployStrategy, Model, RunKind, WriteMode
from softquery.errors import InvalidInputError
from softquery.services.model_settings import FIELD_NAMES, MODEL_SETTINGS, SETTINGS, setting_values
from softquery.services.models import CLEARABLE, ModelSpec
from softquery.web.forms import FIELD_ALIASES, EditorForm, FormErrors, errors_of, to_spec

NAMES = [s.name for s in MODEL_SETTINGS]


def _model() -> Model:
    return Model(name="prices", source="demo", code="class Model: ...", train_sql="select 1", predict_sql="select 2",
                 description="d", template=None, label="price", id_columns=["id", "shop_id"], output_table="out",
                 write_mode=WriteMode.APPEND, deploy=DeployStrategy.BEST_SCORE, schedule="30 6 * * 1-5",
                 schedule_action=RunKind.PREDICT, schedule_timezone="Europe/Berlin", time_limit_seconds=60,
                 memory_limit_mb=512, cv_folds=4, order_column="sold_on", created_at=datetime(2024, 1, 1, tzinfo=UTC),
                 search={"method": "grid", "params": {"Ridge.alpha": {"values": [0.1, 1.0]}}, "trials": 2},
                 time_budget_seconds=30)


@pytest.mark.parametrize("name", NAMES)
def test_every_setting_is_a_field_everywhere(name: str) -> None:
    assert name in {f.name for f in dataclasses.fields(Model)}
    assert name in {f.name for f in dataclasses.fields(ModelSpec)}
    for schema in (ModelCreate, ModelUpdate):
        assert schema.model_fields[name].description == SETTINGS[name].api_help()
    assert name in ModelPublic.model_fields
    assert name in EditorForm.model_fields
    assert name in model_dict(_model(), include_code=True)


def test_the_cli_has_an_option_per_setting() -> None:
    for command in (create_cmd, update_cmd):
        params = {p.name: p for p in command.params if isinstance(p, click.Option)}
        for setting in MODEL_SETTINGS:
            option = params["code_file" if setting.name == "code" else setting.name]
            if setting.flag:
                assert option.opts == [setting.flag] and option.help == setting.cli_help()


def test_clearable_settings_are_the_services() -> None:
    assert {s.name for s in MODEL_SETTINGS if s.clearable} == set(CLEARABLE)


def test_api_and_cli_show_the_same_values() -> None:
    model = _model()
    values = setting_values(model)
    assert values["write_mode"] == "append" and values["schedule_action"] == "predict"
    shown = model_dict(model, include_code=True)
    assert {k: shown[k] for k in values} == values
    assert model_dict(dataclasses.replace(model, output_table=None))["output_table"] == "prices_prediction"


def test_the_editor_reads_back_what_it_shows() -> None:
    model = _model()
    form = EditorForm.of(model)
    assert form.id_columns == "id, shop_id" and form.time_limit_seconds == "60" and form.schedule_preset == "custom"
    spec = to_spec(form, updating=True)
    for name in ("source", "code", "train_sql", "predict_sql", "label", "id_columns", "output_table", "write_mode",
                 "deploy", "description", "schedule", "schedule_action", "schedule_timezone", "time_limit_seconds",
                 "memory_limit_mb", "cv_folds", "order_column"):
        assert getattr(spec, name) == setting_values(model)[name], name
    assert spec.clear == set()
    emptied = to_spec(form.model_copy(update={"label": " ", "id_columns": "", "time_limit_seconds": "",
                                               "schedule_preset": ""}), updating=True)
    assert emptied.clear == {"label", "id_columns", "time_limit_seconds", "schedule"}
    with pytest.raises(InvalidInputError, match="memory limit \\(MB\\) must be a whole number"):
        to_spec(form.model_copy(update={"memory_limit_mb": "lots"}), updating=False)


def test_error_fields_find_their_setting() -> None:
    assert FIELD_NAMES["label column"] == "label" and FIELD_NAMES["deploy strategy"] == "deploy"
    assert FIELD_ALIASES["model name"] == "name" and FIELD_ALIASES["problems"] == "code"
    errors = errors_of(InvalidInputError("bad", details={"field": "id column"}))
    assert errors.fields == {"id_columns": "bad"} and errors.first_field_label == "id columns"
    assert FormErrors(fields={"name": "x"}).first_field_label == "model name"


def test_the_cross_validation_settings_are_shown_read_back_and_cleared() -> None:
    model = dataclasses.replace(_model(), cv_folds=3)
    assert model_dict(model)["cv_folds"] == 3 and model_dict(model)["order_column"] == "sold_on"
    form = EditorForm.of(model)
    assert (form.cv_folds, form.order_column) == ("3", "sold_on")
    spec = to_spec(form, updating=True)
    assert (spec.cv_folds, spec.order_column) == (3, "sold_on") and spec.clear == set()
    emptied = to_spec(form.model_copy(update={"cv_folds": "", "order_column": " "}), updating=True)
    assert {"cv_folds", "order_column"} <= emptied.clear
    assert ModelUpdate(cv_folds=None, order_column=None).to_spec().clear == {"cv_folds", "order_column"}
    assert ModelCreate.model_fields["cv_folds"].description.endswith(  # type: ignore[union-attr]
        "null: the server's SOFTQUERY_CV_FOLDS, 5 unless set.")
    with pytest.raises(InvalidInputError, match="cross-validation folds must be a whole number; got 'five'"):
        to_spec(form.model_copy(update={"cv_folds": "five"}), updating=False)
    options = {p.name: p for p in create_cmd.params if isinstance(p, click.Option)}
    assert options["cv_folds"].opts == ["--cv-folds"] and options["order_column"].opts == ["--order-column"]
