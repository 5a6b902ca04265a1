"""The typed statements a script parses into: the contract between the grammar and the use cases.

Every statement keeps its ``StatementText`` (``where``) so that an error found while
running it (an unknown model, a column that does not exist) is shown at its line and
column like a syntax error: ``statement.where.error(message, token)``.

BigQuery ML forms and plain SELECTs carry a sqlglot expression (parsed in softquery's
dialect, ``dialect.py``); ML table functions inside a query are ``MLFunction`` nodes
(see ``dialect.py``). MLSQL forms carry their parts as plain values.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlglot import exp

from softquery.sql.script import StatementText


@dataclass(frozen=True)
class HparamRange:
    """BigQuery's ``HPARAM_RANGE(low, high)``: a hyperparameter searched between two numbers."""

    low: float
    high: float


@dataclass(frozen=True)
class HparamCandidates:
    """BigQuery's ``HPARAM_CANDIDATES([v1, v2, ...])``: a hyperparameter searched over these values."""

    values: list[Any]


OptionValue = str | int | float | bool | list[Any] | HparamRange | HparamCandidates | None


@dataclass(frozen=True)
class Option:
    value: OptionValue
    offset: int  # where the option's name is in the script (for errors)


@dataclass(frozen=True)
class ModelRef:
    """``model`` or ``source.model`` (BigQuery's dataset.model: the dataset is a source)."""

    name: str
    source: str | None
    offset: int

    def text(self) -> str:
        return f"{self.source}.{self.name}" if self.source else self.name


@dataclass(frozen=True)
class Statement:
    where: StatementText

    @property
    def verb(self) -> str:
        """What the statement does, for results and the audit log."""
        return type(self).__name__


# --- SQL and BigQuery ML -----------------------------------------------------------------

@dataclass(frozen=True)
class Query(Statement):
    """A SELECT (or UNION ...): over the source, over the script's tables, with ML
    table functions (``MLFunction`` nodes) and model calls (``fn(col, …)``) inside."""

    expression: exp.Expr
    # MLSQL's ``select … from t as out;``: the name the result is kept under in the script
    output: str | None = None


@dataclass(frozen=True)
class CreateModel(Statement):
    model: ModelRef
    replace: bool
    if_not_exists: bool
    options: dict[str, Option]  # lower-case option name -> value
    query: exp.Expr | None  # the AS SELECT (the train query); None: no AS clause


@dataclass(frozen=True)
class DropModel(Statement):
    model: ModelRef
    if_exists: bool


@dataclass(frozen=True)
class CreateTable(Statement):
    """``CREATE [OR REPLACE] TABLE [source.]t AS SELECT … FROM ML.PREDICT(…)``."""

    table: str
    source: str | None
    replace: bool
    query: exp.Expr


# --- MLSQL -----------------------------------------------------------------------------

@dataclass(frozen=True)
class Load(Statement):
    """``load FORMAT.`PATH` [where k="v" and …] as t``; FORMAT may be a source's name."""

    format: str
    path: str
    options: dict[str, Option]
    table: str


@dataclass(frozen=True)
class Train(Statement):
    """``train t as ALG.`NAME` [where …]``."""

    table: str
    algorithm: str
    model: str  # the backtick NAME as written (a path such as /tmp/model1 is mapped by the use case)
    options: dict[str, Option]


@dataclass(frozen=True)
class Register(Statement):
    """``register ALG.`NAME` as fn [where …]``."""

    algorithm: str
    model: str
    function: str
    options: dict[str, Option] = field(default_factory=dict)


@dataclass(frozen=True)
class Predict(Statement):
    """``predict t as ALG.`NAME` [as out]``."""

    table: str
    algorithm: str
    model: str
    output: str | None


@dataclass(frozen=True)
class Save(Statement):
    """``save [overwrite|append|errorIfExists|ignore] t as FORMAT.`TARGET` [where …]``."""

    mode: str
    table: str
    format: str  # "table" (TARGET is SOURCE.name), csv, parquet, json
    target: str
    options: dict[str, Option]


@dataclass(frozen=True)
class SetVariable(Statement):
    """MLSQL's ``set name = "value"``: a ``${name}`` for the rest of the script."""

    name: str
    value: str
