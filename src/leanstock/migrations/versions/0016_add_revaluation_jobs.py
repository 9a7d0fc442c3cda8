"""Add revaluation jobs: large revaluations traced by the worker, with a visible status

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-01 00:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "revaluation_jobs",
        sa.Column("id", Id, autoincrement=True, nullable=False),
        sa.Column("operation_id", Id, nullable=False),
        sa.Column("item_id", Id, nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("later_moves", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["item_id"], ["items.id"], name=op.f("fk_revaluation_jobs_item_id_items")
        ),
        sa.ForeignKeyConstraint(
            ["operation_id"],
            ["operations.id"],
            name=op.f("fk_revaluation_jobs_operation_id_operations"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_revaluation_jobs")),
    )
    op.create_index(
        op.f("ix_revaluation_jobs_status"), "revaluation_jobs", ["status"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_revaluation_jobs_status"), table_name="revaluation_jobs")
    op.drop_table("revaluation_jobs")
