"""CREATE [OR REPLACE] MODEL [IF NOT EXISTS] … OPTIONS(…) AS SELECT …, and DROP MODEL [IF EXISTS] ….

CREATE MODEL is the model editor in one statement: the options pick a template and its
parameters (``sql_model_options``), the SELECT (its text as written, sent to the source) is
the train query, and the predict query is the same SELECT without the label column (written
in the source's dialect; when that cannot be done cleanly, e.g. ``SELECT *``, the train query
itself: prediction ignores the label column; OPTIONS(predict_sql='…') sets it). The model is
saved through ``services.models`` and a version is trained as a run (``services.runs``):
awaited with ``session.wait`` (or when nothing else would run it), else answered with its id.
OR REPLACE saves the new definition over the model's and trains a new version (the
earlier versions stay); IF NOT EXISTS leaves an existing model alone and says so.
"""

from __future__ import annotations

from typing import Any

import sqlglot
from sqlglot import exp
from sqlglot.tokenizer_core import TokenType

from softquery.auth.policy import Action
from softquery.data.source_urls import dialect_of
from softquery.domain import Model, Run, RunKind, RunStatus, RunTrigger, TaskType
from softquery.domain.accounts import Via
from softquery.errors import InvalidInputError, SoftqueryError
from softquery.modelcode.templates import list_templates
from softquery.services.model_settings import FIELD_NAMES
from softquery.services.models import ModelSpec, create_model, delete_model, update_model
from softquery.services.preview import preview_query
from softquery.services.runs import execute_here, follow_run, pick_executor, start_run
from softquery.services.sql_inputs import SOURCE_DIALECTS
from softquery.services.sql_model_options import ModelPlan, plan_model
from softquery.services.sql_queries import source_of
from softquery.services.sql_results import Link, StatementResult
from softquery.services.sql_session import Handler, Session
from softquery.sql.statement_errors import SqlError, sql_error
from softquery.sql.statements import CreateModel, DropModel, ModelRef, Statement

TRIGGERS = {Via.CLI: RunTrigger.CLI, Via.SESSION: RunTrigger.WEB, Via.TOKEN: RunTrigger.API}


def _existing(session: Session, model: ModelRef) -> Model | None:
    return session.ctx.models.find(model.name)


def _message(verb: str, text: str, name: str, **extra: Any) -> StatementResult:
    return StatementResult(statement=0, line=0, column=0, verb=verb, kind="message", message=text,
                           links=[Link("model", model=name)], **extra)


def run_create_model(session: Session, statement: Statement) -> StatementResult:
    assert isinstance(statement, CreateModel)
    name = statement.model.name
    plan = plan_model(statement)  # a bad option is named first, whether or not the model exists
    existing = _existing(session, statement.model)
    if existing is not None and statement.if_not_exists:
        session.require(statement, Action.READ, model=name)
        return _message("create_model", f"model {name} exists already: nothing changed (IF NOT EXISTS).", name)
    if existing is not None and not statement.replace:
        raise statement.where.error(
            f"The model {name} exists already. Write CREATE OR REPLACE MODEL to give it this definition and "
            "train a new version (its versions stay), or choose another name.", _model_token(statement))
    if existing is None:
        session.require(statement, Action.CREATE_MODEL, model=name)
    else:
        session.require(statement, Action.CHANGE_MODEL, model=name, owner_id=existing.owner_id)
    if statement.query is None:
        raise statement.where.error("CREATE MODEL needs AS SELECT …: the rows to train on, label included.")
    source = source_of(session, statement, statement.model.source)
    sources = [s.name for s in session.ctx.sources.list()]
    if source not in sources:
        raise statement.where.error(f"There is no data source {source}.", _model_token(statement), name=source,
                                    known=sources, what="source")
    url = session.ctx.sources.get(source).url
    train_sql = train_query_text(statement)
    _check_train_rows(session, statement, plan, source, train_sql)
    notes = list(plan.notes)
    predict_sql = plan.settings.pop("predict_sql", None)
    if predict_sql is None:
        predict_sql = predict_query(statement.query, plan.label, dialect_of(url))
        if predict_sql is None:
            predict_sql = train_sql
            notes.append("The predict query is the train query (its label column is ignored when predicting); "
                         "set it with OPTIONS(predict_sql='SELECT …') or in the model's editor.")
    spec = ModelSpec(source=source, train_sql=train_sql, predict_sql=predict_sql, label=plan.label or "")
    for field_name, value in {**plan.settings, **_code(plan)}.items():
        setattr(spec, field_name, value)
    try:
        saved = create_model(session.ctx, name, spec) if existing is None else update_model(session.ctx, name, spec)
    except InvalidInputError as exc:  # a setting the model refuses: shown at its option
        raise _at_option(statement, exc) from None
    notes += [f"model code, line {w.line}: {w.message}" if w.line else w.message for w in saved.warnings]
    session.audit(statement, "sql.create_model" if existing is None else "sql.replace_model", "model", name,
                  {"model_type": plan.model_type, "template": plan.template, "source": source})
    result = _train(session, statement, name)
    result.notes = notes + result.notes
    return result


def _check_train_rows(session: Session, statement: CreateModel, plan: ModelPlan, source: str,
                      train_sql: str) -> None:
    """The AS SELECT runs and has the label, checked on one row before anything is saved, so
    that a statement that cannot train leaves no model behind (BigQuery's label default,
    a column named ``label``, is taken here)."""
    preview = preview_query(session.ctx, source, train_sql, what="AS SELECT", limit=1)
    select_token = next((t for t in statement.where.tokens if t.text.upper() == "SELECT"), None)
    if preview.error is not None:
        raise statement.where.error(f"The AS SELECT failed on source {source}: {preview.error['message']}",
                                    select_token)
    columns = preview.column_names
    label_option = statement.options.get("input_label_cols")
    if plan.label is not None and plan.label not in columns:
        raise sql_error(f"The label column {plan.label!r} is not among the AS SELECT's columns.",
                        statement.where.script, label_option.offset if label_option else statement.where.offset,
                        name=plan.label, known=columns, what="column")
    needs_label = next((t.task for t in list_templates() if t.name == plan.template), "") != "clustering"
    if plan.label is None and needs_label:
        if "label" in columns:
            plan.label = "label"
            return
        model_type = statement.options.get("model_type")
        raise sql_error(f"Which column should {plan.model_type} learn to predict? Name it with "
                        f"input_label_cols=['column'] in OPTIONS; the AS SELECT's columns: {', '.join(columns)}.",
                        statement.where.script, model_type.offset if model_type else statement.where.offset)


# a model setting (an error's details["field"], by its name) -> the CREATE MODEL option that sets it
OPTION_OF = {"label": "input_label_cols", "id_columns": "id_columns", "output_table": "output_table",
             "write_mode": "write_mode", "deploy": "deploy", "description": "description",
             "predict_sql": "predict_sql", "time_limit_seconds": "time_limit_seconds",
             "memory_limit_mb": "memory_limit_mb"}


def _at_option(statement: CreateModel, exc: InvalidInputError) -> SqlError:
    setting = FIELD_NAMES.get(str(exc.details.get("field")))
    option = statement.options.get(OPTION_OF.get(setting or "", ""))
    offset = option.offset if option is not None else statement.where.offset
    return sql_error(exc.message, statement.where.script, offset, extra=dict(exc.details))


def _model_token(statement: CreateModel | DropModel) -> Any:
    for token in statement.where.tokens:
        if token.start >= statement.model.offset:
            return token
    return None


def _code(plan: ModelPlan) -> dict[str, Any]:
    """The template, with the options' parameters set in its code: still a template model."""
    return {"template": plan.template, "template_calls": plan.calls or None,
            "template_attributes": plan.attributes or None}


def train_query_text(statement: CreateModel) -> str:
    """The AS SELECT's text as written (the source reads it in its own dialect)."""
    tokens = statement.where.tokens
    depth = 0
    for index, token in enumerate(tokens):
        if token.token_type is TokenType.L_PAREN:
            depth += 1
        elif token.token_type is TokenType.R_PAREN:
            depth -= 1
        elif token.token_type is TokenType.ALIAS and depth == 0 and index + 1 < len(tokens):
            body = tokens[index + 1:]
            if body[0].token_type is TokenType.L_PAREN and body[-1].token_type is TokenType.R_PAREN \
                    and _closes_first(body):
                body = body[1:-1]
            return statement.where.script[body[0].start:body[-1].end + 1]
    raise statement.where.error("CREATE MODEL needs AS SELECT …: the rows to train on, label included.")


def _closes_first(tokens: tuple[Any, ...]) -> bool:
    """Whether the first token's ``(`` is closed by the last token."""
    depth = 0
    for token in tokens[:-1]:
        depth += {TokenType.L_PAREN: 1, TokenType.R_PAREN: -1}.get(token.token_type, 0)
        if depth == 0:
            return False
    return True


def predict_query(query: exp.Expr, label: str | None, source_dialect: str) -> str | None:
    """The train SELECT without its label column, in the source's dialect; None when that cannot be
    done cleanly (no label, ``*`` in the select list, not one plain SELECT, an unknown dialect)."""
    dialect = SOURCE_DIALECTS.get(source_dialect)
    while isinstance(query, exp.Subquery):  # AS (SELECT …)
        query = query.this
    if dialect is None or not isinstance(query, exp.Select) or label is None:
        return None
    if any(isinstance(e, exp.Star) or (isinstance(e, exp.Column) and isinstance(e.this, exp.Star))
           for e in query.expressions):
        return None
    kept = [e for e in query.expressions if e.alias_or_name.lower() != label.lower()]
    if len(kept) == len(query.expressions) or not kept:
        return None
    try:
        trimmed = query.copy()
        trimmed.set("expressions", [e.copy() for e in kept])
        text = trimmed.sql(dialect=dialect)
        sqlglot.parse_one(text, read=dialect)
    except (sqlglot.errors.SqlglotError, ValueError):
        return None
    return text


def _train(session: Session, statement: Statement, name: str) -> StatementResult:
    """Train a version of ``name``: a run, awaited or answered with its id."""
    ctx = session.ctx
    executor = pick_executor(ctx)
    run = start_run(ctx, name, RunKind.TRAIN, TRIGGERS.get(ctx.actor.via, RunTrigger.API), executor)
    links = [Link("model", model=name), Link("run", model=name, run_id=run.id)]
    if executor is not None and not session.wait:
        return StatementResult(statement=0, line=0, column=0, verb="create_model", kind="run",
                               message=f"model {name}: training version in run {run.id} ({executor.name} executor).",
                               run_id=run.id, run_status=run.status.value, links=links)
    if executor is None:  # nobody else would run it: run it here (model code in a sandboxed child)
        run = execute_here(ctx, run.id)
    else:
        run = follow_run(ctx, run.id, lambda _update: None)
    return _trained(statement, name, run, links)


def _trained(statement: Statement, name: str, run: Run, links: list[Link]) -> StatementResult:
    train = run.result.get("train") if run.status is RunStatus.SUCCEEDED else None
    if not train:
        error = run.error_message or f"the run ended {run.status.value}"
        raise SoftqueryError(
            f"Line {statement.where.error('').details['line']}: model {name} was saved, but training it failed "
            f"(run {run.id}): {error}", code=run.error_code or "run_failed",
            details={**run.error_details, "run_id": run.id, "model": name})
    version = int(train["version"])
    metric = TaskType(str(train["task"])).key_metric
    value = train["metrics"].get(metric)
    score = f", {metric} {value:.2f}" if isinstance(value, int | float) else ""
    reason = (train.get("deploy") or {}).get("reason") or "Not activated: the active version scores better."
    state = "" if train.get("activated") else f". {reason}"  # the deploy decision in words (best_score)
    return StatementResult(statement=0, line=0, column=0, verb="create_model", kind="message",
                           message=f"model {name}: version {version} trained{score}{state}",
                           run_id=run.id, run_status=run.status.value,
                           links=[*links, Link("version", model=name, version=version)],
                           notes=[str(n) for n in train.get("notes", [])])


def run_drop_model(session: Session, statement: Statement) -> StatementResult:
    assert isinstance(statement, DropModel)
    name = statement.model.name
    existing = _existing(session, statement.model)
    if existing is None or (statement.model.source and existing.source != statement.model.source):
        if statement.if_exists:
            session.require(statement, Action.READ)
            return _message("drop_model", f"model {statement.model.text()} does not exist: nothing dropped "
                            "(IF EXISTS).", name)
        if existing is not None:
            raise statement.where.error(f"The model {name} reads source {existing.source}, not "
                                        f"{statement.model.source}.", _model_token(statement))
        known = [m.name for m in session.ctx.models.list()]
        raise statement.where.error(f"There is no model {name}.", _model_token(statement), name=name,
                                    known=known, what="model")
    session.require(statement, Action.CHANGE_MODEL, model=name, owner_id=existing.owner_id)
    versions = len(session.ctx.versions.list(name))
    delete_model(session.ctx, name)
    session.audit(statement, "sql.drop_model", "model", name, {"versions": versions})
    return _message("drop_model", f"model {name} dropped, with its {versions} version(s).", name)


HANDLERS: dict[type[Statement], Handler] = {CreateModel: run_create_model, DropModel: run_drop_model}
