"""Repository of model definitions."""

from __future__ import annotations

import builtins
from typing import Any

from sqlalchemy import Engine, delete, insert, select, update
from sqlalchemy.engine import RowMapping
from sqlalchemy.exc import IntegrityError

from softquery.clock import as_utc, utcnow
from softquery.domain import DeployStrategy, Model, RunKind, WriteMode
from softquery.errors import AlreadyExistsError, NotFoundError
from softquery.store.database import write_tx
from softquery.store.tables import models, users

# every model with its owner's username
SELECT_MODELS = select(models, users.c.username.label("owner_name")).select_from(
    models.outerjoin(users, models.c.owner_id == users.c.id))

EDITABLE = (
    "description", "source", "code", "template", "train_sql", "predict_sql", "label",
    "id_columns", "output_table", "write_mode", "deploy", "schedule", "schedule_action",
    "schedule_timezone", "schedule_since", "time_limit_seconds", "memory_limit_mb",
    "cv_folds", "order_column", "search", "time_budget_seconds",
)


def _entity(row: RowMapping) -> Model:
    return Model(
        name=row["name"],
        description=row["description"] or "",
        source=row["source"],
        code=row["code"],
        template=row["template"],
        train_sql=row["train_sql"],
        predict_sql=row["predict_sql"],
        label=row["label"],
        id_columns=list(row["id_columns"]) if row["id_columns"] is not None else None,
        output_table=row["output_table"],
        write_mode=WriteMode(row["write_mode"]),
        deploy=DeployStrategy(row["deploy"]),
        active_version=row["active_version"],
        schedule=row["schedule"],
        schedule_action=RunKind(row["schedule_action"]) if row["schedule_action"] else None,
        schedule_timezone=row["schedule_timezone"],
        schedule_since=as_utc(row["schedule_since"]),
        time_limit_seconds=row["time_limit_seconds"],
        memory_limit_mb=row["memory_limit_mb"],
        cv_folds=row["cv_folds"],
        order_column=row["order_column"],
        search=dict(row["search"]) if row["search"] is not None else None,
        time_budget_seconds=row["time_budget_seconds"],
        created_at=as_utc(row["created_at"]),
        updated_at=as_utc(row["updated_at"]),
        owner_id=row["owner_id"],
        owner=row["owner_name"],
    )


def _values(model: Model) -> dict[str, Any]:
    return {
        "description": model.description,
        "source": model.source,
        "code": model.code,
        "template": model.template,
        "train_sql": model.train_sql,
        "predict_sql": model.predict_sql,
        "label": model.label,
        "id_columns": model.id_columns,
        "output_table": model.output_table,
        "write_mode": model.write_mode.value,
        "deploy": model.deploy.value,
        "schedule": model.schedule,
        "schedule_action": model.schedule_action.value if model.schedule_action else None,
        "schedule_timezone": model.schedule_timezone,
        "schedule_since": model.schedule_since,
        "time_limit_seconds": model.time_limit_seconds,
        "memory_limit_mb": model.memory_limit_mb,
        "cv_folds": model.cv_folds,
        "order_column": model.order_column,
        "search": model.search,
        "time_budget_seconds": model.time_budget_seconds,
    }


class ModelRepository:
    def __init__(self, engine: Engine):
        self.engine = engine

    def add(self, model: Model) -> Model:
        now = utcnow()
        try:
            with write_tx(self.engine) as conn:
                conn.execute(
                    insert(models).values(
                        name=model.name, next_version=1, created_at=now, updated_at=now,
                        owner_id=model.owner_id, **_values(model)
                    )
                )
        except IntegrityError as exc:
            raise AlreadyExistsError(
                f"A model named {model.name!r} already exists; choose another name "
                "or change the existing one with `softquery model update`.",
                details={"model": model.name},
            ) from exc
        return self.get(model.name)

    def save(self, model: Model) -> Model:
        """Write back every editable field of an existing model."""
        with write_tx(self.engine) as conn:
            result = conn.execute(
                update(models).where(models.c.name == model.name).values(updated_at=utcnow(), **_values(model))
            )
        if result.rowcount == 0:
            raise self._missing(model.name)
        return self.get(model.name)

    def get(self, name: str) -> Model:
        found = self.find(name)
        if found is None:
            raise self._missing(name)
        return found

    def find(self, name: str) -> Model | None:
        """The model ``name``, or None when there is none (``get`` raises NotFoundError)."""
        with self.engine.connect() as conn:
            row = conn.execute(SELECT_MODELS.where(models.c.name == name)).mappings().first()
        return None if row is None else _entity(row)

    def id_of(self, name: str) -> int:
        with self.engine.connect() as conn:
            model_id = conn.execute(select(models.c.id).where(models.c.name == name)).scalar()
        if model_id is None:
            raise self._missing(name)
        return int(model_id)

    def list(self) -> list[Model]:
        with self.engine.connect() as conn:
            rows = conn.execute(SELECT_MODELS.order_by(models.c.name)).mappings().all()
        return [_entity(r) for r in rows]

    def delete(self, name: str) -> None:
        with write_tx(self.engine) as conn:
            result = conn.execute(delete(models).where(models.c.name == name))
        if result.rowcount == 0:
            raise self._missing(name)

    def set_active_version(self, name: str, version: int | None) -> None:
        with write_tx(self.engine) as conn:
            conn.execute(update(models).where(models.c.name == name).values(active_version=version))

    def set_owner(self, name: str, user_id: int | None) -> None:
        with write_tx(self.engine) as conn:
            result = conn.execute(update(models).where(models.c.name == name).values(owner_id=user_id))
        if result.rowcount == 0:
            raise self._missing(name)

    def uses_source(self, source: str) -> builtins.list[str]:
        with self.engine.connect() as conn:
            return list(conn.execute(select(models.c.name).where(models.c.source == source)).scalars())

    @staticmethod
    def _missing(name: str) -> NotFoundError:
        return NotFoundError(
            f"There is no model named {name!r}. See `softquery model list`.", details={"model": name}
        )
