"""MLSQL's registered functions (``register ALG.`NAME` as fn``): fn -> model.

A registration lasts: it is kept in the metadata DB (``sql_functions``, migration 0007), so
``fn(…)`` works in later statements of the script (``session.functions``), in later scripts,
and in ``POST /model/predict`` (``select fn(vec_dense(features)) as p``). A model's own name
is always callable too; a function named like a model calls that model.
"""

from __future__ import annotations

from softquery.domain import Role
from softquery.errors import ConflictError, PermissionDeniedError
from softquery.services.context import ServiceContext
from softquery.store.sql_functions_repo import SqlFunctionRepository


def registry(ctx: ServiceContext) -> SqlFunctionRepository:
    return SqlFunctionRepository(ctx.engine)


def model_called(ctx: ServiceContext, name: str) -> str:
    """The model a call ``name(…)`` predicts with: a model of that name, else a registered function's."""
    if ctx.models.find(name) is not None:
        return name
    return registry(ctx).get(name) or name




def register_function(ctx: ServiceContext, name: str, model: str) -> str | None:
    """Keep ``name`` -> ``model``; the model it called before, if any.

    A name another user registered stays theirs (an admin may take it over): otherwise an
    editor could point someone's ``POST /model/predict`` calls at their own model. A model's
    name calls that model; a function of that name may only call it too."""
    if name.lower() != model.lower() and ctx.models.find(name) is not None:
        raise ConflictError(f"{name!r} is the name of a model, and calling it calls that model; register "
                            "the function under another name.", details={"function": name})
    taken, owner = registry(ctx).owner(name)
    if taken and owner != ctx.actor.user_id and ctx.actor.role is not Role.ADMIN:
        raise PermissionDeniedError(f"The function {name!r} was registered by another user; choose another "
                                    "name, or ask an admin.", details={"function": name})
    return registry(ctx).put(name, model, ctx.actor.user_id)


def registered_functions(ctx: ServiceContext) -> dict[str, str]:
    return registry(ctx).all()
