"""Each user's SQL history: the scripts they ran in the SQL console or over POST /api/v1/sql.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "sql_history",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("source", sa.String(63)),
        sa.Column("sql", sa.Text, nullable=False),
        sa.Column("statements", sa.Integer, nullable=False),
        sa.Column("error", sa.Text),
        sa.Column("seconds", sa.Float, nullable=False),
    )
    op.create_index("ix_sql_history_user_at", "sql_history", ["user_id", "at"])


def downgrade() -> None:
    op.drop_index("ix_sql_history_user_at", table_name="sql_history")
    op.drop_table("sql_history")
