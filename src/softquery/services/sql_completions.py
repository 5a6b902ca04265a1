"""Use case: what the SQL console completes: a source's tables and columns, the models the
user can see, and the statements' functions and words (ML.PREDICT, load, train …)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from softquery.services import source_catalog
from softquery.services.context import ServiceContext
from softquery.services.models import list_models

# BigQuery ML's table functions, as a statement names them
ML_FUNCTIONS = ("ML.PREDICT", "ML.EVALUATE", "ML.FEATURE_IMPORTANCE", "ML.WEIGHTS", "ML.TRAINING_INFO",
                "ML.CONFUSION_MATRIX", "ML.ROC_CURVE")
# the words of the statements softquery adds to SQL (BigQuery ML and MLSQL)
STATEMENT_WORDS = ("CREATE MODEL", "CREATE OR REPLACE MODEL", "OPTIONS", "MODEL", "DROP MODEL",
                   "input_label_cols", "model_type", "load", "train", "register", "predict", "save",
                   "vec_dense")


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
    functions: list[str] = field(default_factory=lambda: list(ML_FUNCTIONS))
    words: list[str] = field(default_factory=lambda: list(STATEMENT_WORDS))
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
