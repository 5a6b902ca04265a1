"""Only a model's own output table is ever written: a model claims the table it creates.

A batch prediction in ``replace`` mode swaps in a new table and ``append`` adds rows, so
pointing a model's output at ``users`` (a source table) or at another model's predictions
would destroy data someone else owns. Before every batch prediction the trusted side
(``predict_spec``) claims the target for the model:

* claimed by this model: fine;
* claimed by another model: refused;
* unclaimed and absent from the source: claimed now (the writer will create it);
* unclaimed but present: refused, unless this model wrote it before claims existed (a
  succeeded prediction of this model names it) — softquery never writes a table it did
  not create.

Model create/update refuse a target another model holds, so the analyst hears it at once.
A claim outlives its model: a model made again under the same name gets its table back.
"""

from __future__ import annotations

from softquery.data.sinks import open_sink
from softquery.domain import Model, RunKind, RunStatus
from softquery.errors import ConflictError
from softquery.services.context import ServiceContext


def check_target_free(ctx: ServiceContext, model: Model) -> None:
    """Refuse (409) a target table that holds another model's predictions."""
    holder = ctx.output_tables.holder(model.source, model.target_table)
    if holder is not None and holder != model.name:
        raise _held(model, holder)


def claim_target(ctx: ServiceContext, model: Model, source_url: str) -> None:
    """Claim ``model``'s target table before a batch prediction writes it (see module doc)."""
    table = model.target_table
    holder = ctx.output_tables.holder(model.source, table)
    if holder == model.name:
        ctx.output_tables.claim(model.source, table, ctx.models.id_of(model.name), model.name)  # re-made model
        return
    if holder is not None:
        raise _held(model, holder)
    if _exists(source_url, table) and not _written_before(ctx, model):
        raise ConflictError(
            f"Table {table!r} already exists in data source {model.source!r} and softquery did not "
            f"create it for model {model.name!r}; softquery only writes tables it created. Choose "
            f"another output table (e.g. {model.name}_prediction), or drop or rename that table yourself.",
            details={"table": table, "source": model.source, "field": "output_table"})
    if not ctx.output_tables.claim(model.source, table, ctx.models.id_of(model.name), model.name):
        holder = ctx.output_tables.holder(model.source, table) or "another model"
        raise _held(model, holder)


def _held(model: Model, holder: str) -> ConflictError:
    return ConflictError(
        f"Table {model.target_table!r} in data source {model.source!r} holds the predictions of model "
        f"{holder!r}; a model writes only its own table. Choose another output table.",
        details={"table": model.target_table, "source": model.source, "model": holder,
                 "field": "output_table"})


def _exists(source_url: str, table: str) -> bool:
    sink = open_sink(source_url)
    try:
        return sink.columns(table) is not None
    finally:
        sink.close()


def _written_before(ctx: ServiceContext, model: Model) -> bool:
    for kind in (RunKind.PREDICT, RunKind.TRAIN_THEN_PREDICT):
        for run in ctx.runs.list(model.name, RunStatus.SUCCEEDED, limit=1000, kind=kind):
            predicted = (run.result or {}).get("predict") or {}
            if predicted.get("table") == model.target_table:
                return True
    return False
