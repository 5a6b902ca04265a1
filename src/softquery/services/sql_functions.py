"""MLSQL's registered functions (``register ALG.`NAME` as fn``): fn -> model.

A registration lasts: it is kept in the metadata DB (``sql_functions``, migration 0007), so
``fn(…)`` works in later statements of the script (``session.functions``), in later scripts,
and in ``POST /model/predict`` (``select fn(vec_dense(features)) as p``). A model's own name
is always callable too; a function named like a model calls that model.
"""

from __future__ import annotations

from softquery.services.context import ServiceContext
from softquery.store.sql_functions_repo import SqlFunctionRepository


def registry(ctx: ServiceContext) -> SqlFunctionRepository:
    return SqlFunctionRepository(ctx.engine)


def model_called(ctx: ServiceContext, name: str) -> str:
    """The model a call ``name(…)`` predicts with: a model of that name, else a registered function's."""
    if _exists(ctx, name):
        return name
    return registry(ctx).get(name) or name


def _exists(ctx: ServiceContext, name: str) -> bool:
    from softquery.errors import NotFoundError

    try:
        ctx.models.get(name)
    except NotFoundError:
        return False
    return True


def register_function(ctx: ServiceContext, name: str, model: str) -> str | None:
    """Keep ``name`` -> ``model``; the model it called before, if any."""
    return registry(ctx).put(name, model, ctx.actor.user_id)


def registered_functions(ctx: ServiceContext) -> dict[str, str]:
    return registry(ctx).all()
