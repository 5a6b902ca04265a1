"""``CREATE [OR REPLACE] TABLE [source.]t AS SELECT … FROM ML.PREDICT(…)``: predictions into a table.

The SELECT is planned like any query (``sql_queries.evaluate``) and must predict (an
ML.PREDICT or a model call): softquery writes a source's tables only with predictions, and
only through the batch prediction's writer (``prediction.table_writer``: a staging table
swapped in inside one transaction, so readers see the old table or the new one and a
failure leaves the old one as it was). The rows are computed before anything is written.

The same guarantees as a batch prediction's output table: writing needs editor rights on
every model the SELECT uses (``Action.CHANGE_MODEL``); the table is claimed for the first of
them (``output_tables``), so a table another model holds or reserves is refused, and so is a
table softquery did not create (a source's own ``users``); an existing table needs
``OR REPLACE``. The statement is audited with its text.
"""

from __future__ import annotations

import uuid

from sqlglot import exp

from softquery.auth.policy import Action
from softquery.domain import Model
from softquery.errors import NotFoundError
from softquery.identifiers import check_identifier
from softquery.prediction.table_writer import open_writer
from softquery.services.interrupted_writes import recover_before_write
from softquery.services.output_tables import table_exists, written_before
from softquery.services.sql_model_calls import callable_names, model_calls
from softquery.services.sql_model_child import warm_up
from softquery.services.sql_queries import evaluate
from softquery.services.sql_results import Link, StatementResult
from softquery.services.sql_rows import source_of, writable
from softquery.services.sql_session import Handler, Session
from softquery.sql.dialect import MLFunction
from softquery.sql.statements import CreateTable, Statement


def _models(session: Session, statement: CreateTable) -> list[Model]:
    names = callable_names(session)
    used = [node.args["model"].name for node in statement.query.find_all(MLFunction)
            if node.name.upper() == "PREDICT"]
    used += [names[str(node.this).lower()] for node in model_calls(session, statement.query, names)]
    models: list[Model] = []
    for name in dict.fromkeys(used):
        try:
            models.append(session.ctx.models.get(name))
        except NotFoundError:
            continue  # the SELECT's own planning names it with a suggestion
    return models


def _table_token(statement: CreateTable) -> object:
    for token in statement.where.tokens:
        if token.text.strip('`"') == statement.table:
            return token
    return None


def _error(statement: CreateTable, message: str) -> Exception:
    token = _table_token(statement)
    return statement.where.error(message, token)  # type: ignore[arg-type]


def _check_claim(session: Session, statement: CreateTable, owner: Model, source: str, url: str) -> None:
    """The table is free for ``owner``'s predictions (see the module docstring)."""
    ctx, table = session.ctx, statement.table
    claim = ctx.output_tables.get(source, table)
    if claim is not None and claim.model != owner.name:
        how = "holds the predictions of" if claim.written else "is reserved as the output table of"
        raise _error(statement, f"Table {table!r} in data source {source!r} {how} model {claim.model!r}; "
                                "a model writes only its own tables. Choose another table name.")
    exists = table_exists(url, table)
    if exists and not statement.replace:
        raise _error(statement, f"Table {table!r} already exists in data source {source!r}. Write CREATE OR "
                                "REPLACE TABLE to replace it with the new predictions.")
    mine = claim is not None and claim.written or (owner.target_table == table and written_before(ctx, owner))
    if exists and not mine:
        raise _error(statement, f"Table {table!r} already exists in data source {source!r} and softquery did "
                                f"not create it for model {owner.name!r}; softquery only writes tables it created. "
                                "Choose another table name.")
    if not ctx.output_tables.claim(source, table, ctx.models.id_of(owner.name), owner.name):
        holder = ctx.output_tables.holder(source, table)
        raise _error(statement, f"Table {table!r} in data source {source!r} was just claimed by model "
                                f"{holder!r}; choose another table name.")


def run_create_table(session: Session, statement: Statement) -> StatementResult:
    assert isinstance(statement, CreateTable)
    check_identifier(statement.table, "table name")
    models = _models(session, statement)
    if not models and not next(statement.query.find_all(MLFunction, exp.Anonymous), None):
        raise _error(statement, "CREATE TABLE … AS writes predictions: its SELECT must use ML.PREDICT(MODEL m, "
                                "…) or call a model, m(col, …). softquery does not copy a source's own tables.")
    for model in models:
        session.require(statement, Action.CHANGE_MODEL, model=model.name, owner_id=model.owner_id)
    warm_up()
    rows = evaluate(session, statement, statement.query, source=statement.source)  # before any write
    if not models:
        raise _error(statement, "CREATE TABLE … AS writes predictions: its SELECT must use ML.PREDICT or a "
                                "model call.")
    owner = models[0]
    source = source_of(session, statement, statement.source or session.source or owner.source)
    url = session.ctx.sources.get(source).url
    _check_claim(session, statement, owner, source, url)
    recover_before_write(session.ctx, url)
    written = 0
    if rows.num_rows:
        with open_writer(url, statement.table, "replace", run_id=f"sql_{uuid.uuid4().hex[:12]}") as writer:
            for batch in writable(rows).to_batches(max_chunksize=session.ctx.settings.chunk_rows):
                writer.write(batch)
            written = writer.commit()
    session.audit(statement, "table.create", "table", f"{source}.{statement.table}",
                  {"models": [m.name for m in models], "rows": written, "replace": statement.replace})
    message = (f"table {source}.{statement.table}: {written:,} rows written" if rows.num_rows else
               f"table {source}.{statement.table}: the SELECT returned no rows; nothing was written")
    return StatementResult(statement=0, line=0, column=0, verb="create_table", kind="message", message=message,
                           row_count=written,
                           links=[Link(kind="table", source=source, table=statement.table),
                                  *[Link(kind="model", model=m.name) for m in models]])


HANDLERS: dict[type[Statement], Handler] = {CreateTable: run_create_table}
