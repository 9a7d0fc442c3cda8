"""Add supplier proposals, ship notices with lots, supplier invoices; receipts keep their
ship notice, carrier and tracking

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-01 02:45:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from leanstock.adapters.db.types import Exact

revision: str = "0022"
down_revision: str | None = "0021"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
Moment = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "purchase_proposals",
        sa.Column("id", Id, autoincrement=True, nullable=False),
        sa.Column("order_id", Id, nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("note", sa.String(length=500), nullable=True),
        sa.Column("proposed_by", sa.String(length=320), nullable=False),
        sa.Column("proposed_at", Moment, nullable=False),
        sa.Column("decided_by", sa.String(length=320), nullable=True),
        sa.Column("decided_at", Moment, nullable=True),
        sa.Column("reason", sa.String(length=500), nullable=True),
        sa.ForeignKeyConstraint(
            ["order_id"],
            ["purchase_orders.id"],
            name=op.f("fk_purchase_proposals_order_id_purchase_orders"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_purchase_proposals")),
    )
    op.create_index(
        op.f("ix_purchase_proposals_order_id"), "purchase_proposals", ["order_id"], unique=False
    )
    op.create_index(
        "uq_purchase_proposals_pending_order",
        "purchase_proposals",
        ["order_id"],
        unique=True,
        postgresql_where=sa.text("status = 'pending'"),
        sqlite_where=sa.text("status = 'pending'"),
    )
    op.create_table(
        "purchase_proposal_lines",
        sa.Column("id", Id, autoincrement=True, nullable=False),
        sa.Column("proposal_id", Id, nullable=False),
        sa.Column("line_no", sa.Integer(), nullable=False),
        sa.Column("quantity", Exact(), nullable=True),
        sa.Column("delivery_date", sa.Date(), nullable=True),
        sa.CheckConstraint(
            "quantity IS NULL OR quantity >= 0",
            name=op.f("ck_purchase_proposal_lines_quantity"),
        ),
        sa.ForeignKeyConstraint(
            ["proposal_id"],
            ["purchase_proposals.id"],
            name=op.f("fk_purchase_proposal_lines_proposal_id_purchase_proposals"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_purchase_proposal_lines")),
        sa.UniqueConstraint(
            "proposal_id", "line_no", name=op.f("uq_purchase_proposal_lines_proposal_id_line_no")
        ),
    )
    op.create_index(
        op.f("ix_purchase_proposal_lines_proposal_id"),
        "purchase_proposal_lines",
        ["proposal_id"],
        unique=False,
    )
    op.create_table(
        "ship_notices",
        sa.Column("id", Id, autoincrement=True, nullable=False),
        sa.Column("order_id", Id, nullable=False),
        sa.Column("shipped_on", sa.Date(), nullable=True),
        sa.Column("expected_date", sa.Date(), nullable=True),
        sa.Column("carrier", sa.String(length=100), nullable=True),
        sa.Column("tracking", sa.String(length=100), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_by", sa.String(length=320), nullable=False),
        sa.Column("created_at", Moment, nullable=False),
        sa.Column("received_at", Moment, nullable=True),
        sa.ForeignKeyConstraint(
            ["order_id"],
            ["purchase_orders.id"],
            name=op.f("fk_ship_notices_order_id_purchase_orders"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ship_notices")),
    )
    op.create_index(op.f("ix_ship_notices_order_id"), "ship_notices", ["order_id"], unique=False)
    op.create_table(
        "ship_notice_lines",
        sa.Column("id", Id, autoincrement=True, nullable=False),
        sa.Column("notice_id", Id, nullable=False),
        sa.Column("line_no", sa.Integer(), nullable=False),
        sa.Column("quantity", Exact(), nullable=False),
        sa.Column("lot", sa.String(length=64), nullable=True),
        sa.Column("expires_on", sa.Date(), nullable=True),
        sa.CheckConstraint("quantity > 0", name=op.f("ck_ship_notice_lines_quantity")),
        sa.ForeignKeyConstraint(
            ["notice_id"],
            ["ship_notices.id"],
            name=op.f("fk_ship_notice_lines_notice_id_ship_notices"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ship_notice_lines")),
    )
    op.create_index(
        op.f("ix_ship_notice_lines_notice_id"), "ship_notice_lines", ["notice_id"], unique=False
    )
    op.create_table(
        "supplier_invoices",
        sa.Column("id", Id, autoincrement=True, nullable=False),
        sa.Column("purchase_line_id", Id, nullable=False),
        sa.Column("invoice_number", sa.String(length=64), nullable=False),
        sa.Column("invoiced_on", sa.Date(), nullable=False),
        sa.Column("quantity", Exact(), nullable=False),
        sa.Column("price", Exact(), nullable=False),
        sa.Column("ordered_price", Exact(), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("created_by", sa.String(length=320), nullable=False),
        sa.Column("created_at", Moment, nullable=False),
        sa.CheckConstraint(
            "quantity > 0 AND price >= 0 AND ordered_price >= 0",
            name=op.f("ck_supplier_invoices_amounts"),
        ),
        sa.ForeignKeyConstraint(
            ["purchase_line_id"],
            ["purchase_lines.id"],
            name=op.f("fk_supplier_invoices_purchase_line_id_purchase_lines"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_supplier_invoices")),
        sa.UniqueConstraint(
            "purchase_line_id",
            "invoice_number",
            name=op.f("uq_supplier_invoices_purchase_line_id_invoice_number"),
        ),
    )
    op.create_index(
        op.f("ix_supplier_invoices_purchase_line_id"),
        "supplier_invoices",
        ["purchase_line_id"],
        unique=False,
    )
    op.create_index(
        op.f("ix_supplier_invoices_invoiced_on"), "supplier_invoices", ["invoiced_on"], unique=False
    )
    with op.batch_alter_table("receipts") as batch:
        batch.add_column(sa.Column("ship_notice_id", Id, nullable=True))
        batch.add_column(sa.Column("carrier", sa.String(length=100), nullable=True))
        batch.add_column(sa.Column("tracking", sa.String(length=100), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("receipts") as batch:
        batch.drop_column("tracking")
        batch.drop_column("carrier")
        batch.drop_column("ship_notice_id")
    op.drop_table("supplier_invoices")
    op.drop_table("ship_notice_lines")
    op.drop_table("ship_notices")
    op.drop_table("purchase_proposal_lines")
    op.drop_table("purchase_proposals")
