"""Tables of EDI: the suppliers that trade by it (trading partners), and every interchange
received or sent, with the acknowledgement it got.

Defined on the same `metadata` as the rest, so one Alembic history builds them all.
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    Column,
    ForeignKey,
    Index,
    String,
    Table,
    Text,
    UniqueConstraint,
    text,
)

from leanstock.adapters.db.metadata import Id, Timestamp, metadata

# A supplier trading by EDI: the ids it sends from (ISA05/ISA06, GS02). The control number of
# the interchanges we send (ISA13, GS06) is counted in `settings` ("edi.last_control").
edi_partners = Table(
    "edi_partners",
    metadata,
    Column("supplier_id", Id, ForeignKey("suppliers.id"), primary_key=True),
    Column("qualifier", String(2), nullable=False),
    Column("interchange_id", String(15), nullable=False),
    Column("group_id", String(15), nullable=False),
    Column("created_at", Timestamp, nullable=False),
    Column("updated_at", Timestamp, nullable=False),
    UniqueConstraint("qualifier", "interchange_id"),
)

# Every interchange in or out: the text as received or written, its verdict and reasons, and
# (inbound) the acknowledgement sent back. An inbound one applied (accepted in whole or part)
# is unique per partner and control number: a resend is acknowledged again, never applied
# twice.
edi_interchanges = Table(
    "edi_interchanges",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("direction", String(3), nullable=False),
    Column("supplier_id", Id, ForeignKey("suppliers.id"), nullable=True, index=True),
    Column("control_number", String(9), nullable=False),
    Column("status", String(24), nullable=False),
    Column("digest", String(64), nullable=False),
    Column("document", Text, nullable=False),
    Column("acknowledgement", Text, nullable=True),
    Column("reasons", JSON, nullable=False),
    Column("documents", JSON, nullable=False),
    Column("created_by", String(320), nullable=False),
    Column("created_at", Timestamp, nullable=False, index=True),
    Index(
        "uq_edi_interchanges_applied",
        "supplier_id",
        "control_number",
        unique=True,
        postgresql_where=text("direction = 'in' AND status IN ('accepted', 'partially_accepted')"),
        sqlite_where=text("direction = 'in' AND status IN ('accepted', 'partially_accepted')"),
    ),
)

# Purchase orders sent as an 850: each once.
edi_sent_orders = Table(
    "edi_sent_orders",
    metadata,
    Column("order_id", Id, ForeignKey("purchase_orders.id"), primary_key=True),
    Column("interchange_id", Id, ForeignKey("edi_interchanges.id"), nullable=False),
)
