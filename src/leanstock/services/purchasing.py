"""Purchase orders: draft → released → acknowledged → shipped (ASN) → received → closed; cancel.

Receipts record the actual date and quantity against the promised ones (the supplier
scorecard reads `receipt_history`), may reject goods for quality (to quarantine or back to
the supplier, never to available stock), and reserve what arrives for the demands pegged to it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

import polars as pl

from leanstock.domain import catalog
from leanstock.domain.errors import InvalidInput, NotFound
from leanstock.domain.ledger import MoveKind, Posting, draw
from leanstock.domain.orders import (
    PegStatus,
    PurchaseLine,
    PurchaseOrder,
    PurchaseStatus,
    RejectTo,
    SupplyKind,
    order_id,
)
from leanstock.domain.orders import number as order_number
from leanstock.domain.orders.events import PromiseDateChanged
from leanstock.domain.quantities import non_negative, positive
from leanstock.services.backorders import fill_backorders
from leanstock.services.paging import Page, page_bounds
from leanstock.services.ports import LineRef, UnitOfWork
from leanstock.services.posting import (
    checked_time,
    current_day,
    known_item,
    physical_place,
    post,
    receive_lot,
    stock_price,
    stock_quantity,
)
from leanstock.services.pull import reserve_on_receipt, settle_pegs
from leanstock.services.retry import retrying
from leanstock.services.serials import arrivals

ZERO = Decimal(0)
QUARANTINE = "QUARANTINE"


@dataclass(frozen=True)
class NewPurchaseLine:
    sku: str
    quantity: Decimal
    location: str
    price: Decimal | None = None
    expected_date: date | None = None
    # The unit `quantity` and `price` are in (a purchase unit: a sack); None: the stock unit.
    unit: str | None = None


@dataclass(frozen=True)
class ReceiptLine:
    line_no: int
    quantity: Decimal
    rejected: Decimal = ZERO
    rejected_to: RejectTo = RejectTo.QUARANTINE
    lot: str | None = None
    expires_on: date | None = None
    # The unit `quantity` and `rejected` are in (a purchase unit: a sack); None: the stock unit.
    unit: str | None = None
    # A serial-tracked item: one serial per accepted unit.
    serials: tuple[str, ...] = ()
    # A serial-tracked item: one serial per unit rejected to the quarantine.
    rejected_serials: tuple[str, ...] = ()


@dataclass(frozen=True)
class PurchaseLineView:
    line_no: int
    sku: str
    location: str
    quantity: Decimal
    price: Decimal
    expected_date: date | None
    confirmed_quantity: Decimal | None
    confirmed_date: date | None
    shipped_quantity: Decimal
    received: Decimal
    rejected: Decimal
    outstanding: Decimal
    pegged_to: list[str] = field(default_factory=list)
    first_confirmed_quantity: Decimal | None = None
    first_confirmed_date: date | None = None
    acknowledged_at: datetime | None = None


@dataclass(frozen=True)
class PurchaseOrderView:
    number: str
    supplier: str
    status: str
    drop_ship_customer: str | None
    change_requested: bool
    ordered_at: datetime
    lines: list[PurchaseLineView]
    drop_ship_customer_code: str | None = None
    drop_ship_to: str | None = None


def purchase_id(value: str) -> int:
    found = order_id("purchase", value)
    if found is None:
        raise NotFound("purchase order", value, "order")
    return found


def _view(uow: UnitOfWork, order: PurchaseOrder) -> PurchaseOrderView:
    pegs = uow.pegs.of_supply(SupplyKind.PURCHASE, [ln.id or 0 for ln in order.lines])
    pegged: dict[int, list[str]] = {}
    for p in pegs:
        if p.status is not PegStatus.CANCELLED:
            pegged.setdefault(p.supply_id, []).append(p.reference)
    return PurchaseOrderView(
        order.number,
        order.supplier,
        order.status.value,
        order.drop_ship_customer,
        order.change_requested,
        order.ordered_at or datetime.now(UTC),
        [
            PurchaseLineView(
                ln.line_no,
                ln.sku,
                ln.location,
                ln.quantity,
                ln.price,
                ln.expected_date,
                ln.confirmed_quantity,
                ln.confirmed_date,
                ln.shipped_quantity,
                ln.received,
                ln.rejected,
                ln.outstanding,
                pegged.get(ln.id or 0, []),
                ln.first_confirmed_quantity,
                ln.first_confirmed_date,
                ln.acknowledged_at,
            )
            for ln in order.lines
        ],
        order.drop_ship_customer_code,
        order.drop_ship_to,
    )


def get_purchase_order(uow: UnitOfWork, number: str) -> PurchaseOrderView:
    with uow:
        order, _ = uow.purchasing.get(purchase_id(number))
        sees = uow.visibility
        if not (
            sees.sees_supplier(order.supplier) and sees.sees_any(ln.location for ln in order.lines)
        ):
            raise NotFound("purchase order", order.number, "order")
        return _view(uow, order)


def list_purchase_orders(
    uow: UnitOfWork,
    status: str | None = None,
    supplier: str | None = None,
    limit: int = 50,
    offset: int = 0,
) -> Page[dict[str, Any]]:
    limit, offset = page_bounds(limit, offset)
    if status is not None and status not in {s.value for s in PurchaseStatus}:
        raise InvalidInput(f"Unknown status {status!r}.", "status")
    with uow:
        rows, total = uow.purchasing.page(status, supplier, limit, offset)
    for row in rows:
        row["number"] = order_number("purchase", row.pop("id"))
    return Page(rows, total, limit, offset)


@retrying
def add_to_draft(
    uow: UnitOfWork,
    supplier: str,
    lines: Sequence[NewPurchaseLine],
    *,
    actor: str = "system",
    today: date | None = None,
) -> PurchaseOrderView:
    """Add lines to the supplier's open draft (created when there is none): one draft per supplier.

    Price and expected date default to the supplier's terms for the item (today + lead time).
    """
    with uow.acting(actor):
        order = draft_lines(uow, supplier, lines, current_day(today))
        uow.commit()
    return get_purchase_order(uow, order.number)


def draft_lines(
    uow: UnitOfWork, supplier: str, lines: Sequence[NewPurchaseLine], day: date
) -> PurchaseOrder:
    """`add_to_draft` inside the caller's transaction (a plan release records its line in
    the same one)."""
    if not lines:
        raise InvalidInput("A purchase order needs at least one line.", "lines")
    stored = uow.catalog.supplier(supplier, "supplier")
    order = uow.purchasing.open_draft(stored.id, supplier)
    next_no = max((ln.line_no for ln in order.lines), default=0) + 1
    added: list[PurchaseLine] = []
    for n, new in enumerate(lines, next_no):
        item = known_item(uow, new.sku, None, None)
        sku = item.value.sku  # `new.sku` may be a barcode
        place = physical_place(uow, new.location, "location")
        try:
            terms = uow.catalog.supplier_item(supplier, sku)
            price, lead = terms.price, terms.lead_time_days
        except NotFound:
            price, lead = ZERO, 0
        given = None if new.price is None else non_negative(new.price, "price")
        line = PurchaseLine(
            n,
            sku,
            new.location,
            stock_quantity(uow, item, positive(new.quantity), new.unit, "quantity"),
            price if given is None else stock_price(uow, item, given, new.unit),
            new.expected_date or day + timedelta(days=lead),
        )
        uow.purchasing.add_line(order.id or 0, line, item.id, place)
        added.append(line)
    order.add_lines(added)
    return order


@retrying
def release(
    uow: UnitOfWork, number: str, *, actor: str = "system", at: datetime | None = None
) -> PurchaseOrderView:
    """Send the order to the supplier (`at`: when, default now, which becomes its order time
    that lead times count from); from now on a change is a request to them."""
    when = checked_time(at) if at is not None else datetime.now(UTC)
    with uow.acting(actor):
        release_order(uow, number, when)
        uow.commit()
    return get_purchase_order(uow, number)


def release_order(uow: UnitOfWork, number: str, when: datetime | None = None) -> None:
    """`release` inside the caller's transaction."""
    order, _ = uow.purchasing.get(purchase_id(number), lock=True)
    order.release(when or datetime.now(UTC))
    uow.purchasing.save(order)


def _fit_pegs(uow: UnitOfWork, order: PurchaseOrder) -> None:
    """A line confirmed short can serve fewer demands: unpeg the newest beyond what will come."""
    for line in order.lines:
        pegs = [p for p in uow.pegs.of_supply(SupplyKind.PURCHASE, [line.id or 0]) if p.open > 0]
        excess = sum((p.open for p in pegs), ZERO) - line.outstanding
        for peg, cut in draw(reversed(pegs), excess):
            uow.pegs.save(peg.reduce(cut))


@retrying
def acknowledge(
    uow: UnitOfWork,
    number: str,
    lines: Mapping[int, tuple[Decimal | None, date | None]],
    *,
    actor: str = "system",
    at: datetime | None = None,
) -> PurchaseOrderView:
    """Record the supplier's confirmation: per line, the quantity and date they commit to
    (`at`: when they did, default now; the first one per line is kept for scorecards).

    A later date moves the promise dates of the sales lines pegged to the line (they are read
    from it); a smaller quantity unpegs the newest demands beyond it, which fall back to
    backorder.
    """
    with uow.acting(actor):
        order, _ = uow.purchasing.get(purchase_id(number), lock=True)
        acknowledge_order(
            uow, order, lines, checked_time(at) if at is not None else datetime.now(UTC)
        )
        uow.commit()
    return get_purchase_order(uow, number)


def acknowledge_order(
    uow: UnitOfWork,
    order: PurchaseOrder,
    lines: Mapping[int, tuple[Decimal | None, date | None]],
    at: datetime,
) -> None:
    """`acknowledge` inside the caller's transaction, on an order it has locked (an accepted
    proposal acknowledges this way, timed when the supplier proposed)."""
    before = {ln.line_no: ln.promised_date for ln in order.lines}
    checked = {
        n: (non_negative(q, "quantity") if q is not None else None, d)
        for n, (q, d) in lines.items()
    }
    order.acknowledge(checked, at)
    _fit_pegs(uow, order)
    uow.purchasing.save(order)
    for line in order.lines:
        old_date = before[line.line_no]
        if line.line_no in lines and line.promised_date != old_date:
            for peg in uow.pegs.of_supply(SupplyKind.PURCHASE, [line.id or 0]):
                if peg.open > 0:
                    uow.record(
                        PromiseDateChanged(
                            subject=peg.reference.split("/")[0],
                            line=peg.reference,
                            supply=f"{order.number}/{line.line_no}",
                            expected=(old_date, line.promised_date),
                        )
                    )


@retrying
def ship_notice(
    uow: UnitOfWork,
    number: str,
    lines: Mapping[int, Decimal] | None = None,
    expected_date: date | None = None,
    *,
    actor: str = "system",
) -> PurchaseOrderView:
    """The supplier's advance ship notice: quantities on the way (default all due), arrival date."""
    with uow.acting(actor):
        order, _ = uow.purchasing.get(purchase_id(number), lock=True)
        order.ship({n: non_negative(q) for n, q in (lines or {}).items()}, expected_date)
        uow.purchasing.save(order)
        uow.commit()
    return get_purchase_order(uow, number)


@retrying
def receive(
    uow: UnitOfWork,
    number: str,
    lines: Sequence[ReceiptLine],
    *,
    received_on: date | None = None,
    actor: str = "system",
) -> PurchaseOrderView:
    """Post a delivery: accepted goods supplier → location (→ customer for a drop-ship), rejected
    goods supplier → quarantine (or not posted at all when they go straight back, as goods a
    drop-ship customer refuses always do: they never reach our premises).

    What is accepted is reserved first for the demands pegged to the line.
    """
    if not lines:
        raise InvalidInput("A receipt needs at least one line.", "lines")
    day, moment = receipt_day(received_on)
    with uow.acting(actor):
        order, refs = uow.purchasing.get(purchase_id(number), lock=True)
        receive_order(uow, order, refs, lines, day, moment)
        uow.commit()
    return get_purchase_order(uow, number)


def receipt_day(received_on: date | None) -> tuple[date, datetime]:
    """The day a delivery is recorded on and the moment its moves happen (noon UTC of a
    given day; now, for today)."""
    day = received_on or current_day(None)
    moment = (
        checked_time(None)
        if received_on is None
        else checked_time(datetime.combine(received_on, time(12), tzinfo=UTC))
    )
    return day, moment


def receive_order(
    uow: UnitOfWork,
    order: PurchaseOrder,
    refs: Mapping[int, LineRef],
    lines: Sequence[ReceiptLine],
    day: date,
    moment: datetime,
) -> list[int]:
    """`receive` inside the caller's transaction, on an order it has locked; the ids of the
    receipt rows, one per line, in order."""
    supplier_place = uow.virtual_place(catalog.SUPPLIER)
    items = [known_item(uow, order.line(r.line_no).sku, None, r.lot) for r in lines]
    arrived = [
        (
            r.line_no,
            stock_quantity(uow, item, non_negative(r.quantity), r.unit, "quantity"),
            stock_quantity(uow, item, non_negative(r.rejected, "rejected"), r.unit, "rejected"),
        )
        for r, item in zip(lines, items, strict=True)
    ]
    order.post_receipt(arrived, day)
    made: list[int] = []
    for receipt, item, (_, accepted, rejected) in zip(lines, items, arrived, strict=True):
        line = order.line(receipt.line_no)
        promised = line.promised_date
        ref = refs[receipt.line_no]
        receive_lot(uow, item, receipt.lot, receipt.expires_on, day)
        drop_ship = order.drop_ship_customer is not None
        target = uow.virtual_place(catalog.CUSTOMER) if drop_ship else ref.place
        to_quarantine = (
            rejected > 0 and receipt.rejected_to is RejectTo.QUARANTINE and not drop_ship
        )
        quarantine = (
            uow.catalog.ensure_location(
                QUARANTINE, "Quarantine (rejected at receipt)", "quarantine"
            )
            if to_quarantine
            else None
        )
        if receipt.rejected_serials and quarantine is None:
            raise InvalidInput(
                "Rejected serials are named only for units rejected to the quarantine; "
                "leave rejected_serials out.",
                "rejected_serials",
            )
        both = set(receipt.serials) & set(receipt.rejected_serials)
        if both:
            raise InvalidInput(
                f"Serial {min(both)} of {line.sku} is named both accepted and rejected.",
                "rejected_serials",
            )
        if not drop_ship:  # the stock rows, then the serials
            held = [] if quarantine is None else [(ref.item_id, quarantine)]
            uow.ledger.lock_stocks(sorted([(ref.item_id, ref.place), *held], key=lambda r: r[1].id))
        serials = (
            arrivals(uow, item, accepted, receipt.serials, receipt.lot, supplier_place, target)
            if accepted > 0 or receipt.serials
            else []
        )
        if quarantine is not None:
            serials += arrivals(
                uow,
                item,
                rejected,
                receipt.rejected_serials,
                receipt.lot,
                supplier_place,
                quarantine,
            )
        postings: list[Posting] = []
        if accepted > 0:
            postings.append(
                Posting(
                    ref.item_id,
                    supplier_place,
                    target,
                    accepted,
                    receipt.lot,
                    unit_cost=line.price,
                )
            )
        if quarantine is not None:
            postings.append(
                Posting(
                    ref.item_id,
                    supplier_place,
                    quarantine,
                    rejected,
                    receipt.lot,
                    unit_cost=line.price,
                )
            )
        operation = post(
            uow,
            MoveKind.RECEIPT,
            item,
            postings,
            moment,
            f"{order.number}/{line.line_no}",
            order.supplier,
            "quality" if rejected > 0 else None,
            serials=serials,
        )
        receipt_id = uow.purchasing.add_receipt(
            ref.id,
            day,
            promised,
            accepted,
            rejected,
            receipt.rejected_to.value if rejected > 0 else None,
            operation.id,
        )
        made.append(receipt_id)
        if accepted > 0 and drop_ship:
            _deliver_drop_ship(uow, ref.id, accepted)
        elif accepted > 0:
            reserve_on_receipt(uow, SupplyKind.PURCHASE, ref.id, ref.item_id, ref.place, accepted)
            fill_backorders(
                uow, ref.item_id, ref.place, current_day(None), f"{order.number}/{line.line_no}"
            )
    uow.purchasing.save(order)
    return made


def _deliver_drop_ship(uow: UnitOfWork, purchase_line_id: int, arrived: Decimal) -> None:
    """A drop-ship delivery reached the customer: it ships the pegged sales lines."""
    for peg, take in draw(uow.pegs.of_supply(SupplyKind.PURCHASE, [purchase_line_id]), arrived):
        uow.pegs.save(peg.receive(take))
        sales, _refs = uow.sales.get(uow.sales.order_of_line(peg.demand_id), lock=True)
        line = next(ln for ln in sales.lines if ln.id == peg.demand_id)
        sales.ship({line.line_no: take}, drop_ship=True)
        uow.sales.save(sales)


def _ended(uow: UnitOfWork, order: PurchaseOrder) -> list[str]:
    """End the open pegs of every line (nothing more will come); the demands they served."""
    return [
        p.reference for ln in order.lines for p in settle_pegs(uow, SupplyKind.PURCHASE, ln.id or 0)
    ]


@retrying
def close(uow: UnitOfWork, number: str, *, actor: str = "system") -> PurchaseOrderView:
    """Close a received order; what was not delivered will not come, so its pegs end."""
    with uow.acting(actor):
        order, _ = uow.purchasing.get(purchase_id(number), lock=True)
        order.close(_ended(uow, order))
        uow.purchasing.save(order)
        uow.commit()
    return get_purchase_order(uow, number)


@retrying
def cancel(
    uow: UnitOfWork, number: str, *, reason: str | None = None, actor: str = "system"
) -> PurchaseOrderView:
    """Cancel an order nothing has been received against; the demands it served backorder."""
    with uow.acting(actor):
        order, _ = uow.purchasing.get(purchase_id(number), lock=True)
        order.cancel(reason, _ended(uow, order))
        uow.purchasing.save(order)
        uow.commit()
    return get_purchase_order(uow, number)


RECEIPT_SCHEMA = pl.Schema(
    [
        ("supplier", pl.String),
        ("item", pl.String),
        ("ordered_at", pl.Datetime("us", "UTC")),
        ("promised_date", pl.Date),
        ("received_date", pl.Date),
        ("ordered_qty", pl.Float64),
        ("received_qty", pl.Float64),
        ("rejected_qty", pl.Float64),
        ("line_id", pl.Int64),
        ("requested_date", pl.Date),
        ("first_confirmed_date", pl.Date),
    ]
)


def receipt_history(
    uow: UnitOfWork, supplier: str | None = None, since: date | None = None
) -> pl.DataFrame:
    """One row per delivery: what was promised against what came, for supplier scorecards.

    Columns supplier, item, ordered_at (when the order was released), promised_date (the
    supplier's confirmed date, else our expected date, as it stood at delivery), received_date,
    ordered_qty (the line's ordered quantity), received_qty (all that arrived in this delivery,
    accepted or not), rejected_qty (refused for quality), line_id, requested_date (the date
    we asked for) and first_confirmed_date (the date the supplier first committed to). Only
    one supplier's, and only those received from `since` on, if given.
    """
    with uow:
        rows = uow.purchasing.receipt_rows(supplier, since)
    if not rows:
        return pl.DataFrame(schema=RECEIPT_SCHEMA)
    return pl.DataFrame(
        {
            "supplier": [r["supplier"] for r in rows],
            "item": [r["item"] for r in rows],
            "ordered_at": [_utc(r["ordered_at"]) for r in rows],
            "promised_date": [r["promised_date"] for r in rows],
            "received_date": [r["received_date"] for r in rows],
            "ordered_qty": [float(r["ordered_qty"]) for r in rows],
            "received_qty": [float(r["received_qty"]) for r in rows],
            "rejected_qty": [float(r["rejected_qty"]) for r in rows],
            "line_id": [r["line_id"] for r in rows],
            "requested_date": [r["requested_date"] for r in rows],
            "first_confirmed_date": [r["first_confirmed_date"] for r in rows],
        },
        schema=RECEIPT_SCHEMA,
    )


def _utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
