"""Every table of the schema on one MetaData: what Alembic compares the database with."""

from __future__ import annotations

from leanstock.adapters.db import order_tables, planning_tables, tables
from leanstock.adapters.db.metadata import metadata

__all__ = ["metadata", "order_tables", "planning_tables", "tables"]
