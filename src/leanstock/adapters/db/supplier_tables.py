"""Tables of the supplier channel: proposals a supplier makes against a purchase order, ship
notices (ASN) with their lots, and supplier invoices per purchase line.

Defined on the same `metadata` as the rest, so one Alembic history builds them all.
"""

from __future__ import annotations

from sqlalchemy import (
    CheckConstraint,
    Column,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    UniqueConstraint,
    text,
)

from leanstock.adapters.db.metadata import Id, Timestamp, metadata
from leanstock.adapters.db.types import Exact

# A supplier's proposal of other quantities or dates for a released order, which the buyer
# accepts (it becomes the supplier's acknowledgement) or rejects (the order stays as it was).
purchase_proposals = Table(
    "purchase_proposals",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("order_id", Id, ForeignKey("purchase_orders.id"), nullable=False, index=True),
    Column("status", String(16), nullable=False),
    Column("note", String(500), nullable=True),
    Column("proposed_by", String(320), nullable=False),
    Column("proposed_at", Timestamp, nullable=False),
    Column("decided_by", String(320), nullable=True),
    Column("decided_at", Timestamp, nullable=True),
    Column("reason", String(500), nullable=True),
    # One open proposal per order: a second waits for the buyer's answer to the first.
    Index(
        "uq_purchase_proposals_pending_order",
        "order_id",
        unique=True,
        postgresql_where=text("status = 'pending'"),
        sqlite_where=text("status = 'pending'"),
    ),
)

purchase_proposal_lines = Table(
    "purchase_proposal_lines",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("proposal_id", Id, ForeignKey("purchase_proposals.id"), nullable=False, index=True),
    Column("line_no", Integer, nullable=False),
    Column("quantity", Exact(), nullable=True),
    Column("delivery_date", Date, nullable=True),
    UniqueConstraint("proposal_id", "line_no"),
    CheckConstraint("quantity IS NULL OR quantity >= 0", name="quantity"),
)

# An advance ship notice: what the supplier sent, when, with whom; each line with its lot.
ship_notices = Table(
    "ship_notices",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("order_id", Id, ForeignKey("purchase_orders.id"), nullable=False, index=True),
    Column("shipped_on", Date, nullable=True),
    Column("expected_date", Date, nullable=True),
    Column("carrier", String(100), nullable=True),
    Column("tracking", String(100), nullable=True),
    Column("status", String(16), nullable=False),
    Column("created_by", String(320), nullable=False),
    Column("created_at", Timestamp, nullable=False),
    Column("received_at", Timestamp, nullable=True),
)

ship_notice_lines = Table(
    "ship_notice_lines",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("notice_id", Id, ForeignKey("ship_notices.id"), nullable=False, index=True),
    Column("line_no", Integer, nullable=False),
    Column("quantity", Exact(), nullable=False),
    Column("lot", String(64), nullable=True),
    Column("expires_on", Date, nullable=True),
    CheckConstraint("quantity > 0", name="quantity"),
)

# What the supplier invoiced for a purchase line (from the API, or an EDI 810): price
# variance is the invoiced price against the line's ordered price.
supplier_invoices = Table(
    "supplier_invoices",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("purchase_line_id", Id, ForeignKey("purchase_lines.id"), nullable=False, index=True),
    Column("invoice_number", String(64), nullable=False),
    Column("invoiced_on", Date, nullable=False, index=True),
    Column("quantity", Exact(), nullable=False),
    Column("price", Exact(), nullable=False),
    Column("ordered_price", Exact(), nullable=False),
    Column("source", String(16), nullable=False),
    Column("created_by", String(320), nullable=False),
    Column("created_at", Timestamp, nullable=False),
    UniqueConstraint("purchase_line_id", "invoice_number"),
    CheckConstraint("quantity > 0 AND price >= 0 AND ordered_price >= 0", name="amounts"),
)
