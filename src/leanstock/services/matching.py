"""The three-way match: purchase order, receipts and supplier invoices, for review.

Invoices are recorded per purchase line by `services/invoices.py` (from the API, or an EDI
810), each keeping the price the line was ordered at. The match is computed when read, so a
delivery received after the invoice clears the quantity variance it caused:

- price variance, per invoice line: (invoiced price − ordered price) × invoiced quantity,
  flagged when the price differs by more than `price_tolerance` (a fraction of the ordered
  price; 0 by default: any difference is for review);
- quantity variance, per purchase line: everything invoiced against the line − what was
  received and accepted (rejects are not owed), valued at the ordered price; flagged when
  over `quantity_tolerance` units (0 by default). Positive: billed for goods not (yet) here.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from leanstock.domain.errors import InvalidInput
from leanstock.domain.orders import number as order_number
from leanstock.services.paging import Page, page_bounds
from leanstock.services.ports import UnitOfWork
from leanstock.services.purchasing import purchase_id

ZERO = Decimal(0)


@dataclass(frozen=True)
class Variance:
    """One finding of the three-way match, for review."""

    kind: str  # "price" or "quantity"
    order: str
    supplier: str
    line_no: int
    sku: str
    invoice: str
    invoiced_on: date
    ordered_price: Decimal
    invoiced_price: Decimal
    ordered: Decimal
    received: Decimal
    invoiced: Decimal
    difference: Decimal  # per unit (price) or in units (quantity)
    amount: Decimal  # in money, positive when we are billed more than the match supports


def variances(
    uow: UnitOfWork,
    *,
    supplier: str | None = None,
    order: str | None = None,
    since: date | None = None,
    price_tolerance: Decimal = ZERO,
    quantity_tolerance: Decimal = ZERO,
    limit: int = 50,
    offset: int = 0,
) -> Page[Variance]:
    """The three-way match's findings (module docstring), oldest invoice first: the price
    variances of each invoice line, and each purchase line's quantity variance (on its latest
    invoice)."""
    limit, offset = page_bounds(limit, offset)
    if price_tolerance < 0 or quantity_tolerance < 0:
        raise InvalidInput("A tolerance must not be negative.", "tolerance")
    with uow:
        rows = uow.invoices.match_rows(
            supplier, purchase_id(order) if order is not None else None, since
        )
    found: list[Variance] = []
    last_of_line: dict[tuple[int, int], dict[str, object]] = {}
    for row in rows:
        number = order_number("purchase", row["order_id"])
        ordered_price: Decimal = row["ordered_price"]
        price: Decimal = row["price"]
        if abs(price - ordered_price) > price_tolerance * ordered_price:
            found.append(_variance("price", number, row, price - ordered_price, row["quantity"]))
        last_of_line[(row["order_id"], row["line_no"])] = row
    for row in last_of_line.values():
        number = order_number("purchase", int(str(row["order_id"])))
        invoiced = Decimal(str(row["invoiced"]))
        received = Decimal(str(row["received"]))
        if abs(invoiced - received) > quantity_tolerance:
            found.append(_variance("quantity", number, row, invoiced - received, ONE))
    found.sort(key=lambda v: (v.invoiced_on, v.order, v.line_no, v.kind))
    return Page(found[offset : offset + limit], len(found), limit, offset)


ONE = Decimal(1)


def _variance(
    kind: str, order: str, row: dict[str, object], difference: Decimal, units: Decimal
) -> Variance:
    ordered_price = Decimal(str(row["ordered_price"]))
    price = Decimal(str(row["price"]))
    amount = difference * units if kind == "price" else difference * ordered_price
    invoiced_on = row["invoiced_on"]
    assert isinstance(invoiced_on, date)
    return Variance(
        kind,
        order,
        str(row["supplier"]),
        int(str(row["line_no"])),
        str(row["sku"]),
        str(row["invoice_number"]),
        invoiced_on,
        ordered_price,
        price,
        Decimal(str(row["ordered"])),
        Decimal(str(row["received"])),
        Decimal(str(row["invoiced"])),
        difference,
        amount,
    )
