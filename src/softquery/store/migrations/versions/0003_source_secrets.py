"""Secrets at rest: data-source URLs with a password are stored encrypted.

``sources.url`` keeps the masked URL (shown to people); ``url_encrypted``
holds the full URL, encrypted with a key derived from the secret key.
Plaintext rows are encrypted by ``softquery init`` right after this
migration (the migration itself has no key).

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-28
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("sources") as batch:
        batch.add_column(sa.Column("url_encrypted", sa.Text))


def downgrade() -> None:
    with op.batch_alter_table("sources") as batch:
        batch.drop_column("url_encrypted")
