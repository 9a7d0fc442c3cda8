"""Add move costs, item costing and divisibility, item units and company settings

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-30 20:30:00.000000

Existing stock keeps its quantities and gets a cost: every move that brought stock in from
outside (a supplier, an adjustment) before costing is valued at its item's unit cost.
"""

from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

import leanstock.adapters.db.types

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def Exact() -> leanstock.adapters.db.types.Exact:  # noqa: N802 (reads as the column type)
    return leanstock.adapters.db.types.Exact(precision=24, scale=6)


# domain.catalog.INDIVISIBLE_UNITS as of this migration (a migration keeps its own copy).
_WHOLE_UNITS = frozenset(
    {"each", "ea", "pc", "pcs", "piece", "unit", "box", "case", "pack", "bag", "bottle", "can",
     "jar", "tray", "roll", "carton", "dozen"}
)  # fmt: skip


def upgrade() -> None:
    # Plain ADD/DROP COLUMN (SQLite 3.35+ has both): a batch copy of `items` would trip the
    # foreign keys that point at it.
    op.add_column("moves", sa.Column("unit_cost", Exact(), nullable=True))
    op.add_column("moves", sa.Column("conversion_cost", Exact(), nullable=True))
    op.add_column("items", sa.Column("costing", sa.String(length=16), nullable=True))
    op.add_column(
        "items", sa.Column("divisible", sa.Boolean(), server_default=sa.true(), nullable=False)
    )
    # Items stocked in a unit of whole things were refused fractions by their unit (0012's
    # rule); they keep that as their own flag.
    whole_units = ", ".join(f"'{unit}'" for unit in sorted(_WHOLE_UNITS))
    op.execute(f"UPDATE items SET divisible = false WHERE lower(trim(unit)) IN ({whole_units})")
    op.create_table(
        "item_units",
        sa.Column("item_id", Id, nullable=False),
        sa.Column("unit", sa.String(length=16), nullable=False),
        sa.Column("factor", Exact(), nullable=False),
        sa.CheckConstraint("factor > 0", name=op.f("ck_item_units_positive_factor")),
        sa.ForeignKeyConstraint(
            ["item_id"], ["items.id"], name=op.f("fk_item_units_item_id_items")
        ),
        sa.PrimaryKeyConstraint("item_id", "unit", name=op.f("pk_item_units")),
    )
    settings = op.create_table(
        "settings",
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("value", sa.String(length=200), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_settings")),
    )
    op.bulk_insert(
        settings,
        [{"key": "costing_method", "value": "fifo", "updated_at": datetime.now(UTC)}],
    )
    # Stock that arrived before costing: at its item's unit cost (same scale on both sides).
    op.execute(
        "UPDATE moves SET unit_cost = "
        "(SELECT items.unit_cost FROM items WHERE items.id = moves.item_id) "
        "WHERE source_id IN "
        "(SELECT id FROM locations WHERE kind IN ('supplier', 'adjustment'))"
    )


def downgrade() -> None:
    op.drop_table("settings")
    op.drop_table("item_units")
    op.drop_column("items", "divisible")
    op.drop_column("items", "costing")
    op.drop_column("moves", "conversion_cost")
    op.drop_column("moves", "unit_cost")
