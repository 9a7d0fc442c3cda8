"""Widen outbox.subject to 300 characters, as the audit log's: `item:` and a 64-character
SKU is 69

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-01 04:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0024"
down_revision: str | None = "0023"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("outbox") as batch:
        batch.alter_column(
            "subject", existing_type=sa.String(length=64), type_=sa.String(length=300)
        )


def downgrade() -> None:
    with op.batch_alter_table("outbox") as batch:
        batch.alter_column(
            "subject", existing_type=sa.String(length=300), type_=sa.String(length=64)
        )
