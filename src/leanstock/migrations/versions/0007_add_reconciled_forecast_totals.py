"""Add reconciled forecast totals per item and per category

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-30 17:20:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "forecast_totals",
        sa.Column("run_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("level", sa.String(length=16), nullable=False),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("ds", sa.Date(), nullable=False),
        sa.Column("forecast", sa.Float(), nullable=False),
        sa.Column("quantiles", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["run_id"], ["forecast_runs.id"], name=op.f("fk_forecast_totals_run_id_forecast_runs")
        ),
        sa.PrimaryKeyConstraint("run_id", "level", "key", "ds", name=op.f("pk_forecast_totals")),
    )


def downgrade() -> None:
    op.drop_table("forecast_totals")
