"""ML table functions other than ML.PREDICT: ML.EVALUATE, ML.WEIGHTS, ML.FEATURE_IMPORTANCE …

Each takes the statement's ``MLFunction`` node and answers an Arrow table; the query
planner (``sql_queries``) puts it where the call stood, so it can be joined and filtered."""

from __future__ import annotations

from collections.abc import Callable

import pyarrow as pa

from softquery.services.sql_session import Session
from softquery.sql.dialect import MLFunction
from softquery.sql.statements import Statement

TableFunction = Callable[[Session, Statement, MLFunction], pa.Table]

# upper-case function name (EVALUATE, WEIGHTS, …) -> its implementation
TABLE_FUNCTIONS: dict[str, TableFunction] = {}
