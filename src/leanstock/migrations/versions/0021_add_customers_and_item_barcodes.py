"""Add customers (sales orders refer to them) and item barcodes

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-01 02:50:00.000000

Existing orders are carried forward as they were: each keeps the customer's name it was
placed with, and no record (no sales_order_customers row), as a walk-in sale has.
Customers created later are referred to by new orders; nothing is guessed from the old names.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0021"
down_revision: str | None = "0020"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
Timestamp = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "customers",
        sa.Column("id", Id, autoincrement=True, nullable=False),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("email", sa.String(length=200), nullable=True),
        sa.Column("phone", sa.String(length=200), nullable=True),
        sa.Column("billing_address", sa.Text(), nullable=True),
        sa.Column("shipping_address", sa.Text(), nullable=True),
        sa.Column("priority", sa.Integer(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", Timestamp, nullable=False),
        sa.Column("updated_at", Timestamp, nullable=False),
        sa.CheckConstraint("priority BETWEEN 1 AND 9", name=op.f("ck_customers_priority_range")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_customers")),
        sa.UniqueConstraint("code", name=op.f("uq_customers_code")),
    )
    op.create_table(
        "item_barcodes",
        sa.Column("barcode", sa.String(length=14), nullable=False),
        sa.Column("item_id", Id, nullable=False),
        sa.Column("created_at", Timestamp, nullable=False),
        sa.ForeignKeyConstraint(
            ["item_id"], ["items.id"], name=op.f("fk_item_barcodes_item_id_items")
        ),
        sa.PrimaryKeyConstraint("barcode", name=op.f("pk_item_barcodes")),
    )
    op.create_index(op.f("ix_item_barcodes_item_id"), "item_barcodes", ["item_id"], unique=False)
    # A table of its own: altering sales_orders would copy it on SQLite (batch mode), which the
    # foreign keys of its lines and purchase orders refuse while the copy is made.
    op.create_table(
        "sales_order_customers",
        sa.Column("order_id", Id, nullable=False),
        sa.Column("customer_id", Id, nullable=False),
        sa.ForeignKeyConstraint(
            ["order_id"],
            ["sales_orders.id"],
            name=op.f("fk_sales_order_customers_order_id_sales_orders"),
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name=op.f("fk_sales_order_customers_customer_id_customers"),
        ),
        sa.PrimaryKeyConstraint("order_id", name=op.f("pk_sales_order_customers")),
    )
    op.create_index(
        op.f("ix_sales_order_customers_customer_id"),
        "sales_order_customers",
        ["customer_id"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_sales_order_customers_customer_id"), table_name="sales_order_customers")
    op.drop_table("sales_order_customers")
    op.drop_index(op.f("ix_item_barcodes_item_id"), table_name="item_barcodes")
    op.drop_table("item_barcodes")
    op.drop_table("customers")
