"""Jobs and schedules: run heartbeats and stop requests, executors, schedule slots.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("models") as batch:
        batch.add_column(sa.Column("schedule", sa.String(100)))
        batch.add_column(sa.Column("schedule_action", sa.String(20)))
        batch.add_column(sa.Column("schedule_timezone", sa.String(64)))
        batch.add_column(sa.Column("schedule_since", TZ))
        batch.add_column(sa.Column("time_limit_seconds", sa.Integer))
        batch.add_column(sa.Column("memory_limit_mb", sa.Integer))
    with op.batch_alter_table("runs") as batch:
        batch.add_column(sa.Column("heartbeat_at", TZ))
        batch.add_column(sa.Column("stop_requested_at", TZ))
        batch.add_column(sa.Column("worker", sa.String(200)))
        batch.add_column(sa.Column("scheduled_for", TZ))
    op.create_table(
        "schedule_fires",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("model_id", sa.Integer, sa.ForeignKey("models.id", ondelete="CASCADE"), nullable=False),
        sa.Column("slot_at", TZ, nullable=False),
        sa.Column("run_id", sa.String(32)),
        sa.Column("created_at", TZ, nullable=False),
        sa.UniqueConstraint("model_id", "slot_at", name="uq_schedule_fires_model_slot"),
    )
    op.create_table(
        "executors",
        sa.Column("id", sa.String(200), primary_key=True),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("started_at", TZ, nullable=False),
        sa.Column("heartbeat_at", TZ, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("executors")
    op.drop_table("schedule_fires")
    with op.batch_alter_table("runs") as batch:
        for name in ("scheduled_for", "worker", "stop_requested_at", "heartbeat_at"):
            batch.drop_column(name)
    with op.batch_alter_table("models") as batch:
        for name in ("memory_limit_mb", "time_limit_seconds", "schedule_since", "schedule_timezone", "schedule_action", "schedule"):
            batch.drop_column(name)
