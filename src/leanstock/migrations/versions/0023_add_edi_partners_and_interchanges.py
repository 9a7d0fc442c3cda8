"""Add EDI trading partners, the interchange log, and the purchase orders sent by EDI

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-01 02:46:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0023"
down_revision: str | None = "0022"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
Moment = sa.DateTime(timezone=True)
APPLIED = sa.text("direction = 'in' AND status IN ('accepted', 'partially_accepted')")


def upgrade() -> None:
    op.create_table(
        "edi_interchanges",
        sa.Column("id", Id, autoincrement=True, nullable=False),
        sa.Column("direction", sa.String(length=3), nullable=False),
        sa.Column("supplier_id", Id, nullable=True),
        sa.Column("control_number", sa.String(length=9), nullable=False),
        sa.Column("status", sa.String(length=24), nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("document", sa.Text(), nullable=False),
        sa.Column("acknowledgement", sa.Text(), nullable=True),
        sa.Column("reasons", sa.JSON(), nullable=False),
        sa.Column("documents", sa.JSON(), nullable=False),
        sa.Column("created_by", sa.String(length=320), nullable=False),
        sa.Column("created_at", Moment, nullable=False),
        sa.ForeignKeyConstraint(
            ["supplier_id"],
            ["suppliers.id"],
            name=op.f("fk_edi_interchanges_supplier_id_suppliers"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_edi_interchanges")),
    )
    op.create_index(
        op.f("ix_edi_interchanges_created_at"), "edi_interchanges", ["created_at"], unique=False
    )
    op.create_index(
        op.f("ix_edi_interchanges_supplier_id"), "edi_interchanges", ["supplier_id"], unique=False
    )
    op.create_index(
        "uq_edi_interchanges_applied",
        "edi_interchanges",
        ["supplier_id", "control_number"],
        unique=True,
        postgresql_where=APPLIED,
        sqlite_where=APPLIED,
    )
    op.create_table(
        "edi_partners",
        sa.Column("supplier_id", Id, nullable=False),
        sa.Column("qualifier", sa.String(length=2), nullable=False),
        sa.Column("interchange_id", sa.String(length=15), nullable=False),
        sa.Column("group_id", sa.String(length=15), nullable=False),
        sa.Column("created_at", Moment, nullable=False),
        sa.Column("updated_at", Moment, nullable=False),
        sa.ForeignKeyConstraint(
            ["supplier_id"], ["suppliers.id"], name=op.f("fk_edi_partners_supplier_id_suppliers")
        ),
        sa.PrimaryKeyConstraint("supplier_id", name=op.f("pk_edi_partners")),
        sa.UniqueConstraint(
            "qualifier", "interchange_id", name=op.f("uq_edi_partners_qualifier_interchange_id")
        ),
    )
    op.create_table(
        "edi_sent_orders",
        sa.Column("order_id", Id, nullable=False),
        sa.Column("interchange_id", Id, nullable=False),
        sa.ForeignKeyConstraint(
            ["interchange_id"],
            ["edi_interchanges.id"],
            name=op.f("fk_edi_sent_orders_interchange_id_edi_interchanges"),
        ),
        sa.ForeignKeyConstraint(
            ["order_id"],
            ["purchase_orders.id"],
            name=op.f("fk_edi_sent_orders_order_id_purchase_orders"),
        ),
        sa.PrimaryKeyConstraint("order_id", name=op.f("pk_edi_sent_orders")),
    )
    # The control number of the last interchange we sent (ISA13, GS06): the next is one more.
    # A row from the start, so that it can be locked while it is counted.
    op.execute(
        sa.text(
            "INSERT INTO settings (key, value, updated_at) "
            "VALUES ('edi.last_control', '0', CURRENT_TIMESTAMP)"
        )
    )


def downgrade() -> None:
    op.execute(sa.text("DELETE FROM settings WHERE key = 'edi.last_control'"))
    op.drop_table("edi_sent_orders")
    op.drop_table("edi_partners")
    op.drop_index("uq_edi_interchanges_applied", table_name="edi_interchanges")
    op.drop_index(op.f("ix_edi_interchanges_supplier_id"), table_name="edi_interchanges")
    op.drop_index(op.f("ix_edi_interchanges_created_at"), table_name="edi_interchanges")
    op.drop_table("edi_interchanges")
