"""Add revaluations, the trace of what a backdated move re-valued

Revision ID: 0014
Revises: 0013
Create Date: 2026-11-30 20:55:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import leanstock.adapters.db.types

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    exact = leanstock.adapters.db.types.Exact(precision=24, scale=6)
    op.create_table(
        "revaluations",
        sa.Column("id", Id, autoincrement=True, nullable=False),
        sa.Column("operation_id", Id, nullable=False),
        sa.Column("item_id", Id, nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("later_cost_before", exact, nullable=False),
        sa.Column("later_cost_after", exact, nullable=False),
        sa.ForeignKeyConstraint(
            ["item_id"], ["items.id"], name=op.f("fk_revaluations_item_id_items")
        ),
        sa.ForeignKeyConstraint(
            ["operation_id"],
            ["operations.id"],
            name=op.f("fk_revaluations_operation_id_operations"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_revaluations")),
    )
    op.create_index(
        op.f("ix_revaluations_operation_id"), "revaluations", ["operation_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_revaluations_operation_id"), table_name="revaluations")
    op.drop_table("revaluations")
