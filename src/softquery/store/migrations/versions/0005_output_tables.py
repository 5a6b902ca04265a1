"""Output tables: which model's predictions a table of a source holds (only that model
may write it; softquery never writes a table it did not create).

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "output_tables",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("source", sa.String(63), nullable=False),
        sa.Column("table_name", sa.String(63), nullable=False),
        sa.Column("model_id", sa.Integer, sa.ForeignKey("models.id", ondelete="SET NULL")),
        sa.Column("model_name", sa.String(63), nullable=False),
        sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("source", "table_name", name="uq_output_tables_source_table"),
    )


def downgrade() -> None:
    op.drop_table("output_tables")
