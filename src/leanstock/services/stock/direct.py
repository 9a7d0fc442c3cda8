"""A receipt, shipment, transfer, scrap or count posted in one step by the database
(PostgreSQL).

A stock document dated now costs a round trip per statement when posted by the rules in
Python: lock its rows, read their lots, write the operation, its moves and the balances.
Where the ledger can (`LedgerRepo.posts_in_one_step`), the document's names are resolved here
as always (`posting.resolve_lines`: unknown names, units, virtual locations are refused as
before), and the rest (lock, availability, expiry, first-expired-first-out, the writes) is
one call (`LedgerRepo.post_document`, the function of migrations 0025 and 0026).

The rules then live twice, in SQL and in Python, so the step decides only what it can say
yes to: whenever the Python rules would refuse the document, or another rule must run (the
history check of an item moved after now, the backorders a receipt fills, an unknown
supplier), it declines, writes nothing, and the use case goes on in Python in the same
transaction, which names the problem (the same 409, word for word) or posts. A receipt's
lots are checked here by `domain.ledger.received_lot` as far as it needs no read (a
lot-tracked item names its lot, an expiry belongs to a lot, a new lot's expiry); whether a
lot is known, and a known one's expiry, the step checks, declining another date. A count
reads the books and posts the difference in the step, unless the item moved after now or a
gain would fill backorders. Documents with serials, serial-tracked items and dated documents
never go to the step.
`tests/integration/test_stock_batch_planned.py` holds the step to the Python rules on one
case table run on both databases.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal

from leanstock.domain import catalog
from leanstock.domain.catalog import Item
from leanstock.domain.errors import DomainError
from leanstock.domain.ledger import MoveKind, OneStepDocument, Place, Posting, received_lot
from leanstock.services.ports import Stored, UnitOfWork
from leanstock.services.posting import MoveLine, Operation, Resolved, StockLine, resolve_lines


def can_post_in_one_step(
    uow: UnitOfWork, lines: Sequence[StockLine], occurred_at: datetime | None
) -> bool:
    """Whether to try the step: a document dated now, naming no serials, on a ledger that
    has it."""
    return (
        occurred_at is None
        and not any(line.serials for line in lines)
        and uow.ledger.posts_in_one_step()
    )


def receipt_in_one_step(
    uow: UnitOfWork,
    lines: Sequence[StockLine],
    location: str,
    source: Place,
    when: datetime,
    reference: str | None,
    supplier: str | None,
) -> Operation | None:
    """A receipt posted in one step; None when it must be posted by the use case (a line
    names a serial-tracked item, or the step declined).

    The supplier is checked by the step; when a line is refused here, it is checked first,
    so the problem is the one `receive_lines` gives (it checks the supplier first)."""
    from leanstock.services.stock.moves import receipt_postings

    lots: list[tuple[int, str, date | None, date | None]] = []

    def new_lot(
        uow: UnitOfWork, item: Stored[Item], lot: str | None, expires_on: date | None, on: date
    ) -> None:
        # `received_lot` as for a lot not yet known; the step checks whether it is.
        new = received_lot(item.value, lot, expires_on, on, None)
        if new is not None:
            lots.append((item.id, new.code, expires_on, new.expires_on))

    try:
        resolved = resolve_lines(uow, lines, {"location": location})
        if any(item.value.serial_tracked for _, _, item, _ in resolved):
            return None
        postings, _ = receipt_postings(uow, resolved, source, when, new_lot)
    except DomainError:
        if supplier is not None:
            uow.catalog.supplier(supplier)
        raise
    rows = {(p.item_id, p.target.id): p.target for _, p in postings}
    document = OneStepDocument(
        MoveKind.RECEIPT,
        [p for _, p in postings],
        [(item_id, place) for (item_id, _), place in sorted(rows.items())],
        when,
        when.date(),
        reference,
        supplier,
        lots=lots,
    )
    return _posted(uow, document, [sku for sku, _ in postings], reference)


def take_in_one_step(
    uow: UnitOfWork,
    kind: MoveKind,
    resolved: Sequence[Resolved],
    field: str,
    destination: Place | str,
    when: datetime,
    day: date,
    reference: str | None,
    partner: str | None = None,
    reason: str | None = None,
) -> Operation | None:
    """A shipment (to `destination`, the customer) or a transfer (to the location named
    `destination`) from each line's `field` location, picked and posted in one step; None
    when the use case must go on (a serial-tracked item, or the step declined)."""
    if any(item.value.serial_tracked for _, _, item, _ in resolved):
        return None
    lines: list[Posting] = []
    skus: list[str] = []
    rows: dict[tuple[int, int], Place] = {}
    # The order `moves.pick_lines` picks in: by item, stably.
    for _, line, item, places in sorted(resolved, key=lambda r: r[2].id):
        source = places[field]
        target = places["target"] if isinstance(destination, str) else destination
        lines.append(Posting(item.id, source, target, line.quantity, line.lot))
        skus.append(line.sku)
        for place in places.values():
            rows[(item.id, place.id)] = place
    document = OneStepDocument(
        kind,
        lines,
        [(item_id, place) for (item_id, _), place in sorted(rows.items())],
        when,
        day,
        reference,
        partner,
        reason,
    )
    return _posted(uow, document, skus, reference)


def scrap_in_one_step(
    uow: UnitOfWork,
    item: Stored[Item],
    place: Place,
    scrap_place: Place,
    quantity: Decimal,
    lot: str | None,
    when: datetime,
    day: date,
    reference: str | None,
    reason: str,
    note: str | None,
) -> Operation | None:
    """A scrap of a non-serial item, picked as `take` picks it for a scrap (reservations not
    checked, a named lot taken even when expired) and posted in one step; None when the use
    case must go on (the step declined)."""
    document = OneStepDocument(
        MoveKind.SCRAP,
        [Posting(item.id, place, scrap_place, quantity, lot)],
        [(item.id, place)],
        when,
        day,
        reference,
        reason=reason,
        note=note,
        respect_reservations=False,
        allow_expired=True,
    )
    return _posted(uow, document, [item.value.sku], reference)


def count_in_one_step(
    uow: UnitOfWork,
    item: Stored[Item],
    place: Place,
    lot: str | None,
    expires_on: date | None,
    counted: Decimal,
    gain_cost: Decimal,
    when: datetime,
    reference: str | None,
) -> tuple[Operation, Decimal] | None:
    """A count of a non-serial item dated now, compared with the books and its difference
    posted in one step: the operation (no moves when it matched) and what the books held;
    None when the use case must go on (the step declined: a move dated after now, or a gain
    where backorders wait)."""
    adjustment = uow.virtual_place(catalog.ADJUSTMENT)
    document = OneStepDocument(
        MoveKind.ADJUSTMENT,
        [Posting(item.id, adjustment, place, counted, lot, unit_cost=gain_cost)],
        [(item.id, place)],
        when,
        when.date(),
        reference,
        note=f"counted {counted}",
        lots=[] if lot is None else [(item.id, lot, None, expires_on)],
        counted=counted,
    )
    posted = uow.ledger.post_document(document)
    if posted is None:
        return None
    op_id, moves, held = posted
    assert held is not None
    lines = []
    for _, picked, quantity in moves:
        source, target = (adjustment, place) if counted > held else (place, adjustment)
        lines.append(MoveLine(item.value.sku, source.code, target.code, quantity, picked))
    operation = Operation(op_id, MoveKind.ADJUSTMENT.value, when, reference, lines)
    return operation, held


def _posted(
    uow: UnitOfWork, document: OneStepDocument, skus: list[str], reference: str | None
) -> Operation | None:
    """The operation the step posted, as `posting.post_lines` returns it; None if declined."""
    posted = uow.ledger.post_document(document)
    if posted is None:
        return None
    op_id, moves, _ = posted
    lines = []
    for number, lot, quantity in moves:
        p = document.lines[number]
        lines.append(MoveLine(skus[number], p.source.code, p.target.code, quantity, lot))
    return Operation(op_id, document.kind.value, document.occurred_at, reference, lines)
