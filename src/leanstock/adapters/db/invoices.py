"""Supplier invoices per purchase line, and what the three-way match reads: each invoiced line
with its order's price and quantity and what was received against it."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

from sqlalchemy import Select, func, select

from leanstock.adapters.db import order_tables as o
from leanstock.adapters.db import supplier_tables as s
from leanstock.adapters.db import tables as t
from leanstock.adapters.db.base import Repository, utc_now
from leanstock.services.records import InvoicedLine


class InvoicesRepository(Repository):
    def recorded(self, order_id: int, invoice_number: str) -> bool:
        """Whether an invoice of this number is recorded against the order."""
        return (
            self.db.execute(
                select(s.supplier_invoices.c.id)
                .join(
                    o.purchase_lines,
                    o.purchase_lines.c.id == s.supplier_invoices.c.purchase_line_id,
                )
                .where(
                    o.purchase_lines.c.order_id == order_id,
                    s.supplier_invoices.c.invoice_number == invoice_number,
                )
                .limit(1)
            ).first()
            is not None
        )

    def add(self, lines: Sequence[InvoicedLine], source: str, created_by: str) -> None:
        now = utc_now()
        self.db.execute(
            s.supplier_invoices.insert(),
            [
                {
                    "purchase_line_id": ln.purchase_line_id,
                    "invoice_number": ln.invoice,
                    "invoiced_on": ln.invoiced_on,
                    "quantity": ln.quantity,
                    "price": ln.price,
                    "ordered_price": ln.ordered_price,
                    "source": source,
                    "created_by": created_by,
                    "created_at": now,
                }
                for ln in lines
            ],
        )

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
