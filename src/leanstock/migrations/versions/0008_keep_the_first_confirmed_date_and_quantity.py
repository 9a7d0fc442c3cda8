"""Keep the date and quantity a supplier first confirmed, and when, apart from later promises

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-30 21:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from leanstock.adapters.db.types import Exact

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("purchase_lines") as batch:
        batch.add_column(sa.Column("first_confirmed_date", sa.Date(), nullable=True))
        batch.add_column(sa.Column("first_confirmed_quantity", Exact(), nullable=True))
        batch.add_column(sa.Column("acknowledged_at", sa.DateTime(timezone=True), nullable=True))
    # Lines acknowledged before this version: their current confirmation is the best known.
    op.execute(
        "UPDATE purchase_lines SET first_confirmed_date = confirmed_date, "
        "first_confirmed_quantity = confirmed_quantity "
        "WHERE confirmed_date IS NOT NULL OR confirmed_quantity IS NOT NULL"
    )


def downgrade() -> None:
    with op.batch_alter_table("purchase_lines") as batch:
        batch.drop_column("acknowledged_at")
        batch.drop_column("first_confirmed_quantity")
        batch.drop_column("first_confirmed_date")
