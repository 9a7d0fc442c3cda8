"""What the three-way match reads: each supplier invoice line (recorded by
`services/invoices.py`) with its order's price and quantity and what was received against it."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import Select, func, select

from leanstock.adapters.db import order_tables as o
from leanstock.adapters.db import supplier_tables as s
from leanstock.adapters.db import tables as t
from leanstock.adapters.db.base import Repository


class InvoicesRepository(Repository):
    def match_rows(
        self, supplier: str | None, order_id: int | None, since: date | None
    ) -> list[dict[str, Any]]:
        """Per invoice line: the order, supplier, line, SKU, the invoice's number, date,
        quantity and price, the line's ordered price and quantity, what it received
        (accepted) and all invoiced against it so far; oldest invoice first. Narrowed to the
        principal's supplier when it is bound."""
        every = s.supplier_invoices.alias("every")
        invoiced = (
            select(func.sum(every.c.quantity))
            .where(every.c.purchase_line_id == o.purchase_lines.c.id)
            .scalar_subquery()
        )
        query: Select[Any] = (
            select(
                s.supplier_invoices.c.id,
                o.purchase_orders.c.id.label("order_id"),
                t.suppliers.c.code.label("supplier"),
                o.purchase_lines.c.line_no,
                t.items.c.sku,
                s.supplier_invoices.c.invoice_number,
                s.supplier_invoices.c.invoiced_on,
                s.supplier_invoices.c.quantity,
                s.supplier_invoices.c.price,
                s.supplier_invoices.c.ordered_price,
                s.supplier_invoices.c.source,
                o.purchase_lines.c.quantity.label("ordered"),
                o.purchase_lines.c.received,
                invoiced.label("invoiced"),
            )
            .select_from(s.supplier_invoices)
            .join(o.purchase_lines, o.purchase_lines.c.id == s.supplier_invoices.c.purchase_line_id)
            .join(o.purchase_orders, o.purchase_orders.c.id == o.purchase_lines.c.order_id)
            .join(t.suppliers, t.suppliers.c.id == o.purchase_orders.c.supplier_id)
            .join(t.items, t.items.c.id == o.purchase_lines.c.item_id)
            .order_by(s.supplier_invoices.c.invoiced_on, s.supplier_invoices.c.id)
        )
        if self.visibility.supplier is not None:
            query = query.where(t.suppliers.c.code == self.visibility.supplier)
        if supplier is not None:
            query = query.where(t.suppliers.c.code == supplier)
        if order_id is not None:
            query = query.where(o.purchase_orders.c.id == order_id)
        if since is not None:
            query = query.where(s.supplier_invoices.c.invoiced_on >= since)
        return [dict(r._mapping) for r in self.db.execute(query)]
