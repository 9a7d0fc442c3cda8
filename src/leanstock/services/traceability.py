"""Lot traceability: where a lot came from and where it went, both ways through production.

The genealogy is the ledger itself: a lot's receipt names its supplier, a production order's
consumption moves name the component lots it used and its production move the batch's lot
(both under the order's number), and a shipment names its customer. A trace follows those
links backward (which supplier lots went into this batch) and forward (which batches this lot
went into, and which customers received any of them: the recall list).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from leanstock.domain import catalog
from leanstock.domain.errors import NotFound
from leanstock.services.ports import UnitOfWork

MAX_LOTS = 1000  # a trace never walks more lots than this (a guard against runaway graphs)


@dataclass(frozen=True)
class LotRef:
    sku: str
    lot: str


@dataclass(frozen=True)
class Receipt:
    sku: str
    lot: str
    supplier: str | None
    reference: str | None
    quantity: Decimal
    occurred_at: datetime


@dataclass(frozen=True)
class Delivery:
    sku: str
    lot: str
    customer: str | None
    reference: str | None
    location: str
    quantity: Decimal
    occurred_at: datetime
    # The serials of a serial-tracked item the customer received (a recall by serial).
    serials: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Batch:
    """A production order that made `made` from `used` (lot-level genealogy)."""

    reference: str
    made: list[tuple[str, str | None, Decimal]]
    used: list[tuple[str, str | None, Decimal]]


@dataclass
class LotTrace:
    sku: str
    lot: str
    expires_on: date | None
    moves: list[dict[str, Any]]
    on_hand: dict[str, Decimal]
    made_in: list[Batch] = field(default_factory=list)
    used_in: list[Batch] = field(default_factory=list)
    supplier_lots: list[Receipt] = field(default_factory=list)
    upstream: list[LotRef] = field(default_factory=list)
    downstream: list[LotRef] = field(default_factory=list)
    customers: list[Delivery] = field(default_factory=list)


def _batch(uow: UnitOfWork, reference: str) -> Batch:
    made: list[tuple[str, str | None, Decimal]] = []
    used: list[tuple[str, str | None, Decimal]] = []
    for m in uow.reports.batch_moves(reference):
        entry = (m["sku"], m["lot"] or None, m["quantity"])
        (made if m["kind"] == "production" else used).append(entry)
    return Batch(reference, made, used)


def trace(uow: UnitOfWork, sku: str, lot: str) -> LotTrace:
    """The lot's own moves and stock, the batches it was made in and used in, every lot
    upstream (down to the supplier receipts) and downstream, and every customer delivery of
    it or of anything made from it."""
    with uow:
        item = uow.catalog.item(sku)
        known = uow.ledger.lot(item.id, lot)
        if known is None:
            raise NotFound("lot", f"{lot} of {sku}", "lot")
        ids: dict[str, int] = {sku: item.id}

        def moves_of(ref: LotRef) -> list[dict[str, Any]]:
            if ref.sku not in ids:
                ids[ref.sku] = uow.catalog.item(ref.sku).id
            return uow.reports.lot_moves(ids[ref.sku], ref.lot)

        start = LotRef(sku, lot)
        own = moves_of(start)
        result = LotTrace(sku, lot, known.expires_on, own, _on_hand(own))
        batches: dict[str, Batch] = {}

        def batch(reference: str) -> Batch:
            if reference not in batches:
                batches[reference] = _batch(uow, reference)
            return batches[reference]

        # Backward: receipts of this lot, and the component lots of the batches that made it.
        seen = {start}
        queue = [(start, own)]
        while queue and len(seen) < MAX_LOTS:
            ref, trail = queue.pop(0)
            for m in trail:
                if m["source"] == catalog.SUPPLIER and m["kind"] == "receipt":
                    result.supplier_lots.append(
                        Receipt(
                            ref.sku,
                            ref.lot,
                            m["partner"],
                            m["reference"],
                            m["quantity"],
                            m["occurred_at"],
                        )
                    )
                if m["kind"] == "production" and m["reference"]:
                    made = batch(m["reference"])
                    if ref == start and made not in result.made_in:
                        result.made_in.append(made)
                    for component, component_lot, _ in made.used:
                        up = LotRef(component, component_lot) if component_lot else None
                        if up is not None and up not in seen:
                            seen.add(up)
                            result.upstream.append(up)
                            queue.append((up, moves_of(up)))
        # Forward: customer deliveries of this lot, and of the batches it went into.
        seen = {start}
        queue = [(start, own)]
        while queue and len(seen) < MAX_LOTS:
            ref, trail = queue.pop(0)
            for m in trail:
                if m["target"] == catalog.CUSTOMER:
                    operation = int(m["operation_id"])
                    got = uow.serials.moved_by([operation], ids[ref.sku], ref.lot)
                    result.customers.append(
                        Delivery(
                            ref.sku,
                            ref.lot,
                            m["partner"],
                            m["reference"],
                            m["source"],
                            m["quantity"],
                            m["occurred_at"],
                            got.get(operation, []),
                        )
                    )
                if m["kind"] == "consumption" and m["reference"]:
                    used = batch(m["reference"])
                    if ref == start and used not in result.used_in:
                        result.used_in.append(used)
                    for product, product_lot, _ in used.made:
                        down = LotRef(product, product_lot) if product_lot else None
                        if down is not None and down not in seen:
                            seen.add(down)
                            result.downstream.append(down)
                            queue.append((down, moves_of(down)))
    return result


def _on_hand(moves: list[dict[str, Any]]) -> dict[str, Decimal]:
    """What the lot holds per physical location now, from its own moves."""
    held: dict[str, Decimal] = {}
    for m in moves:
        held[m["target"]] = held.get(m["target"], Decimal(0)) + m["quantity"]
        held[m["source"]] = held.get(m["source"], Decimal(0)) - m["quantity"]
    virtual = set(catalog.VIRTUAL_LOCATIONS)
    return {code: q for code, q in sorted(held.items()) if q != 0 and code not in virtual}
