"""POST /api/v1/sql: one result per statement, positioned errors, what ran before a failure,
permissions per statement (403, nothing done), audit with the text, the caller's own history."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from tests import authkit
from tests.api.conftest import FakeExecutor, assert_envelope

from softquery.auth.policy import Action
from softquery.domain.accounts import Role
from softquery.errors import NotFoundError
from softquery.server import create_app
from softquery.services import audit, models, sql_ml_functions, sql_model_options, sql_scripts
from softquery.services.context import ServiceContext
from softquery.services.models import ModelSpec
from softquery.services.sql_results import Link, StatementResult
from softquery.services.sql_session import Session
from softquery.sql.statements import CreateModel, Statement

SQL = "/api/v1/sql"


@pytest.fixture
def as_role(ctx: ServiceContext, executor: FakeExecutor) -> Iterator[Any]:
    """``as_role("vic", Role.VIEWER)``: a client with a token of that user."""
    clients: list[TestClient] = []

    def make(username: str, role: Role) -> TestClient:
        client = TestClient(create_app(ctx, executor), raise_server_exceptions=False)
        client.__enter__()
        client.headers.update(authkit.bearer(ctx, username, role))
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.__exit__(None, None, None)


def test_a_select_answers_a_typed_table(client: TestClient) -> None:
    response = client.post(SQL, json={"source": "demo", "sql": "select id, price, quality from houses order by id limit 2"})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["error"] is None and body["failed_statement"] is None
    [result] = body["results"]
    assert result["kind"] == "table" and result["verb"] == "select" and (result["statement"], result["line"]) == (1, 1)
    assert result["columns"] == [{"name": "id", "type": "int64"}, {"name": "price", "type": "double"},
                                 {"name": "quality", "type": "double"}]
    assert result["rows"] == [[1, 594000.0, 5.6], [2, 166000.0, 1.3]]
    assert result["row_count"] == 2 and result["truncated"] is False and result["run_id"] is None


def test_one_result_per_statement_with_params(client: TestClient) -> None:
    sql = "-- two statements\nselect count(*) as n from iris;\n/* ; */ select id from houses where id = ${house}"
    body = client.post(SQL, json={"source": "demo", "sql": sql, "params": {"house": "7"}}).json()
    assert [(r["statement"], r["line"], r["rows"]) for r in body["results"]] == [(1, 2, [[150]]), (2, 3, [[7]])]


def test_a_big_result_is_truncated(client: TestClient) -> None:
    sql = "with recursive n(i) as (select 1 union all select i + 1 from n where i < 1500) select i from n"
    [result] = client.post(SQL, json={"source": "demo", "sql": sql}).json()["results"]
    assert result["truncated"] is True and len(result["rows"]) == 1000 and result["rows"][-1] == [1000]


def test_a_parse_error_is_422_with_its_position(client: TestClient) -> None:
    response = client.post(SQL, json={"source": "demo", "sql": "select 1 as one;\nselect 'open from houses"})
    error = assert_envelope(response, 422, "sql_error")
    assert (error["details"]["line"], error["details"]["column"]) == (2, 8)
    assert error["details"]["excerpt"] == "select 'open from houses\n       ^"
    response = client.post(SQL, json={"source": "demo", "sql": "select ${hous}", "params": {"house": "1"}})
    assert assert_envelope(response, 422, "sql_error")["details"]["suggestion"] == "house"


def test_a_failing_statement_answers_what_ran_before_it(client: TestClient) -> None:
    # the database refuses the second statement: its error is placed at the statement
    response = client.post(SQL, json={"source": "demo",
                                      "sql": "select 1 as one;\n  select json('{bad') as j from houses;\nselect 3"})
    assert response.status_code == 422, response.text
    body = response.json()
    assert body["failed_statement"] == 2 and [r["rows"] for r in body["results"]] == [[[1]]]
    assert body["error"]["code"] == "query_error" and "malformed JSON" in body["error"]["message"]
    assert (body["error"]["details"]["line"], body["error"]["details"]["column"]) == (2, 3)
    assert body["error"]["details"]["excerpt"].endswith("\n  ^")
    # a name the source lacks: placed at the name itself
    named = client.post(SQL, json={"source": "demo", "sql": "select 1 as one;\n  select nope from houses"}).json()
    assert named["failed_statement"] == 2 and len(named["results"]) == 1 and "nope" in named["error"]["message"]
    assert (named["error"]["details"]["line"], named["error"]["details"]["column"]) == (2, 10)
    missing = client.post(SQL, json={"source": "nowhere", "sql": "select 1"})
    assert_envelope(missing, 404, "not_found")


def _stand_in_create_model(session: Session, statement: Statement) -> StatementResult:
    """CREATE MODEL as its handler does it (permission, use case, audit), for this test of the entry."""
    assert isinstance(statement, CreateModel) and statement.query is not None
    session.require(statement, Action.CREATE_MODEL)
    name = statement.model.name
    models.create_model(session.ctx, name, ModelSpec(
        source="demo", template="linear_regression", train_sql=statement.query.sql(),
        predict_sql="select id, price from houses where quality is null", label="quality"))
    session.audit(statement, "model.create", "model", name)
    return StatementResult(statement=0, line=0, column=0, verb="create_model", kind="message",
                           message=f"model {name} created", links=[Link("model", model=name)])


@pytest.fixture
def create_model_handler(monkeypatch: pytest.MonkeyPatch) -> None:
    if CreateModel not in sql_scripts.HANDLERS:
        monkeypatch.setitem(sql_scripts.HANDLERS, CreateModel, _stand_in_create_model)


CREATE = ("create model {name} options(model_type='linear_reg', input_label_cols=['quality']) as "
          "select price, quality from houses where quality is not null")


def _exists(ctx: ServiceContext, name: str) -> bool:
    try:
        ctx.models.get(name)
    except NotFoundError:
        return False
    return True


def test_a_viewers_create_model_is_403_and_creates_nothing(ctx: ServiceContext, as_role: Any,
                                                         create_model_handler: None) -> None:
    viewer = as_role("vic", Role.VIEWER)
    before = len(audit.list_events(ctx, limit=1000))
    response = viewer.post(SQL, json={"source": "demo", "sql": "select 1 as ok;\n" + CREATE.format(name="vics")})
    assert response.status_code == 403, response.text
    body = response.json()
    assert body["error"]["code"] == "forbidden" and body["failed_statement"] == 2 and len(body["results"]) == 1
    assert body["error"]["details"]["line"] == 2
    assert not _exists(ctx, "vics")
    assert len(audit.list_events(ctx, limit=1000)) == before


def test_a_statement_that_changes_something_is_audited_with_its_text(ctx: ServiceContext, as_role: Any,
                                                                    create_model_handler: None) -> None:
    editor = as_role("ed", Role.EDITOR)
    statement = CREATE.format(name="eds")
    response = editor.post(SQL, json={"source": "demo", "sql": statement, "wait": False})
    assert response.status_code == 200, response.text
    [result] = response.json()["results"]
    assert {"kind": "model", "model": "eds", "href": "/models/eds"}.items() <= result["links"][0].items()
    assert _exists(ctx, "eds")
    events = [e for e in audit.list_events(ctx, limit=1000) if e.actor == "ed" and e.details.get("via") == "sql"]
    assert events and events[0].details["sql"] == statement and events[0].target == "eds"
    # and the audit log (admins) shows it
    log = as_role("admin", Role.ADMIN).get("/api/v1/audit").json()
    assert any(e.get("details", {}).get("sql") == statement for e in log)


def test_history_is_the_callers_own(as_role: Any) -> None:
    vic, eve = as_role("vic", Role.VIEWER), as_role("eve", Role.ADMIN)
    vic.post(SQL, json={"source": "demo", "sql": "select 'vic was here' as v"})
    vic.post(SQL, json={"source": "demo", "sql": "select nope from houses"})
    eve.post(SQL, json={"source": "demo", "sql": "select 'eve was here' as v"})
    mine = vic.get(f"{SQL}/history").json()
    assert [e["sql"] for e in mine] == ["select nope from houses", "select 'vic was here' as v"]
    assert mine[0]["error"] and "nope" in mine[0]["error"] and mine[1]["error"] is None
    assert mine[0]["source"] == "demo" and mine[1]["statements"] == 1
    theirs = eve.get(f"{SQL}/history").json()  # an admin too sees only their own
    assert [e["sql"] for e in theirs] == ["select 'eve was here' as v"]
    # there is no way to ask for another user's: such parameters change nothing
    for params in ({"user": "vic"}, {"username": "vic"}, {"user_id": "1"}, {"all": "true"}):
        assert [e["sql"] for e in eve.get(f"{SQL}/history", params=params).json()] == ["select 'eve was here' as v"]


def test_completions_name_tables_columns_models_and_functions(as_role: Any) -> None:
    body = as_role("vic", Role.VIEWER).get(f"{SQL}/completions", params={"source": "demo"}).json()
    houses = next(t for t in body["tables"] if t["name"] == "houses")
    assert houses["columns"] == ["id", "price", "quality"]
    assert "house_quality" in body["models"] and "ML.PREDICT" in body["functions"] and body["error"] is None


def test_completions_offer_the_ml_functions_and_options_the_services_run(as_role: Any) -> None:
    """Taken from the services that run them, so a new function or option completes without a change here."""
    body = as_role("vic", Role.VIEWER).get(f"{SQL}/completions").json()
    assert body["functions"] == ["ML.PREDICT", *(f"ML.{f}" for f in sql_ml_functions.TABLE_FUNCTIONS)]
    assert {"ML.EVALUATE", "ML.ROC_CURVE"} <= set(body["functions"])
    assert body["options"] == list(sql_model_options.known_options())
    assert {"model_type", "input_label_cols", "l2_reg", "num_trials", "data_split_method"} <= set(body["options"])
    assert {"linear_reg", "logistic_reg", "kmeans"} <= set(body["model_types"])


def test_body_and_script_limits(client: TestClient) -> None:
    too_long = client.post(SQL, json={"source": "demo", "sql": "select 1 " + "-" * 300_000})
    assert_envelope(too_long, 422, "invalid_input")
    too_big = client.post(SQL, json={"source": "demo", "sql": "select 1 " + "-" * 1_100_000})
    assert_envelope(too_big, 413, "payload_too_large")
