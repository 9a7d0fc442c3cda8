"""Loading past orders in bulk (the demo business, a move from another system)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import select, text

from leanstock.adapters.db import order_tables as o
from leanstock.adapters.db import tables as t
from leanstock.adapters.db.base import Repository


class HistoryRepository(Repository):
    def empty(self) -> bool:
        """No sales or purchase orders yet, so history may bring its own order numbers."""
        return all(
            self.db.execute(select(table.c.id).limit(1)).first() is None
            for table in (o.sales_orders, o.purchase_orders)
        )

    def catalog_ids(self) -> tuple[dict[str, int], dict[str, int]]:
        """(item id by SKU, supplier id by code), for loading history in bulk."""
        items = {sku: int(i) for sku, i in self.db.execute(select(t.items.c.sku, t.items.c.id))}
        suppliers = {
            code: int(i)
            for code, i in self.db.execute(select(t.suppliers.c.code, t.suppliers.c.id))
        }
        return items, suppliers

    def add(
        self,
        sales_orders: Sequence[dict[str, Any]],
        sales_lines: Sequence[dict[str, Any]],
        purchase_orders: Sequence[dict[str, Any]],
        purchase_lines: Sequence[dict[str, Any]],
        receipts: Sequence[dict[str, Any]],
    ) -> None:
        """Insert past orders as given, ids included (their numbers are already in the moves'
        references), then move PostgreSQL's id sequences past them.
        """
        for table, rows in (
            (o.sales_orders, sales_orders),
            (o.sales_lines, sales_lines),
            (o.purchase_orders, purchase_orders),
            (o.purchase_lines, purchase_lines),
            (o.receipts, receipts),
        ):
            if rows:
                self.db.execute(table.insert(), list(rows))
        if self.dialect == "postgresql":
            for name in ("sales_orders", "sales_lines", "purchase_orders", "purchase_lines"):
                self.db.execute(
                    text(
                        f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), "
                        f"(SELECT COALESCE(MAX(id), 0) + 1 FROM {name}), false)"
                    )
                )
