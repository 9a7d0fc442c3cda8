"""Every table of the schema on one MetaData: what Alembic compares the database with."""

from __future__ import annotations

from leanstock.adapters.db import (
    account_tables,
    order_tables,
    planning_tables,
    supplier_tables,
    tables,
    webhook_tables,
)
from leanstock.adapters.db.metadata import metadata

__all__ = [
    "account_tables",
    "metadata",
    "order_tables",
    "planning_tables",
    "supplier_tables",
    "tables",
    "webhook_tables",
]
