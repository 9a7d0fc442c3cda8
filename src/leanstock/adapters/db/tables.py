"""The schema, as SQLAlchemy Core tables. Alembic migrations (leanstock/migrations) build it."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Column,
    Date,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Table,
    Text,
    UniqueConstraint,
    false,
    true,
)

from leanstock.adapters.db.metadata import Id, Timestamp, metadata
from leanstock.adapters.db.types import Exact

items = Table(
    "items",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("sku", String(64), nullable=False, unique=True),
    Column("name", String(200), nullable=False),
    Column("unit", String(16), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("category", String(64), nullable=False, index=True),
    Column("unit_cost", Exact(), nullable=False),
    Column("lot_tracked", Boolean, nullable=False),
    Column("shelf_life_days", Integer, nullable=True),
    Column("policy", String(32), nullable=False),
    Column("active", Boolean, nullable=False),
    Column("created_at", Timestamp, nullable=False),
    Column("updated_at", Timestamp, nullable=False),
    # fifo or moving_average; NULL: the company's default (settings.costing_method).
    Column("costing", String(16), nullable=True),
    Column("divisible", Boolean, nullable=False, server_default=true()),
    # Every unit carries a serial (`serials`), named whenever it moves.
    Column("serial_tracked", Boolean, nullable=False, server_default=false()),
)

# Units an item may be bought, sold or counted in besides its stock unit: 1 `unit` = `factor`
# stock units (a sack = 25 kg). The ledger always posts in the stock unit.
item_units = Table(
    "item_units",
    metadata,
    Column("item_id", Id, ForeignKey("items.id"), primary_key=True),
    Column("unit", String(16), primary_key=True),
    Column("factor", Exact(), nullable=False),
    CheckConstraint("factor > 0", name="positive_factor"),
)

# The barcodes (GTINs) an item is known by besides its SKU; one item may have several (a
# single bottle and its case), a barcode belongs to one item only.
item_barcodes = Table(
    "item_barcodes",
    metadata,
    Column("barcode", String(14), primary_key=True),
    Column("item_id", Id, ForeignKey("items.id"), nullable=False, index=True),
    Column("created_at", Timestamp, nullable=False),
)

# Who sales orders go to. Orders refer to a record (order_tables.sales_order_customers) and
# keep the customer's name as ordered; a walk-in sale has a name and no record.
customers = Table(
    "customers",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("code", String(64), nullable=False, unique=True),
    Column("name", String(200), nullable=False),
    Column("email", String(200), nullable=True),
    Column("phone", String(200), nullable=True),
    Column("billing_address", Text, nullable=True),
    Column("shipping_address", Text, nullable=True),
    Column("priority", Integer, nullable=False),
    Column("active", Boolean, nullable=False),
    Column("created_at", Timestamp, nullable=False),
    Column("updated_at", Timestamp, nullable=False),
    CheckConstraint("priority BETWEEN 1 AND 9", name="priority_range"),
)

# Company-wide settings, one row per key (costing_method, closed_through, ...).
settings = Table(
    "settings",
    metadata,
    Column("key", String(64), primary_key=True),
    Column("value", String(200), nullable=False),
    Column("updated_at", Timestamp, nullable=False),
)

locations = Table(
    "locations",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("code", String(64), nullable=False, unique=True),
    Column("name", String(200), nullable=False),
    Column("kind", String(32), nullable=False),
    Column("allow_negative", Boolean, nullable=False),
    Column("created_at", Timestamp, nullable=False),
)

suppliers = Table(
    "suppliers",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("code", String(64), nullable=False, unique=True),
    Column("name", String(200), nullable=False),
    Column("email", String(200), nullable=True),
    Column("active", Boolean, nullable=False),
    Column("created_at", Timestamp, nullable=False),
)

supplier_items = Table(
    "supplier_items",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("supplier_id", Id, ForeignKey("suppliers.id"), nullable=False),
    Column("item_id", Id, ForeignKey("items.id"), nullable=False, index=True),
    Column("supplier_sku", String(64), nullable=True),
    Column("price", Exact(), nullable=False),
    Column("lead_time_days", Integer, nullable=False),
    Column("moq", Exact(), nullable=False),
    Column("pack_size", Exact(), nullable=False),
    Column("priority", Integer, nullable=False),
    # All-units quantity discounts: [[min_quantity, price], ...] as exact decimal strings.
    Column("price_breaks", JSON, nullable=False, server_default="[]"),
    UniqueConstraint("supplier_id", "item_id"),
    CheckConstraint("lead_time_days >= 0", name="lead_time"),
    CheckConstraint("moq > 0 AND pack_size > 0", name="moq_pack"),
)

lots = Table(
    "lots",
    metadata,
    Column("item_id", Id, ForeignKey("items.id"), primary_key=True),
    Column("code", String(64), primary_key=True),
    Column("expires_on", Date, nullable=True),
    Column("created_at", Timestamp, nullable=False),
)

operations = Table(
    "operations",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("kind", String(32), nullable=False),
    Column("reference", String(200), nullable=True, index=True),
    Column("partner", String(64), nullable=True),
    Column("reason", String(32), nullable=True),
    Column("note", Text, nullable=True),
    Column("occurred_at", Timestamp, nullable=False),
    Column("recorded_at", Timestamp, nullable=False),
)

moves = Table(
    "moves",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("operation_id", Id, ForeignKey("operations.id"), nullable=False, index=True),
    Column("item_id", Id, ForeignKey("items.id"), nullable=False),
    Column("lot", String(64), nullable=True),
    Column("source_id", Id, ForeignKey("locations.id"), nullable=False),
    Column("target_id", Id, ForeignKey("locations.id"), nullable=False),
    Column("quantity", Exact(), nullable=False),
    Column("kind", String(32), nullable=False),
    Column("occurred_at", Timestamp, nullable=False),
    # Stock arriving from outside: its cost per stock unit (a receipt's price, a count gain's
    # cost). Other moves carry the cost of where they came from (domain.costing).
    Column("unit_cost", Exact(), nullable=True),
    # A production output: the conversion cost (labour, energy) it adds to its components.
    Column("conversion_cost", Exact(), nullable=True),
    CheckConstraint("quantity > 0", name="positive"),
    CheckConstraint("source_id <> target_id", name="two_locations"),
    Index(None, "item_id", "occurred_at"),
)

# One row per serial of a serial-tracked item: where it is now (its last move's target), so a
# serial is in one place at a time by construction (one row per item and serial).
serials = Table(
    "serials",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("item_id", Id, ForeignKey("items.id"), nullable=False),
    Column("serial", String(64), nullable=False),
    Column("lot", String(64), nullable=True),
    Column("location_id", Id, ForeignKey("locations.id"), nullable=False),
    Column("created_at", Timestamp, nullable=False),
    UniqueConstraint("item_id", "serial"),
    Index("ix_serials_item_id_location_id", "item_id", "location_id"),
)

# Which serials each operation moved, from where to where: a serial's history (append-only,
# like the moves it goes with).
serial_moves = Table(
    "serial_moves",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("serial_id", Id, ForeignKey("serials.id"), nullable=False, index=True),
    Column("operation_id", Id, ForeignKey("operations.id"), nullable=False, index=True),
    Column("source_id", Id, ForeignKey("locations.id"), nullable=False),
    Column("target_id", Id, ForeignKey("locations.id"), nullable=False),
)

# The trace of a backdated operation: what the outflows after its date were valued at before it
# was posted, and after. Values are replayed from the moves (domain.costing), so nothing stored
# is edited; this records that, and by how much, a late move re-valued later ones.
revaluations = Table(
    "revaluations",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("operation_id", Id, ForeignKey("operations.id"), nullable=False, index=True),
    Column("item_id", Id, ForeignKey("items.id"), nullable=False),
    Column("occurred_at", Timestamp, nullable=False),
    Column("recorded_at", Timestamp, nullable=False),
    Column("later_cost_before", Exact(), nullable=False),
    Column("later_cost_after", Exact(), nullable=False),
)

# A large revaluation (a backdated operation with many later moves of its item) is traced by
# the worker, not in the posting transaction: one row per operation and item, its status
# visible (queued, running, done, failed) until the revaluation row is written.
revaluation_jobs = Table(
    "revaluation_jobs",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("operation_id", Id, ForeignKey("operations.id"), nullable=False),
    Column("item_id", Id, ForeignKey("items.id"), nullable=False),
    Column("occurred_at", Timestamp, nullable=False),
    Column("later_moves", Integer, nullable=False),
    Column("status", String(16), nullable=False, index=True),
    Column("error", Text, nullable=True),
    Column("created_at", Timestamp, nullable=False),
    Column("started_at", Timestamp, nullable=True),
    Column("finished_at", Timestamp, nullable=True),
)

# The KPIs' cost snapshot: per month, item and location, what the costing replay found
# (closing stock and value as of `through`, the value held × days from the month's start to
# `through`, its time-weighted average then, cost of goods sold and scrap by reason). A cache
# of the replay, brought up to date with the moves recorded since (`services/kpi_snapshot.py`);
# nothing else reads it.
kpi_months = Table(
    "kpi_months",
    metadata,
    Column("month", Date, primary_key=True),
    Column("item_id", Id, ForeignKey("items.id"), primary_key=True),
    Column("location_id", Id, ForeignKey("locations.id"), primary_key=True),
    Column("closing_quantity", Exact(), nullable=False),
    Column("closing_value", Exact(), nullable=False),
    Column("average_value", Exact(), nullable=False),
    Column("sold_value", Exact(), nullable=False),
    Column("scrapped", JSON, nullable=False),
    Column("value_days", Exact(), nullable=False),
    Column("through", Timestamp, nullable=False),
)

# Where the snapshot's replay stopped, per item and holding location: the cost layers held
# (FIFO layers, or one moving-average layer) and the last arrival, as [quantity, value] text,
# and the open month's row as of `since`. The next refresh replays only later moves from it.
kpi_tracks = Table(
    "kpi_tracks",
    metadata,
    Column("item_id", Id, ForeignKey("items.id"), primary_key=True),
    Column("location_id", Id, ForeignKey("locations.id"), primary_key=True),
    Column("month", Date, nullable=False),
    Column("since", Timestamp, nullable=False),
    Column("quantity", Exact(), nullable=False),
    Column("value", Exact(), nullable=False),
    Column("layers", JSON, nullable=False),
    Column("last_arrival", JSON, nullable=True),
)

# The snapshot's one row: the ledger's watermark, the month it was rolled to and the value
# production orders consumed (`state`), and the item costs and methods it was replayed with
# (`costs`). Locked while a refresh writes the snapshot.
kpi_snapshot = Table(
    "kpi_snapshot",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("state", JSON, nullable=True),
    Column("costs", JSON, nullable=True),
)

# Per item, location and lot ('' for untracked stock): the sum of the moves, kept in step with
# them in the same transaction. Only locations allowed to go negative may hold less than zero.
balances = Table(
    "balances",
    metadata,
    Column("item_id", Id, ForeignKey("items.id"), primary_key=True),
    Column("location_id", Id, ForeignKey("locations.id"), primary_key=True),
    Column("lot", String(64), primary_key=True),
    Column("quantity", Exact(), nullable=False),
    Column("may_go_negative", Boolean, nullable=False),
    CheckConstraint("quantity >= 0 OR may_go_negative", name="non_negative"),
)

# Per item and location: on hand over all lots and what is reserved of it. This row is the lock
# every stock-changing transaction takes first (SELECT ... FOR UPDATE), so checks and writes of
# one item-location never interleave.
stock = Table(
    "stock",
    metadata,
    Column("item_id", Id, ForeignKey("items.id"), primary_key=True),
    Column("location_id", Id, ForeignKey("locations.id"), primary_key=True),
    Column("on_hand", Exact(), nullable=False),
    Column("reserved", Exact(), nullable=False),
    Column("may_go_negative", Boolean, nullable=False),
    CheckConstraint("on_hand >= 0 OR may_go_negative", name="non_negative"),
    CheckConstraint("reserved >= 0", name="reserved_non_negative"),
)

reservations = Table(
    "reservations",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("item_id", Id, ForeignKey("items.id"), nullable=False),
    Column("location_id", Id, ForeignKey("locations.id"), nullable=False),
    Column("reference", String(200), nullable=False, index=True),
    Column("quantity", Exact(), nullable=False),
    Column("open_quantity", Exact(), nullable=False),
    Column("status", String(16), nullable=False),
    Column("created_at", Timestamp, nullable=False),
    Column("updated_at", Timestamp, nullable=False),
    CheckConstraint("quantity > 0", name="positive"),
    CheckConstraint("open_quantity >= 0 AND open_quantity <= quantity", name="open_within"),
    Index(None, "item_id", "location_id"),
)

# Responses to POSTs sent with an Idempotency-Key, replayed when the same request comes again.
idempotency_keys = Table(
    "idempotency_keys",
    metadata,
    Column("key", String(200), primary_key=True),
    Column("fingerprint", String(64), nullable=False),
    Column("status_code", Integer, nullable=True),
    Column("content_type", String(100), nullable=True),
    Column("body", LargeBinary, nullable=True),
    Column("created_at", Timestamp, nullable=False, index=True),
)
