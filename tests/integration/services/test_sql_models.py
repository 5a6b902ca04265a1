"""CREATE MODEL … OPTIONS(…) AS SELECT and DROP MODEL: the same use cases, permissions and audit as the CLI."""

from __future__ import annotations

import pytest
from tests.integration.services.helpers import PASSWORD, as_user

from softquery.domain.accounts import Role
from softquery.services import accounts, audit
from softquery.services.context import ServiceContext
from softquery.services.demo import create_demo
from softquery.services.sql_scripts import run_script

HOUSES = "SELECT id, price, quality FROM houses WHERE quality IS NOT NULL"


@pytest.fixture
def demo(ctx: ServiceContext) -> ServiceContext:
    create_demo(ctx)
    accounts.add_user(ctx, "vic", Role.VIEWER, PASSWORD)
    accounts.add_user(ctx, "ann", Role.EDITOR, PASSWORD)
    accounts.add_user(ctx, "eve", Role.EDITOR, PASSWORD)
    return ctx


def test_create_model_saves_the_model_and_trains_a_version(demo: ServiceContext) -> None:
    sql = (f"CREATE MODEL demo.hq OPTIONS(model_type='linear_reg', input_label_cols=['quality'],\n"
           f"  data_split_eval_fraction=0.25, id_columns=['id'], description='houses') AS {HOUSES}")
    answer = run_script(as_user(demo, "ann"), sql, wait=True)
    assert answer.error is None
    (result,) = answer.results
    model = demo.models.get("hq")
    version = demo.versions.get("hq", 1)
    assert result.kind == "message"
    assert result.message == f"model hq: version 1 trained, r2 {version.metrics['r2']:.2f}"
    assert {link.kind for link in result.links} == {"model", "run", "version"} and result.run_id
    assert (model.source, model.label, model.id_columns, model.description) == ("demo", "quality", ["id"], "houses")
    assert model.owner == "ann" and model.active_version == 1
    assert model.train_sql == HOUSES
    assert model.predict_sql == "SELECT id, price FROM houses WHERE NOT quality IS NULL"
    assert "holdout_fraction = 0.25" in model.code
    assert version.manifest["evaluation"]["split"]["test_fraction"] == 0.25
    events = [e for e in audit.list_events(demo) if e.action == "sql.create_model"]
    assert events and events[0].details["sql"] == sql and events[0].actor == "ann"


def test_or_replace_trains_a_new_version_and_if_not_exists_leaves_the_model(demo: ServiceContext) -> None:
    ann = as_user(demo, "ann")
    first = f"CREATE MODEL hq OPTIONS(model_type='linear_reg', input_label_cols=['quality']) AS {HOUSES}"
    assert run_script(ann, first, source="demo", wait=True).error is None
    again = run_script(ann, first, source="demo", wait=True)
    assert again.error is not None and "OR REPLACE" in again.error["message"]
    kept = run_script(ann, first.replace("MODEL hq", "MODEL IF NOT EXISTS hq"), source="demo", wait=True)
    assert kept.error is None and "nothing changed" in kept.results[0].message
    assert [v.version for v in demo.versions.list("hq")] == [1]
    replaced = run_script(ann, "CREATE OR REPLACE MODEL hq OPTIONS(model_type='random_forest_regressor', "
                          f"input_label_cols=['quality'], num_parallel_tree=20) AS {HOUSES}",
                          source="demo", wait=True)
    assert replaced.error is None and replaced.results[0].message.startswith("model hq: version 2 trained, r2 ")
    assert sorted(v.version for v in demo.versions.list("hq")) == [1, 2]
    assert "n_estimators=20" in demo.models.get("hq").code
    eve = run_script(as_user(demo, "eve"), f"CREATE OR REPLACE MODEL hq OPTIONS(model_type='linear_reg', "
                     f"input_label_cols=['quality']) AS {HOUSES}", source="demo", wait=True)
    assert eve.error is not None and eve.error["code"] == "forbidden"
    assert len(demo.versions.list("hq")) == 2


def test_drop_model(demo: ServiceContext) -> None:
    answer = run_script(demo, "DROP MODEL house_quality; DROP MODEL IF EXISTS house_quality; DROP MODEL iris_specis")
    assert [r.message for r in answer.results] == [
        "model house_quality dropped, with its 0 version(s).",
        "model house_quality does not exist: nothing dropped (IF EXISTS)."]
    assert answer.failed_statement == 3 and answer.error is not None
    assert answer.error["details"]["suggestion"] == "iris_species"
    assert answer.error["details"]["line"] == 1 and answer.error["details"]["column"] > 60
    assert "house_quality" not in [m.name for m in demo.models.list()]
    assert [e for e in audit.list_events(demo) if e.action == "sql.drop_model"][0].details["sql"] == \
        "DROP MODEL house_quality"


def test_a_viewer_cannot_create_or_drop_and_nothing_changes(demo: ServiceContext) -> None:
    before = {m.name for m in demo.models.list()}
    runs = len(demo.runs.list(None, None, 1000))
    for sql in (f"CREATE MODEL hq OPTIONS(model_type='linear_reg', input_label_cols=['quality']) AS {HOUSES}",
                "DROP MODEL house_quality"):
        answer = run_script(as_user(demo, "vic"), sql, source="demo", wait=True)
        assert answer.error is not None and answer.error["code"] == "forbidden"
        assert "viewer" in answer.error["message"] and answer.error["details"]["line"] == 1
    assert {m.name for m in demo.models.list()} == before
    assert len(demo.runs.list(None, None, 1000)) == runs


def test_an_unknown_option_creates_nothing(demo: ServiceContext) -> None:
    answer = run_script(demo, "CREATE MODEL hq OPTIONS(model_type='linear_reg', input_label_cols=['quality'],\n"
                        f"  learn_rat=0.1) AS {HOUSES}", source="demo", wait=True)
    assert answer.error is not None and answer.error["code"] == "sql_error"
    assert "learn_rat" in answer.error["message"] and "Did you mean 'learn_rate'" in answer.error["message"]
    assert (answer.error["details"]["line"], answer.error["details"]["column"]) == (2, 3)
    assert "hq" not in [m.name for m in demo.models.list()]


def test_a_refused_setting_or_source_is_shown_at_its_place(demo: ServiceContext) -> None:
    answer = run_script(demo, "CREATE MODEL hq OPTIONS(model_type='linear_reg',\n  input_label_cols=['qual ity']) "
                        f"AS {HOUSES}", source="demo", wait=True)
    assert answer.error is not None and answer.error["code"] == "sql_error"
    assert (answer.error["details"]["line"], answer.error["details"]["column"]) == (2, 3)
    assert "qual ity" in answer.error["message"]
    answer = run_script(demo, "CREATE MODEL dmo.hq OPTIONS(model_type='linear_reg', input_label_cols=['quality']) "
                        f"AS {HOUSES}", wait=True)
    assert answer.error is not None and answer.error["details"]["suggestion"] == "demo"
    assert "hq" not in [m.name for m in demo.models.list()]


def test_without_wait_a_running_server_takes_the_run(demo: ServiceContext, monkeypatch: pytest.MonkeyPatch) -> None:
    from softquery.jobs.executor import DatabaseQueue
    from softquery.services import sql_models

    monkeypatch.setattr(sql_models, "pick_executor", lambda ctx: DatabaseQueue())  # as when a server is alive
    answer = run_script(demo, f"CREATE MODEL hq OPTIONS(model_type='linear_reg', input_label_cols=['quality']) "
                        f"AS {HOUSES}", source="demo")
    assert answer.error is None
    (result,) = answer.results
    assert result.kind == "run" and result.run_id and result.run_status == "queued"
    run = demo.runs.get(result.run_id)
    assert (run.model, run.kind.value, run.status.value) == ("hq", "train", "queued")
    assert demo.versions.list("hq") == []


def test_a_statement_that_cannot_train_leaves_no_model(demo: ServiceContext) -> None:
    """The label and the AS SELECT are checked on one row before the model is saved."""
    ann = as_user(demo, "ann")
    before = {m.name for m in demo.models.list()}
    typo = run_script(ann, f"CREATE MODEL m1 OPTIONS(model_type='linear_reg', input_label_cols=['qualty']) AS {HOUSES}",
                      source="demo", wait=True)
    assert typo.error is not None and typo.error["details"]["suggestion"] == "quality"
    assert typo.error["details"]["column"] == 50  # at input_label_cols
    no_label = run_script(ann, "CREATE MODEL m2 OPTIONS(model_type='linear_reg') AS SELECT price, quality FROM houses",
                          source="demo", wait=True)
    assert no_label.error is not None and "input_label_cols" in no_label.error["message"]
    assert "price, quality" in no_label.error["message"]
    missing = run_script(ann, "CREATE MODEL m3 OPTIONS(model_type='linear_reg', input_label_cols=['y'])\n"
                              "AS SELECT a, y FROM no_such_table", source="demo", wait=True)
    assert missing.error is not None and missing.error["details"]["line"] == 2
    assert "no_such_table" in missing.error["message"]
    assert {m.name for m in demo.models.list()} == before
    # BigQuery's default label, a column named label, is taken
    default = run_script(ann, "CREATE MODEL m4 OPTIONS(model_type='linear_reg') AS "
                              "SELECT price, quality AS label FROM houses WHERE quality IS NOT NULL",
                         source="demo", wait=True)
    assert default.error is None and demo.models.get("m4").label == "label"
