"""Initial schema: sources, models, versions, artifacts, runs.

Revision ID: 0001
Revises:
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "sources",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.String(63), nullable=False, unique=True),
        sa.Column("url", sa.Text, nullable=False),
        sa.Column("created_at", TZ, nullable=False),
    )
    op.create_table(
        "models",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.String(63), nullable=False, unique=True),
        sa.Column("description", sa.Text, nullable=False),
        sa.Column("source", sa.String(63), nullable=False),
        sa.Column("code", sa.Text, nullable=False),
        sa.Column("template", sa.String(100)),
        sa.Column("train_sql", sa.Text, nullable=False),
        sa.Column("predict_sql", sa.Text, nullable=False),
        sa.Column("label", sa.String(63)),
        sa.Column("id_columns", sa.JSON),
        sa.Column("output_table", sa.String(63)),
        sa.Column("write_mode", sa.String(20), nullable=False),
        sa.Column("deploy", sa.String(20), nullable=False),
        sa.Column("active_version", sa.Integer),
        sa.Column("next_version", sa.Integer, nullable=False),
        sa.Column("created_at", TZ, nullable=False),
        sa.Column("updated_at", TZ, nullable=False),
    )
    op.create_table(
        "versions",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("model_id", sa.Integer, sa.ForeignKey("models.id", ondelete="CASCADE"), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("created_at", TZ, nullable=False),
        sa.Column("run_id", sa.String(32)),
        sa.Column("manifest", sa.JSON, nullable=False),
        sa.Column("signature", sa.String(64), nullable=False),
        sa.Column("artifact_sha256", sa.String(64), nullable=False),
        sa.Column("artifact_size", sa.Integer, nullable=False),
        sa.UniqueConstraint("model_id", "version", name="uq_versions_model_version"),
        sa.UniqueConstraint("run_id", name="uq_versions_run"),
    )
    op.create_table(
        "artifacts",
        sa.Column("version_id", sa.Integer, sa.ForeignKey("versions.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("data", sa.LargeBinary, nullable=False),
    )
    op.create_table(
        "runs",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("model_id", sa.Integer, sa.ForeignKey("models.id", ondelete="CASCADE"), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("trigger", sa.String(20), nullable=False),
        sa.Column("created_at", TZ, nullable=False),
        sa.Column("started_at", TZ),
        sa.Column("finished_at", TZ),
        sa.Column("phase", sa.String(100)),
        sa.Column("progress", sa.Float),
        sa.Column("stdout", sa.Text, nullable=False),
        sa.Column("stderr", sa.Text, nullable=False),
        sa.Column("error_code", sa.String(50)),
        sa.Column("error_message", sa.Text),
        sa.Column("error_details", sa.JSON),
        sa.Column("result", sa.JSON),
    )
    op.create_index("ix_runs_model_created", "runs", ["model_id", "created_at"])
    op.create_index("ix_runs_status", "runs", ["status"])


def downgrade() -> None:
    op.drop_table("runs")
    op.drop_table("artifacts")
    op.drop_table("versions")
    op.drop_table("models")
    op.drop_table("sources")
