"""Only a model's own output table is ever written: a model's tables are reserved when it is saved.

A batch prediction in ``replace`` mode swaps in a new table and ``append`` adds rows, so
pointing a model's output at ``users`` (a source table) or at another model's predictions
would destroy data someone else owns. So:

* saving a model (create, update, duplicate) reserves its output table and its default one
  (``<model>_prediction``), in its source, for its name. A table another model holds is
  refused at once (409 naming that model), so no one can take a table a model not yet
  predicted would write: its default is its own from its creation. A new model whose
  default is already another model's chosen table is refused too: it needs an output table
  of its own or another name. Reservations a model no longer uses are dropped;
* before every batch prediction the trusted side (``predict_spec``) claims the target to
  write it: held by another model, refused; reserved for this model or unclaimed but absent
  from the source, claimed now (the writer will create it); present in the source, refused
  unless this model wrote it before (a succeeded prediction of it names the table) —
  softquery never writes a table it did not create.

A written claim outlives its model: a model made again under the same name gets its table
back. Viewers may read every model, so a refusal names the holder.
"""

from __future__ import annotations

from softquery.data.sinks import open_sink
from softquery.domain import Model, OutputTableClaim, RunKind, RunStatus
from softquery.errors import ConflictError
from softquery.services.context import ServiceContext


def check_target_free(ctx: ServiceContext, model: Model) -> None:
    """Refuse (409) an output table, chosen or default, that another model holds."""
    claim = ctx.output_tables.get(model.source, model.target_table)
    if claim is not None and claim.model != model.name:
        raise _held(model, claim)


def reserve_tables(ctx: ServiceContext, model: Model) -> None:
    """After ``model`` was saved: reserve its output table and its default one, and drop the
    reservations it no longer uses. Raises 409 when another model took the output table
    meanwhile (the caller undoes the save)."""
    model_id = ctx.models.id_of(model.name)
    if not ctx.output_tables.claim(model.source, model.target_table, model_id, model.name, written=False):
        raise _held(model, ctx.output_tables.get(model.source, model.target_table))
    # its default stays its own too (if free), so clearing output_table later always works
    ctx.output_tables.claim(model.source, model.default_table, model_id, model.name, written=False)
    ctx.output_tables.release_unwritten(model.name, keep=[(model.source, model.target_table),
                                                          (model.source, model.default_table)])


def release_tables(ctx: ServiceContext, name: str) -> None:
    """A deleted model's reservations that no prediction wrote are free again."""
    ctx.output_tables.release_unwritten(name)


def claim_target(ctx: ServiceContext, model: Model, source_url: str) -> None:
    """Claim ``model``'s target table before a batch prediction writes it (see module doc)."""
    table = model.target_table
    model_id = ctx.models.id_of(model.name)
    claim = ctx.output_tables.get(model.source, table)
    if claim is not None and claim.model != model.name:
        raise _held(model, claim)
    if claim is not None and claim.written:
        ctx.output_tables.claim(model.source, table, model_id, model.name)  # a re-made model: its id
        return
    if table_exists(source_url, table) and not written_before(ctx, model):
        raise ConflictError(
            f"Table {table!r} already exists in data source {model.source!r} and softquery did not "
            f"create it for model {model.name!r}; softquery only writes tables it created. Choose "
            f"another output table (e.g. {model.default_table}), or drop or rename that table yourself.",
            details={"table": table, "source": model.source, "field": "output_table"})
    if not ctx.output_tables.claim(model.source, table, model_id, model.name):
        raise _held(model, ctx.output_tables.get(model.source, table))


def _held(model: Model, claim: OutputTableClaim | None) -> ConflictError:
    table, source = model.target_table, model.source
    holder = claim.model if claim is not None else "another model"
    how = (f"holds the predictions of model {holder!r}" if claim is None or claim.written
           else f"is reserved as the output table of model {holder!r}")
    details = {"table": table, "source": source, "model": holder, "field": "output_table"}
    if model.output_table is None:
        return ConflictError(
            f"Model {model.name!r} would write its predictions to {table!r}, its default output "
            f"table, but that table in data source {source!r} {how}. Give model {model.name!r} an "
            f"output table of its own (output_table; --output-table on the command line) or "
            f"another name.", details=details)
    return ConflictError(
        f"Table {table!r} in data source {source!r} {how}; a model writes only its own table. "
        f"Choose another output table.", details=details)


def table_exists(source_url: str, table: str) -> bool:
    sink = open_sink(source_url)
    try:
        return sink.columns(table) is not None
    finally:
        sink.close()


def written_before(ctx: ServiceContext, model: Model) -> bool:
    for kind in (RunKind.PREDICT, RunKind.TRAIN_THEN_PREDICT):
        for run in ctx.runs.list(model.name, RunStatus.SUCCEEDED, limit=1000, kind=kind):
            predicted = (run.result or {}).get("predict") or {}
            if predicted.get("table") == model.target_table:
                return True
    return False
