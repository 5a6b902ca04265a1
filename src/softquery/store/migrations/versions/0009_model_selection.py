"""Model selection settings of a model: cross-validation folds, the order column of ordered
folds, a hyperparameter search, and the time budget of a search or of AutoML.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

COLUMNS = ("cv_folds", "order_column", "search", "time_budget_seconds")


def upgrade() -> None:
    with op.batch_alter_table("models") as batch:
        batch.add_column(sa.Column("cv_folds", sa.Integer))
        batch.add_column(sa.Column("order_column", sa.String(63)))
        batch.add_column(sa.Column("search", sa.JSON))
        batch.add_column(sa.Column("time_budget_seconds", sa.Integer))


def downgrade() -> None:
    # ALTER TABLE … DROP COLUMN, never a copy of the table: on SQLite a copy drops the old
    # models table, and its versions, runs and schedules would go with it (ON DELETE CASCADE)
    with op.batch_alter_table("models", recreate="never") as batch:
        for name in reversed(COLUMNS):
            batch.drop_column(name)
