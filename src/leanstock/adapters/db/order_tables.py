"""Tables of the pull flow: orders, bills of materials, pegs, receipts, outbox and audit trail.

Defined on the same `metadata` as the inventory core, so one Alembic history builds both.
Order numbers (SO-000042) are the ids with a prefix, so they are not stored.
"""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Column,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
    text,
)

from leanstock.adapters.db.metadata import Id, Timestamp, metadata
from leanstock.adapters.db.types import Exact

sales_orders = Table(
    "sales_orders",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("customer", String(200), nullable=False, index=True),
    Column("status", String(32), nullable=False, index=True),
    Column("ordered_at", Timestamp, nullable=False, index=True),
    Column("created_at", Timestamp, nullable=False),
    Column("updated_at", Timestamp, nullable=False),
    # The order's key in the file it was imported from (None: entered here); unique, so a
    # re-import of the same file updates the order instead of adding it again.
    Column("import_ref", String(100), nullable=True),
    Index("uq_sales_orders_import_ref", "import_ref", unique=True),
)

# The customer record an order is for (a walk-in sale, named by `customer` only, has none).
# A table of its own rather than a column, so adding it left `sales_orders` as it was.
sales_order_customers = Table(
    "sales_order_customers",
    metadata,
    Column("order_id", Id, ForeignKey("sales_orders.id"), primary_key=True),
    Column("customer_id", Id, ForeignKey("customers.id"), nullable=False, index=True),
)

# `ordered_quantity` is the demand when the order was confirmed (what forecasts read, however the
# line changes later); `short_at_order` is how much of it stock could not serve then.
sales_lines = Table(
    "sales_lines",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("order_id", Id, ForeignKey("sales_orders.id"), nullable=False, index=True),
    Column("line_no", Integer, nullable=False),
    Column("item_id", Id, ForeignKey("items.id"), nullable=False, index=True),
    Column("location_id", Id, ForeignKey("locations.id"), nullable=False),
    Column("quantity", Exact(), nullable=False),
    Column("ordered_quantity", Exact(), nullable=False),
    Column("shipped", Exact(), nullable=False),
    Column("short_at_order", Exact(), nullable=False),
    Column("returned", Exact(), nullable=False, server_default="0"),
    Column("fulfilment", String(32), nullable=False),
    Column("requested_date", Date, nullable=True),
    Column("cancelled", Boolean, nullable=False),
    UniqueConstraint("order_id", "line_no"),
    CheckConstraint("quantity > 0 AND shipped >= 0 AND shipped <= quantity", name="quantities"),
)

purchase_orders = Table(
    "purchase_orders",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("supplier_id", Id, ForeignKey("suppliers.id"), nullable=False),
    Column("status", String(32), nullable=False, index=True),
    Column("expected_date", Date, nullable=True),
    Column("drop_ship_customer", String(200), nullable=True),
    Column("sales_order_id", Id, ForeignKey("sales_orders.id"), nullable=True),
    Column("change_requested", Boolean, nullable=False),
    Column("ordered_at", Timestamp, nullable=False),
    Column("created_at", Timestamp, nullable=False),
    Column("updated_at", Timestamp, nullable=False),
    # One open stock draft per supplier: concurrent pulls add to it instead of racing to make two.
    Index(
        "uq_purchase_orders_draft_supplier",
        "supplier_id",
        unique=True,
        postgresql_where=text("status = 'draft' AND drop_ship_customer IS NULL"),
        sqlite_where=text("status = 'draft' AND drop_ship_customer IS NULL"),
    ),
    Index(None, "supplier_id", "status"),
    Column("import_ref", String(100), nullable=True),
    Index("uq_purchase_orders_import_ref", "import_ref", unique=True),
)

purchase_lines = Table(
    "purchase_lines",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("order_id", Id, ForeignKey("purchase_orders.id"), nullable=False, index=True),
    Column("line_no", Integer, nullable=False),
    Column("item_id", Id, ForeignKey("items.id"), nullable=False, index=True),
    Column("location_id", Id, ForeignKey("locations.id"), nullable=False),
    Column("quantity", Exact(), nullable=False),
    Column("price", Exact(), nullable=False),
    Column("expected_date", Date, nullable=True),
    Column("confirmed_quantity", Exact(), nullable=True),
    Column("confirmed_date", Date, nullable=True),
    # What the supplier first committed to, and when: its record is judged by these, not by
    # later promises (a ship notice or a new acknowledgement moves only confirmed_date).
    Column("first_confirmed_quantity", Exact(), nullable=True),
    Column("first_confirmed_date", Date, nullable=True),
    Column("acknowledged_at", Timestamp, nullable=True),
    Column("shipped_quantity", Exact(), nullable=False),
    Column("received", Exact(), nullable=False),
    Column("rejected", Exact(), nullable=False),
    UniqueConstraint("order_id", "line_no"),
    CheckConstraint("quantity >= 0 AND received >= 0 AND rejected >= 0", name="quantities"),
)

# One row per delivery against a purchase line: the supplier scorecard reads promised against
# actual here.
receipts = Table(
    "receipts",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("purchase_line_id", Id, ForeignKey("purchase_lines.id"), nullable=False, index=True),
    Column("received_on", Date, nullable=False),
    Column("promised_date", Date, nullable=True),
    Column("quantity", Exact(), nullable=False),
    Column("rejected", Exact(), nullable=False),
    Column("rejected_to", String(16), nullable=True),
    Column("operation_id", Id, ForeignKey("operations.id"), nullable=True),
    Column("created_at", Timestamp, nullable=False),
    # The ship notice it was received against, and (a drop-ship delivery the supplier
    # confirms) the carrier and tracking number that took it to the customer.
    Column("ship_notice_id", Id, nullable=True),
    Column("carrier", String(100), nullable=True),
    Column("tracking", String(100), nullable=True),
    CheckConstraint("quantity >= 0 AND rejected >= 0", name="quantities"),
)

boms = Table(
    "boms",
    metadata,
    Column("item_id", Id, ForeignKey("items.id"), primary_key=True),
    Column("lead_time_days", Integer, nullable=False),
    Column("updated_at", Timestamp, nullable=False),
    CheckConstraint("lead_time_days >= 0", name="lead_time"),
)

bom_lines = Table(
    "bom_lines",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("parent_id", Id, ForeignKey("boms.item_id"), nullable=False, index=True),
    Column("position", Integer, nullable=False),
    Column("component_id", Id, ForeignKey("items.id"), nullable=False),
    Column("quantity", Exact(), nullable=False),
    Column("scrap", Exact(), nullable=False),
    UniqueConstraint("parent_id", "component_id"),
    CheckConstraint("quantity > 0 AND scrap >= 0", name="quantities"),
)

production_orders = Table(
    "production_orders",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("item_id", Id, ForeignKey("items.id"), nullable=False, index=True),
    Column("location_id", Id, ForeignKey("locations.id"), nullable=False),
    Column("quantity", Exact(), nullable=False),
    Column("produced", Exact(), nullable=False),
    Column("status", String(32), nullable=False, index=True),
    Column("due_date", Date, nullable=True),
    Column("change_requested", Boolean, nullable=False),
    Column("created_at", Timestamp, nullable=False),
    Column("updated_at", Timestamp, nullable=False),
    CheckConstraint("quantity >= 0 AND produced >= 0", name="quantities"),
)

production_components = Table(
    "production_components",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("order_id", Id, ForeignKey("production_orders.id"), nullable=False, index=True),
    Column("item_id", Id, ForeignKey("items.id"), nullable=False),
    Column("quantity", Exact(), nullable=False),
    Column("consumed", Exact(), nullable=False),
    CheckConstraint("quantity >= 0 AND consumed >= 0", name="quantities"),
)

transfer_orders = Table(
    "transfer_orders",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("item_id", Id, ForeignKey("items.id"), nullable=False, index=True),
    Column("source_id", Id, ForeignKey("locations.id"), nullable=False),
    Column("target_id", Id, ForeignKey("locations.id"), nullable=False),
    Column("quantity", Exact(), nullable=False),
    Column("received", Exact(), nullable=False),
    Column("status", String(32), nullable=False, index=True),
    Column("expected_date", Date, nullable=True),
    Column("created_at", Timestamp, nullable=False),
    Column("updated_at", Timestamp, nullable=False),
    CheckConstraint("quantity > 0 AND received >= 0", name="quantities"),
    CheckConstraint("source_id <> target_id", name="two_locations"),
)

# Which supply was pulled for which demand, and how much of it has arrived for that demand.
pegs = Table(
    "pegs",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("demand_kind", String(16), nullable=False),
    Column("demand_id", Id, nullable=False),
    Column("supply_kind", String(16), nullable=False),
    Column("supply_id", Id, nullable=False),
    Column("reference", String(200), nullable=False),
    Column("quantity", Exact(), nullable=False),
    Column("received", Exact(), nullable=False),
    Column("status", String(16), nullable=False),
    Column("created_at", Timestamp, nullable=False),
    CheckConstraint("quantity >= 0 AND received >= 0 AND received <= quantity", name="within"),
    Index(None, "demand_kind", "demand_id"),
    Index(None, "supply_kind", "supply_id"),
)

# Domain events, written in the transaction that caused them, for webhooks to publish later.
outbox = Table(
    "outbox",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("event", String(64), nullable=False),
    Column("subject", String(64), nullable=False, index=True),
    Column("payload", Text, nullable=False),
    Column("created_at", Timestamp, nullable=False),
    Column("published_at", Timestamp, nullable=True, index=True),
)

# Who changed what, append-only: the database refuses UPDATE and DELETE (migration 0006).
audit_log = Table(
    "audit_log",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("actor", String(254), nullable=False, index=True),
    Column("action", String(64), nullable=False),
    Column("subject", String(300), nullable=False, index=True),
    Column("changes", Text, nullable=False),
    Column("created_at", Timestamp, nullable=False, index=True),
    # The credential used (`token:lst_ab12cd34`, `session`, `cli`), the request and the client.
    Column("credential", String(64), nullable=True),
    Column("request_id", String(64), nullable=True, index=True),
    Column("address", String(64), nullable=True),
)

# Stocktakes: a count document per location (optionally one category), its lines per item
# and lot (lot '' for untracked stock). `expected` is the snapshot of a frozen count; `book`
# and `difference` are written when it is posted (domain/stocktake.py).
stocktakes = Table(
    "stocktakes",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("location_id", Id, ForeignKey("locations.id"), nullable=False, index=True),
    Column("category", String(64), nullable=True),
    Column("freeze", Boolean, nullable=False),
    Column("blind", Boolean, nullable=False),
    Column("status", String(16), nullable=False, index=True),
    Column("reference", String(200), nullable=True),
    Column("started_at", Timestamp, nullable=False),
    Column("started_by", String(200), nullable=False),
    Column("posted_at", Timestamp, nullable=True),
    Column("operation_id", Id, ForeignKey("operations.id"), nullable=True),
)

stocktake_lines = Table(
    "stocktake_lines",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("stocktake_id", Id, ForeignKey("stocktakes.id"), nullable=False),
    Column("item_id", Id, ForeignKey("items.id"), nullable=False),
    Column("lot", String(64), nullable=False),
    Column("expected", Exact(), nullable=True),
    Column("counted", Exact(), nullable=True),
    Column("counted_at", Timestamp, nullable=True),
    Column("counted_by", String(200), nullable=True),
    Column("book", Exact(), nullable=True),
    Column("difference", Exact(), nullable=True),
    UniqueConstraint("stocktake_id", "item_id", "lot"),
    CheckConstraint("counted >= 0", name="counted_non_negative"),
)
