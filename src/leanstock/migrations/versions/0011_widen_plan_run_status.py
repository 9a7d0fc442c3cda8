"""Widen plan_runs.status to 32 characters: `partially_released` has 18

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-30 20:25:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("plan_runs") as batch:
        batch.alter_column("status", existing_type=sa.String(length=16), type_=sa.String(length=32))


def downgrade() -> None:
    with op.batch_alter_table("plan_runs") as batch:
        batch.alter_column("status", existing_type=sa.String(length=32), type_=sa.String(length=16))
