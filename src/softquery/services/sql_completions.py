"""Use case: what the SQL console completes: a source's tables and columns, the models the
user can see, and the statements' functions and words (ML.PREDICT, load, train …).

The ML functions and CREATE MODEL's OPTIONS names (those that apply to each model type) and
the values of the options that take one of a few (model types, write modes …) come from the
services that run them (``sql_ml_functions``, ``sql_model_options``), so the console offers
exactly what a statement may use."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from softquery.services import source_catalog, sql_ml_functions, sql_model_options
from softquery.services.context import ServiceContext
from softquery.services.models import list_models

# the words of the statements softquery adds to SQL (BigQuery ML and MLSQL); OPTIONS' names
# are ``Completions.options``
STATEMENT_WORDS = ("CREATE MODEL", "CREATE OR REPLACE MODEL", "OPTIONS", "MODEL", "DROP MODEL",
                   "load", "train", "register", "predict", "save", "vec_dense")


@dataclass
class CompletionTable:
    name: str
    sql_name: str
    columns: list[str]  # sql names


@dataclass
class Completions:
    source: str | None
    tables: list[CompletionTable] = field(default_factory=list)
    models: list[str] = field(default_factory=list)
    functions: list[str] = field(default_factory=lambda: list(sql_ml_functions.function_names()))
    words: list[str] = field(default_factory=lambda: list(STATEMENT_WORDS))
    options: list[str] = field(default_factory=lambda: list(sql_model_options.known_options()))
    model_types: list[str] = field(default_factory=lambda: list(sql_model_options.model_types()))
    # the options that apply to each model type, and the values of the options that take one of a few
    type_options: dict[str, list[str]] = field(default_factory=lambda: {
        t: list(sql_model_options.options_for(t)) for t in sql_model_options.model_types()})
    option_values: dict[str, list[str]] = field(default_factory=lambda: {
        k: list(v) for k, v in sql_model_options.option_values().items()})
    error: dict[str, Any] | None = None  # the source could not be read (the models still complete)


def completions(ctx: ServiceContext, source: str | None) -> Completions:
    """Names to complete in a script over ``source`` (tables only when one is chosen)."""
    found = Completions(source=source, models=sorted(m.name for m in list_models(ctx)))
    if source:
        catalog = source_catalog.describe_source(ctx, source, count_budget=0.0)
        found.error = catalog.error
        found.tables = [CompletionTable(t.name, t.sql_name, [c.sql_name for c in t.columns])
                        for t in catalog.tables]
    return found
