"""Serial numbers: one per unit of a serial-tracked item, each in one place at a time.

A serial-tracked item (a laptop, an espresso machine, a keg) moves in whole units and every
move names its serials: one per unit, so a receipt of 3 names 3 new serials and a shipment
of 2 names the 2 that leave. A serial is where its last move took it; it may leave only from
there and arrive only from where it is (a new serial from a supplier, a returned one from the
customer it went to). So a serial received twice, shipped twice or never received is refused,
naming it, and nothing changes. Shipments name their serials too (never picked for the
user): the recall list of a serial is exact only if the customer's serials are known.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from leanstock.domain.catalog import CUSTOMER, SUPPLIER, Item, code
from leanstock.domain.errors import Conflict, InvalidInput
from leanstock.domain.ledger import Place


@dataclass(frozen=True)
class SerialAt:
    """Where one serial of an item is now (a location code), and the lot it arrived in."""

    serial: str
    lot: str | None
    location: str


@dataclass(frozen=True)
class SerialMove:
    """One serial moving with a posting: `source` → `target`."""

    item_id: int
    serial: str
    lot: str | None
    source: Place
    target: Place


class SerialsRequired(InvalidInput):
    def __init__(self, item: str, quantity: Decimal) -> None:
        super().__init__(
            f"Item {item} is serial-tracked: name one serial per unit in serials "
            f"({quantity} wanted).",
            "serials",
        )


class SerialsNotTracked(InvalidInput):
    def __init__(self, item: str) -> None:
        super().__init__(f"Item {item} is not serial-tracked: leave serials out.", "serials")


class SerialCountMismatch(InvalidInput):
    def __init__(self, item: str, named: int, quantity: Decimal) -> None:
        super().__init__(
            f"{named} serials of {item} named for a quantity of {quantity}: name one serial "
            "per unit.",
            "serials",
        )


class UnknownSerial(InvalidInput):
    def __init__(self, item: str, serial: str) -> None:
        super().__init__(
            f"Serial {serial} of {item} was never received; check the serial, or receive it first.",
            "serials",
        )


class SerialElsewhere(Conflict):
    """A serial that is not where a move takes it from: shipped already, received already,
    or at another location."""

    title = "Serial not there"

    def __init__(self, item: str, serial: str, at: str, wanted: str) -> None:
        if at == CUSTOMER:
            why = "it was shipped to a customer already"
        elif at == SUPPLIER:
            why = "it went back to the supplier"
        elif wanted == SUPPLIER:
            why = f"it was received already and is at {at}"
        else:
            why = f"it is at {at}"
        super().__init__(f"Serial {serial} of {item} is not at {wanted}: {why}.", "serials")
        self.serial = serial
        self.location = at


class SerialExists(Conflict):
    """A serial named for new units (a batch's output) that is known already."""

    title = "Serial exists"

    def __init__(self, item: str, serial: str, at: str) -> None:
        super().__init__(
            f"Serial {serial} of {item} exists already (it is at {at}); the units made get new "
            "serials: name others.",
            "serials",
        )
        self.serial = serial
        self.location = at


class SerialsNotSupported(InvalidInput):
    """A flow that does not carry serials, asked to move a serial-tracked item."""

    def __init__(self, item: str, flow: str, instead: str) -> None:
        super().__init__(
            f"Item {item} is serial-tracked and {flow} does not name serials; {instead}",
            "sku",
        )


# What to do instead, for a flow that does not carry serials.
BY_STOCK_OPERATIONS = (
    "move it with the stock operations instead (POST /api/v1/stock/receipts, shipments, "
    "transfers or scraps; `leanstock receive`, `ship`, `transfer`, `scrap`), naming its "
    "serials."
)


def named(item: Item, quantity: Decimal, serials: Sequence[str]) -> tuple[str, ...]:
    """The serials a line names, checked against its item and quantity: none for an item
    that is not serial-tracked; one per unit, each a valid code, none twice, for one that is."""
    if not item.serial_tracked:
        if serials:
            raise SerialsNotTracked(item.sku)
        return ()
    if not serials:
        raise SerialsRequired(item.sku, quantity)
    seen: set[str] = set()
    for serial in serials:
        code(serial, "serials")
        if serial in seen:
            raise InvalidInput(f"Serial {serial} of {item.sku} is named twice.", "serials")
        seen.add(serial)
    if Decimal(len(serials)) != quantity:
        raise SerialCountMismatch(item.sku, len(serials), quantity)
    return tuple(serials)


def check_arrival(item: Item, serial: str, found: SerialAt | None, source: str) -> None:
    """A serial may arrive from `source` only if it is there: from a supplier, a serial never
    seen (or one that went back to the supplier); from anywhere else, one known to be there
    (a customer return names a serial the customer received)."""
    if found is None:
        if source != SUPPLIER:
            raise UnknownSerial(item.sku, serial)
        return
    if found.location != source:
        raise SerialElsewhere(item.sku, serial, found.location, source)


def check_departure(item: Item, serial: str, found: SerialAt | None, source: str) -> None:
    """A serial may leave `source` only if it is there."""
    if found is None:
        raise UnknownSerial(item.sku, serial)
    if found.location != source:
        raise SerialElsewhere(item.sku, serial, found.location, source)


def by_lot(found: Sequence[SerialAt]) -> dict[str | None, Decimal]:
    """How many of the serials are in each lot (what a departure picks, lot by lot)."""
    counts: dict[str | None, Decimal] = {}
    for s in found:
        counts[s.lot] = counts.get(s.lot, Decimal(0)) + 1
    return counts


def refuse(item: Item, flow: str, instead: str) -> None:
    """Refuse a serial-tracked item in a flow that does not carry serials (stocktakes; the
    stock operations and counts, reservations shipped, purchase receipts, sales shipments,
    customer returns, transfer orders, quarantine moves and production do)."""
    if item.serial_tracked:
        raise SerialsNotSupported(item.sku, flow, instead)
