"""MLSQL's ``save [overwrite|append|errorIfExists|ignore] t as table.`SOURCE.name```.

softquery writes a source's tables only with a model's predictions and only through the
batch prediction's writer (``prediction.table_writer``: a staging table swapped in inside
one transaction; ``append`` adds rows in one transaction). So the saved script table must
be the output of ``predict t as ALG.`m` as out`` (it carries the model's name); the table
is claimed for that model exactly as a batch prediction's output table is
(``output_tables``): a table another model holds or reserves is refused, and so is a table
softquery did not create for that model. Saving needs the right to change the model
(its owner, an editor, or an admin). The statement is audited with its text.
"""

from __future__ import annotations

import uuid

import pyarrow as pa

from softquery.auth.policy import Action
from softquery.domain import Model
from softquery.errors import NotFoundError
from softquery.identifiers import check_identifier
from softquery.prediction.table_writer import open_writer
from softquery.services.interrupted_writes import recover_before_write
from softquery.services.output_tables import table_exists, written_before
from softquery.services.sql_results import Link, StatementResult
from softquery.services.sql_rows import writable
from softquery.services.sql_session import Session
from softquery.sql.statements import Save

MODEL_KEY = b"softquery.model"  # schema metadata of a script table made by ``predict``


def with_model(table: pa.Table, model: str) -> pa.Table:
    """``table`` marked as ``model``'s predictions (what ``save … as table.`…``` needs)."""
    return table.replace_schema_metadata({**(table.schema.metadata or {}), MODEL_KEY: model.encode()})


def model_of(table: pa.Table) -> str | None:
    value = (table.schema.metadata or {}).get(MODEL_KEY)
    return value.decode() if value else None


def _error(statement: Save, message: str) -> Exception:
    token = next((t for t in statement.where.tokens if t.text == statement.target), None)
    return statement.where.error(message, token)


def save_table(session: Session, statement: Save, table: pa.Table) -> StatementResult:
    source, _, name = statement.target.rpartition(".")
    if not source:
        source = session.source or ""
    if not source:
        raise _error(statement, "Name the table with its source: table.`source.name`.")
    check_identifier(name, "table name")
    try:
        url = session.ctx.sources.get(source).url
    except NotFoundError:
        raise _error(statement, f"There is no data source {source!r}.") from None
    owner = _owner(session, statement, table)
    session.require(statement, Action.CHANGE_MODEL, model=owner.name, owner_id=owner.owner_id)
    mode = statement.mode.lower()
    exists = table_exists(url, name)
    if exists and mode == "ignore":
        return StatementResult(0, 0, 0, "save", "message", message=f"table {source}.{name} exists; ignore kept it")
    if exists and mode == "errorifexists":
        raise _error(statement, f"Table {name!r} already exists in data source {source!r}; write save overwrite "
                                "(or append) to change it.")
    _claim(session, statement, owner, source, url, name, exists)
    recover_before_write(session.ctx, url)
    written = 0
    writable_table = table.replace_schema_metadata(None)
    with open_writer(url, name, "append" if mode == "append" else "replace",
                     run_id=f"sql_{uuid.uuid4().hex[:12]}") as writer:
        for batch in writable(writable_table).to_batches(max_chunksize=session.ctx.settings.chunk_rows):
            writer.write(batch)
        written = writer.commit()
    session.audit(statement, "table.save", "table", f"{source}.{name}",
                  {"model": owner.name, "rows": written, "mode": mode})
    return StatementResult(0, 0, 0, "save", "message", message=f"table {source}.{name}: {written:,} rows written",
                           row_count=written, links=[Link("table", source=source, table=name),
                                                     Link("model", model=owner.name)])


def _owner(session: Session, statement: Save, table: pa.Table) -> Model:
    model = model_of(table)
    if model is None:
        raise _error(statement, f"softquery writes a source's tables only with a model's predictions: save the "
                                f"table a predict statement made (predict {statement.table} as ALG.`model` as "
                                f"scored; save overwrite scored as table.`{statement.target}`).")
    return session.ctx.models.get(model)


def _claim(session: Session, statement: Save, owner: Model, source: str, url: str, name: str,
           exists: bool) -> None:
    ctx = session.ctx
    claim = ctx.output_tables.get(source, name)
    if claim is not None and claim.model != owner.name:
        how = "holds the predictions of" if claim.written else "is reserved as the output table of"
        raise _error(statement, f"Table {name!r} in data source {source!r} {how} model {claim.model!r}; a model "
                                "writes only its own tables. Choose another table name.")
    mine = (claim is not None and claim.written) or (owner.target_table == name and written_before(ctx, owner))
    if exists and not mine:
        raise _error(statement, f"Table {name!r} already exists in data source {source!r} and softquery did not "
                                f"create it for model {owner.name!r}; softquery only writes tables it created.")
    if not ctx.output_tables.claim(source, name, ctx.models.id_of(owner.name), owner.name):
        raise _error(statement, f"Table {name!r} in data source {source!r} was just claimed by model "
                                f"{ctx.output_tables.holder(source, name)!r}; choose another table name.")


