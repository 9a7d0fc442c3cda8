"""Seed the virtual locations that balance every move

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-29 15:00:00
"""

from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

VIRTUAL = ["supplier", "customer", "production", "scrap", "adjustment", "in_transit"]


def upgrade() -> None:
    locations = sa.table(
        "locations",
        sa.column("code", sa.String),
        sa.column("name", sa.String),
        sa.column("kind", sa.String),
        sa.column("allow_negative", sa.Boolean),
        sa.column("created_at", sa.DateTime(timezone=True)),
    )
    now = datetime.now(UTC)
    op.bulk_insert(
        locations,
        [
            {
                "code": code,
                "name": code.replace("_", " ").capitalize() + " (virtual)",
                "kind": code,
                "allow_negative": True,
                "created_at": now,
            }
            for code in VIRTUAL
        ],
    )


def downgrade() -> None:
    op.execute(
        sa.text("DELETE FROM locations WHERE code IN :codes").bindparams(
            sa.bindparam("codes", VIRTUAL, expanding=True)
        )
    )
