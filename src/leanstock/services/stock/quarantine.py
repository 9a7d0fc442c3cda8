"""Quarantine: goods held back (quality rejects at receipt) are released to usable stock,
returned to the supplier, or scrapped with a reason; each is one ledger move with its reason.

Quarantined stock is never available: it sits at a location of kind `quarantine`, which no
sales line ships from. A release makes it usable where it goes, and backorders waiting there
are filled from it (`services.backorders`).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal

from leanstock.domain import catalog
from leanstock.domain.catalog import LocationKind
from leanstock.domain.errors import InvalidInput, NotFound
from leanstock.domain.ledger import MoveKind, Place, Posting, ScrapReason
from leanstock.domain.orders import order_id
from leanstock.domain.orders.events import GoodsReturnedToSupplier
from leanstock.domain.quantities import positive
from leanstock.services.backorders import fill_backorders
from leanstock.services.ports import UnitOfWork
from leanstock.services.posting import (
    Operation,
    audit_operation,
    checked_time,
    current_day,
    known_item,
    physical_place,
    post,
    take,
)
from leanstock.services.retry import retrying
from leanstock.services.serials import departures
from leanstock.services.stock.moves import scrap as write_off

QUARANTINE = "QUARANTINE"


def _quarantine(uow: UnitOfWork, code: str) -> Place:
    stored = uow.catalog.location(code, "quarantine")
    if stored.value.kind is not LocationKind.QUARANTINE:
        raise InvalidInput(
            f"{code} is a {stored.value.kind}, not a quarantine location; name the quarantine "
            "the goods are held in.",
            "quarantine",
        )
    return physical_place(uow, code, "quarantine")


@retrying
def release(
    uow: UnitOfWork,
    sku: str,
    quantity: Decimal,
    location: str,
    *,
    quarantine: str = QUARANTINE,
    lot: str | None = None,
    note: str | None = None,
    actor: str = "system",
    occurred_at: datetime | None = None,
    today: date | None = None,
    serials: Sequence[str] = (),
) -> Operation:
    """Release quarantined goods to a warehouse or store, where they become usable stock (a
    serial-tracked item: the serials named, one per unit)."""
    quantity = positive(quantity)
    when = checked_time(occurred_at)
    day = current_day(today)
    with uow.acting(actor):
        item = known_item(uow, sku, None, lot)
        held = _quarantine(uow, quarantine)
        target = physical_place(uow, location, "location")
        if uow.catalog.location(location).value.kind not in (
            LocationKind.WAREHOUSE,
            LocationKind.STORE,
        ):
            raise InvalidInput(
                f"Release goods to a warehouse or store, not {location}.", "location"
            )
        rows = sorted([(item.id, held), (item.id, target)], key=lambda r: r[1].id)
        uow.ledger.lock_stocks(rows)
        moved, lots = departures(uow, item, quantity, serials, held, target, lot)
        postings: list[Posting] = []
        for picked, q in lots.items() if moved else [(lot, quantity)]:
            picks = take(uow, item, held, q, day, picked, respect_reservations=False)
            postings += [Posting(item.id, held, target, p, lt) for lt, p in picks]
        operation = post(
            uow,
            MoveKind.RELEASE,
            item,
            postings,
            when,
            reason="released",
            note=note,
            serials=moved,
        )
        audit_operation(uow, "quarantine_release", operation, note=note)
        fill_backorders(uow, item.id, target, day, f"release from {quarantine}")
        uow.commit()
    return operation


@retrying
def return_to_supplier(
    uow: UnitOfWork,
    sku: str,
    quantity: Decimal,
    *,
    purchase_order: str | None = None,
    supplier: str | None = None,
    quarantine: str = QUARANTINE,
    lot: str | None = None,
    note: str | None = None,
    actor: str = "system",
    occurred_at: datetime | None = None,
    serials: Sequence[str] = (),
) -> Operation:
    """Send quarantined goods back to the supplier: quarantine → supplier, with an event on
    the purchase order they came on (when named); a serial-tracked item names its serials."""
    quantity = positive(quantity)
    when = checked_time(occurred_at)
    with uow.acting(actor):
        item = known_item(uow, sku, None, lot)
        held = _quarantine(uow, quarantine)
        partner = supplier
        if purchase_order is not None:
            found = order_id("purchase", purchase_order)
            if found is None:
                raise NotFound("purchase order", purchase_order, "purchase_order")
            order, _ = uow.purchasing.get(found)
            if sku not in {line.sku for line in order.lines}:
                raise InvalidInput(
                    f"{order.number} has no line for {sku}; name the order the goods came on.",
                    "purchase_order",
                )
            if supplier is not None and supplier != order.supplier:
                raise InvalidInput(
                    f"{order.number} is from {order.supplier}, not {supplier}.", "supplier"
                )
            partner = order.supplier
            uow.record(
                GoodsReturnedToSupplier(
                    subject=order.number, sku=sku, quantity=quantity, lot=lot, note=note
                )
            )
        elif supplier is not None:
            uow.catalog.supplier(supplier)
        uow.ledger.lock_stock(item.id, held)
        back = uow.virtual_place(catalog.SUPPLIER)
        moved, lots = departures(uow, item, quantity, serials, held, back, lot)
        postings: list[Posting] = []
        for picked, q in lots.items() if moved else [(lot, quantity)]:
            picks = take(
                uow,
                item,
                held,
                q,
                current_day(None),
                picked,
                respect_reservations=False,
                allow_expired=True,
            )
            postings += [Posting(item.id, held, back, p, lt) for lt, p in picks]
        operation = post(
            uow,
            MoveKind.SUPPLIER_RETURN,
            item,
            postings,
            when,
            purchase_order.upper() if purchase_order else None,
            partner,
            "returned",
            note,
            serials=moved,
        )
        audit_operation(uow, "supplier_return", operation, supplier=partner, note=note)
        uow.commit()
    return operation


def scrap(
    uow: UnitOfWork,
    sku: str,
    quantity: Decimal,
    reason: ScrapReason,
    *,
    quarantine: str = QUARANTINE,
    lot: str | None = None,
    note: str | None = None,
    occurred_at: datetime | None = None,
    serials: Sequence[str] = (),
) -> Operation:
    """Scrap quarantined goods with a reason (quarantine → scrap), naming a serial-tracked
    item's serials."""
    with uow:
        _quarantine(uow, quarantine)
    return write_off(
        uow,
        sku,
        quarantine,
        quantity,
        reason,
        lot=lot,
        note=note,
        occurred_at=occurred_at,
        serials=serials,
    )
