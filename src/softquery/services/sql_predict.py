"""Predictions for SQL statements: rows in (Arrow), predictions out, model code only in an isolated child."""

from __future__ import annotations

import pyarrow as pa

from softquery.services.sql_session import Session
from softquery.sql.statements import ModelRef, Statement


def predict_table(session: Session, statement: Statement, model: ModelRef, rows: pa.Table) -> pa.Table:
    """``rows`` with the model's predictions added (BigQuery's ``predicted_<label>`` columns).

    The active version of ``model`` runs in an isolated child (never unpickled here)."""
    raise NotImplementedError("predict_table: written by the ML.PREDICT work (issue 13)")
