"""Add stocktakes and their count lines

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-01 02:50:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import leanstock.adapters.db.types

revision: str = "0019"
down_revision: str | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    exact = leanstock.adapters.db.types.Exact(precision=24, scale=6)
    op.create_table(
        "stocktakes",
        sa.Column("id", Id, autoincrement=True, nullable=False),
        sa.Column("location_id", Id, nullable=False),
        sa.Column("category", sa.String(length=64), nullable=True),
        sa.Column("freeze", sa.Boolean(), nullable=False),
        sa.Column("blind", sa.Boolean(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("reference", sa.String(length=200), nullable=True),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("started_by", sa.String(length=200), nullable=False),
        sa.Column("posted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("operation_id", Id, nullable=True),
        sa.ForeignKeyConstraint(
            ["location_id"], ["locations.id"], name=op.f("fk_stocktakes_location_id_locations")
        ),
        sa.ForeignKeyConstraint(
            ["operation_id"], ["operations.id"], name=op.f("fk_stocktakes_operation_id_operations")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_stocktakes")),
    )
    op.create_index(op.f("ix_stocktakes_location_id"), "stocktakes", ["location_id"])
    op.create_index(op.f("ix_stocktakes_status"), "stocktakes", ["status"])
    op.create_table(
        "stocktake_lines",
        sa.Column("id", Id, autoincrement=True, nullable=False),
        sa.Column("stocktake_id", Id, nullable=False),
        sa.Column("item_id", Id, nullable=False),
        sa.Column("lot", sa.String(length=64), nullable=False),
        sa.Column("expected", exact, nullable=True),
        sa.Column("counted", exact, nullable=True),
        sa.Column("counted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("counted_by", sa.String(length=200), nullable=True),
        sa.Column("book", exact, nullable=True),
        sa.Column("difference", exact, nullable=True),
        sa.CheckConstraint("counted >= 0", name=op.f("ck_stocktake_lines_counted_non_negative")),
        sa.ForeignKeyConstraint(
            ["item_id"], ["items.id"], name=op.f("fk_stocktake_lines_item_id_items")
        ),
        sa.ForeignKeyConstraint(
            ["stocktake_id"],
            ["stocktakes.id"],
            name=op.f("fk_stocktake_lines_stocktake_id_stocktakes"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_stocktake_lines")),
        sa.UniqueConstraint(
            "stocktake_id",
            "item_id",
            "lot",
            name=op.f("uq_stocktake_lines_stocktake_id_item_id_lot"),
        ),
    )


def downgrade() -> None:
    op.drop_table("stocktake_lines")
    op.drop_index(op.f("ix_stocktakes_status"), table_name="stocktakes")
    op.drop_index(op.f("ix_stocktakes_location_id"), table_name="stocktakes")
    op.drop_table("stocktakes")
