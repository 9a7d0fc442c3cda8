"""Add the reference an imported past order came with, so a re-import updates it

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-30 20:40:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = ("sales_orders", "purchase_orders")


def upgrade() -> None:
    for table in TABLES:
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column("import_ref", sa.String(length=100), nullable=True))
        op.create_index(f"uq_{table}_import_ref", table, ["import_ref"], unique=True)


def downgrade() -> None:
    for table in TABLES:
        op.drop_index(f"uq_{table}_import_ref", table_name=table)
        with op.batch_alter_table(table) as batch:
            batch.drop_column("import_ref")
