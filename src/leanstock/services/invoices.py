"""Supplier invoices, per purchase line: what the supplier billed against what we ordered.

`record_invoice` is the one way an invoice gets in, from the API or from an EDI 810
(`source="edi"`): each invoiced line keeps its price beside the line's ordered price, and the
supplier scorecard's price variance reads them (`scorecards.price_variance`). An invoice
number is recorded once per order: the same number again is refused and changes nothing, so
a re-sent interchange is applied once.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from leanstock.domain import catalog
from leanstock.domain.errors import Conflict, InvalidInput, NotFound
from leanstock.domain.events import Changed
from leanstock.domain.orders import PurchaseStatus
from leanstock.domain.quantities import non_negative, positive
from leanstock.services import purchasing
from leanstock.services.ports import UnitOfWork
from leanstock.services.posting import current_day
from leanstock.services.retry import retrying

SOURCES = ("api", "edi")


@dataclass(frozen=True)
class InvoiceLine:
    """One invoiced purchase line: the quantity billed and the unit price."""

    line_no: int
    quantity: Decimal
    price: Decimal


@dataclass(frozen=True)
class InvoiceView:
    order: str
    supplier: str
    invoice_number: str
    invoiced_on: date
    lines: list[dict[str, Any]]
    """Per line: quantity, price, ordered price, received (accepted so far) and the flags a
    reviewer needs: `price_variance` (per unit, invoiced − ordered) and `over_received`."""


@retrying
def record_invoice(
    uow: UnitOfWork,
    number: str,
    invoice_number: str,
    lines: Sequence[InvoiceLine],
    *,
    invoiced_on: date | None = None,
    source: str = "api",
    actor: str = "system",
) -> InvoiceView:
    """Record a supplier's invoice for lines of a released purchase order (audited)."""
    reference = catalog.code(invoice_number.strip(), "invoice_number")
    if source not in SOURCES:
        raise InvalidInput(f"Unknown source {source!r}: use one of {', '.join(SOURCES)}.", "source")
    if not lines:
        raise InvalidInput("An invoice needs at least one line.", "lines")
    numbers = [ln.line_no for ln in lines]
    if len(set(numbers)) != len(numbers):
        raise InvalidInput("Each purchase line appears once on an invoice.", "lines")
    day = invoiced_on or current_day(None)
    with uow.acting(actor):
        order, refs = uow.purchasing.get(purchasing.purchase_id(number), lock=True)
        if not uow.visibility.sees_supplier(order.supplier):
            raise NotFound("purchase order", order.number, "order")
        if order.status in (PurchaseStatus.DRAFT, PurchaseStatus.CANCELLED):
            raise Conflict(
                f"{order.number} is {order.status.value}; only an order sent to the supplier "
                "is invoiced."
            )
        if uow.supplier_channel.invoice_exists(order.id or 0, reference):
            raise Conflict(
                f"Invoice {reference} on {order.number} is recorded already; nothing was changed."
            )
        shown: list[dict[str, Any]] = []
        for new in lines:
            line = order.line(new.line_no)
            quantity = positive(new.quantity, "quantity")
            price = non_negative(new.price, "price")
            uow.supplier_channel.add_invoice_line(
                refs[new.line_no].id, reference, day, quantity, price, line.price, source, actor
            )
            shown.append(
                {
                    "line": new.line_no,
                    "sku": line.sku,
                    "quantity": quantity,
                    "price": price,
                    "ordered_price": line.price,
                    "received": line.received,
                    "price_variance": price - line.price,
                    "over_received": quantity > line.received,
                }
            )
        uow.record(
            Changed(
                subject=order.number,
                verb="record_invoice",
                values={"invoice": reference, "source": source, "on": day, "lines": shown},
            )
        )
        uow.commit()
    return InvoiceView(order.number, order.supplier, reference, day, shown)
