"""Serial numbers in the use cases: the serials a move carries, checked against where each
one is (`domain.serials`), and a serial's trace (where it is, where it came from, which
customer has it: a recall by serial).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from leanstock.domain import catalog
from leanstock.domain.catalog import Item
from leanstock.domain.errors import InvalidInput, NotFound
from leanstock.domain.ledger import Place
from leanstock.domain.serials import (
    SerialAt,
    SerialMove,
    by_lot,
    check_arrival,
    check_departure,
    named,
)
from leanstock.services.paging import Page, page_bounds
from leanstock.services.ports import Stored, UnitOfWork


def arrivals(
    uow: UnitOfWork,
    item: Stored[Item],
    quantity: Decimal,
    serials: Sequence[str],
    lot: str | None,
    source: Place,
    target: Place,
) -> list[SerialMove]:
    """The serials arriving with `quantity` of a serial-tracked item from `source` (a
    supplier: new serials; a customer: serials it received), in `lot`; none for an item that
    is not serial-tracked. Called with the item's stock rows locked."""
    checked = named(item.value, quantity, serials)
    if not checked:
        return []
    found = uow.serials.where(item.id, checked)
    for serial in checked:
        check_arrival(item.value, serial, found.get(serial), source.code)
    return [SerialMove(item.id, s, lot, source, target) for s in checked]


def departures(
    uow: UnitOfWork,
    item: Stored[Item],
    quantity: Decimal,
    serials: Sequence[str],
    source: Place,
    target: Place,
    lot: str | None = None,
) -> tuple[list[SerialMove], dict[str | None, Decimal]]:
    """The serials leaving `source` with `quantity` of a serial-tracked item, each checked to
    be there (and in `lot`, when one is named), and how many leave from each lot (what the
    move picks); nothing for an item that is not serial-tracked."""
    checked = named(item.value, quantity, serials)
    if not checked:
        return [], {}
    found = uow.serials.where(item.id, checked)
    for serial in checked:
        check_departure(item.value, serial, found.get(serial), source.code)
        if lot is not None and found[serial].lot != lot:
            raise InvalidInput(
                f"Serial {serial} of {item.value.sku} is in lot {found[serial].lot}, not {lot}.",
                "serials",
            )
    moves = [SerialMove(item.id, s, found[s].lot, source, target) for s in checked]
    return moves, by_lot([found[s] for s in checked])


def all_at(
    uow: UnitOfWork, item_id: int, place: Place, target: Place, lot: str | None
) -> list[SerialMove]:
    """Every serial of an item at `place` (of `lot`) moving to `target`: what an expiry sweep
    that scraps a whole lot takes."""
    return [
        SerialMove(item_id, s.serial, s.lot, place, target)
        for s in uow.serials.at(item_id, place.id, lot)
    ]


@dataclass(frozen=True)
class SerialStep:
    """One move of a serial: an operation of `kind` from `source` to `target`."""

    kind: str
    source: str
    target: str
    occurred_at: datetime
    reference: str | None
    partner: str | None


@dataclass(frozen=True)
class SerialTrace:
    """Where a serial is now, the lot it came in, who supplied it, and which customer (if
    any) has it: a recall by serial."""

    sku: str
    serial: str
    lot: str | None
    location: str
    supplier: str | None
    customer: str | None
    moves: list[SerialStep]


def trace(uow: UnitOfWork, sku: str, serial: str) -> SerialTrace:
    """A serial's whereabouts and history, oldest move first."""
    with uow:
        item = uow.catalog.item(sku)
        if not item.value.serial_tracked:
            raise InvalidInput(f"Item {sku} is not serial-tracked; it has no serials.", "sku")
        found = uow.serials.where(item.id, [serial]).get(serial)
        # Like a lot's trace, the whole path whoever asks: a recall needs it (docs/security.md).
        if found is None:
            raise NotFound("serial", f"{serial} of {sku}", "serial")
        steps = [
            SerialStep(
                m["kind"],
                m["source"],
                m["target"],
                m["occurred_at"],
                m["reference"],
                m["partner"],
            )
            for m in uow.serials.history(item.id, serial)
        ]
    supplier = next((s.partner for s in steps if s.source == catalog.SUPPLIER), None)
    customer = (
        next((s.partner for s in reversed(steps) if s.target == catalog.CUSTOMER), None)
        if found.location == catalog.CUSTOMER
        else None
    )
    return SerialTrace(sku, serial, found.lot, found.location, supplier, customer, steps)


def list_serials(
    uow: UnitOfWork,
    sku: str,
    location: str | None = None,
    limit: int = 50,
    offset: int = 0,
) -> Page[SerialAt]:
    """A page of an item's serials and where each is (at one location, when named)."""
    limit, offset = page_bounds(limit, offset)
    with uow:
        uow.visibility.require_location(location)
        item = uow.catalog.item(sku)
        if not item.value.serial_tracked:
            raise InvalidInput(f"Item {sku} is not serial-tracked; it has no serials.", "sku")
        rows, total = uow.serials.of_item(item.id, location, limit, offset)
    return Page(rows, total, limit, offset)
