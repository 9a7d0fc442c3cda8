"""Add kpi_months, the KPIs' monthly cost snapshot

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-01 00:20:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import leanstock.adapters.db.types

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    exact = leanstock.adapters.db.types.Exact(precision=24, scale=6)
    op.create_table(
        "kpi_months",
        sa.Column("month", sa.Date(), nullable=False),
        sa.Column("item_id", Id, nullable=False),
        sa.Column("location_id", Id, nullable=False),
        sa.Column("closing_quantity", exact, nullable=False),
        sa.Column("closing_value", exact, nullable=False),
        sa.Column("average_value", exact, nullable=False),
        sa.Column("sold_value", exact, nullable=False),
        sa.Column("scrapped", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["item_id"], ["items.id"], name=op.f("fk_kpi_months_item_id_items")
        ),
        sa.ForeignKeyConstraint(
            ["location_id"], ["locations.id"], name=op.f("fk_kpi_months_location_id_locations")
        ),
        sa.PrimaryKeyConstraint("month", "item_id", "location_id", name=op.f("pk_kpi_months")),
    )


def downgrade() -> None:
    op.drop_table("kpi_months")
