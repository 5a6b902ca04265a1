"""Use case: the demo data source with sample tables and one example model each."""

from __future__ import annotations

from dataclasses import dataclass, field

from softquery.demo.demo_models import DEMO_MODELS
from softquery.demo.demo_tables import write_demo_database
from softquery.errors import AlreadyExistsError, NotFoundError
from softquery.services.context import ServiceContext
from softquery.services.models import ModelSpec, create_model
from softquery.services.sources import add_source

DEMO_SOURCE = "demo"


@dataclass
class DemoResult:
    source: str
    path: str
    tables: dict[str, int] = field(default_factory=dict)
    models: list[str] = field(default_factory=list)
    created: bool = True


def demo_exists(ctx: ServiceContext) -> bool:
    try:
        ctx.sources.get(DEMO_SOURCE)
    except NotFoundError:
        return False
    return True


def create_demo(ctx: ServiceContext) -> DemoResult:
    path = ctx.settings.home / "demo.db"
    if demo_exists(ctx):
        raise AlreadyExistsError(
            f"The demo source already exists ({path}). Remove it with `softquery source remove demo` "
            "after deleting its models, or use `softquery demo --if-needed`.",
        )
    tables = write_demo_database(path) if not path.exists() else {}
    add_source(ctx, DEMO_SOURCE, f"sqlite:///{path}")
    result = DemoResult(source=DEMO_SOURCE, path=str(path), tables=tables)
    for spec in DEMO_MODELS:
        name = str(spec["name"])
        try:
            create_model(ctx, name, ModelSpec(
                source=DEMO_SOURCE,
                template=str(spec["template"]),
                train_sql=str(spec["train_sql"]),
                predict_sql=str(spec["predict_sql"]),
                label=spec.get("label"),  # type: ignore[arg-type]
                id_columns=spec.get("id_columns"),  # type: ignore[arg-type]
                description=str(spec.get("description") or ""),
            ))
        except AlreadyExistsError:
            continue
        result.models.append(name)
    return result
