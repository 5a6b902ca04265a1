"""Output tables are reserved when a model is saved, not at its first prediction: a claim
says whether a prediction wrote the table yet (``written``), and every existing model gets
its default table (``<model>_prediction``) and its chosen one reserved, where still free.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-05
"""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

models = sa.table("models", sa.column("id", sa.Integer), sa.column("name", sa.String),
                  sa.column("source", sa.String), sa.column("output_table", sa.String))
claims = sa.table("output_tables", sa.column("source", sa.String), sa.column("table_name", sa.String),
                  sa.column("model_id", sa.Integer), sa.column("model_name", sa.String),
                  sa.column("claimed_at", sa.DateTime(timezone=True)), sa.column("written", sa.Boolean))


def upgrade() -> None:
    # claims made so far were made by batch predictions just before they wrote
    op.add_column("output_tables", sa.Column("written", sa.Boolean, nullable=False, server_default=sa.true()))
    conn = op.get_bind()
    rows = conn.execute(sa.select(models.c.id, models.c.name, models.c.source, models.c.output_table)
                        .order_by(models.c.id)).all()
    held = {(r.source, r.table_name) for r in conn.execute(sa.select(claims.c.source, claims.c.table_name))}
    now = datetime.now(UTC)
    # every model's own default first: where another model chose that name, the name's model keeps it
    wanted = [(r, f"{r.name}_prediction") for r in rows] + [(r, r.output_table) for r in rows if r.output_table]
    for row, table in wanted:
        if (row.source, table) in held:
            continue
        held.add((row.source, table))
        conn.execute(sa.insert(claims).values(source=row.source, table_name=table, model_id=row.id,
                                              model_name=row.name, claimed_at=now, written=False))


def downgrade() -> None:
    op.execute(sa.delete(claims).where(claims.c.written == sa.false()))
    with op.batch_alter_table("output_tables") as batch:
        batch.drop_column("written")
