"""Add the returned quantity to sales lines (customer returns)

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-30 21:10:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import leanstock.adapters.db.types

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Existing lines have had nothing returned: 0, so the data is carried forward as it was.
    with op.batch_alter_table("sales_lines") as batch:
        batch.add_column(
            sa.Column(
                "returned",
                leanstock.adapters.db.types.Exact(precision=24, scale=6),
                nullable=False,
                server_default="0",
            )
        )


def downgrade() -> None:
    with op.batch_alter_table("sales_lines") as batch:
        batch.drop_column("returned")
