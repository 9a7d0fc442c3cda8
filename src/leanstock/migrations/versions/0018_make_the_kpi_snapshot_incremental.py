"""Make the KPIs' monthly cost snapshot incremental: where each month's time-weighted value
stands (value-days up to a moment), each item-location's replay state (kpi_tracks) and the
ledger's watermark (kpi_snapshot)

The snapshot is a cache of the costing replay: its rows are dropped here and rebuilt by the
next KPI report, so nothing is lost.

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-01 03:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import leanstock.adapters.db.types

revision: str = "0018"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    exact = leanstock.adapters.db.types.Exact(precision=24, scale=6)
    op.execute("DELETE FROM kpi_months")
    op.execute("DELETE FROM settings WHERE key = 'kpi_snapshot_mark'")
    with op.batch_alter_table("kpi_months") as batch:
        batch.add_column(sa.Column("value_days", exact, nullable=False))
        batch.add_column(sa.Column("through", sa.DateTime(timezone=True), nullable=False))
    op.create_table(
        "kpi_tracks",
        sa.Column("item_id", Id, nullable=False),
        sa.Column("location_id", Id, nullable=False),
        sa.Column("month", sa.Date(), nullable=False),
        sa.Column("since", sa.DateTime(timezone=True), nullable=False),
        sa.Column("quantity", exact, nullable=False),
        sa.Column("value", exact, nullable=False),
        sa.Column("layers", sa.JSON(), nullable=False),
        sa.Column("last_arrival", sa.JSON(), nullable=True),
        sa.ForeignKeyConstraint(
            ["item_id"], ["items.id"], name=op.f("fk_kpi_tracks_item_id_items")
        ),
        sa.ForeignKeyConstraint(
            ["location_id"], ["locations.id"], name=op.f("fk_kpi_tracks_location_id_locations")
        ),
        sa.PrimaryKeyConstraint("item_id", "location_id", name=op.f("pk_kpi_tracks")),
    )
    op.create_table(
        "kpi_snapshot",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("state", sa.JSON(), nullable=True),
        sa.Column("costs", sa.JSON(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_kpi_snapshot")),
    )


def downgrade() -> None:
    op.drop_table("kpi_snapshot")
    op.drop_table("kpi_tracks")
    op.execute("DELETE FROM kpi_months")
    op.execute("DELETE FROM settings WHERE key = 'kpi_snapshot_mark'")
    with op.batch_alter_table("kpi_months") as batch:
        batch.drop_column("through")
        batch.drop_column("value_days")
