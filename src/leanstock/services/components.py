"""A production order's components: the lots it issues and consumes (first expired first
out, or named), the serials it carries through WIP, and the lot its output gets."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from leanstock.domain import catalog
from leanstock.domain.catalog import Item
from leanstock.domain.errors import (
    InvalidInput,
    LotExpired,
    LotNotTracked,
    NotFound,
    OutOfStock,
)
from leanstock.domain.ledger import Place, available, batch_expiry, pick_fefo
from leanstock.domain.quantities import positive
from leanstock.domain.serials import (
    SerialAt,
    SerialMove,
    check_departure,
)
from leanstock.services.ports import Stored, UnitOfWork
from leanstock.services.posting import (
    take,
)

ZERO = Decimal(0)
WIP = "WIP"


@dataclass(frozen=True)
class ComponentLot:
    """A component lot named for production: `quantity` of component `sku` taken from `lot`
    (None: all the component needs at this step, from that one lot)."""

    sku: str
    lot: str
    quantity: Decimal | None = None


def order_serials(
    uow: UnitOfWork,
    item: Stored[Item],
    reference: str,
    place: Place,
    wip: Place,
    target: Place,
    amount: Decimal,
) -> list[SerialMove]:
    """`amount` of the serials of a component the order took to work in progress (those
    still there, in serial order) moving on to `target`."""
    if amount != amount.to_integral_value():
        raise InvalidInput(
            f"{item.value.sku} is serial-tracked and this step uses {amount} of it; produce a "
            "quantity that uses whole units of it.",
            "quantity",
        )
    uow.ledger.lock_stock(item.id, wip)  # the stock row, then the serials
    taken = uow.serials.carried(reference, item.id, place.id, wip.id)
    found = uow.serials.where(item.id, taken)
    there = [s for s in taken if s in found and found[s].location == wip.code]
    if Decimal(len(there)) < amount:
        raise InvalidInput(
            f"{reference} holds {len(there)} serials of {item.value.sku} in work in progress "
            f"but uses {amount}; start it with the serials it needs.",
            "serials",
        )
    chosen = there[: int(amount)]
    for serial in chosen:
        check_departure(item.value, serial, found[serial], wip.code)
    return [SerialMove(item.id, s, found[s].lot, wip, target) for s in chosen]


def serial_at(move: SerialMove, place: Place) -> SerialAt:
    """A serial about to move, where it is now (for `by_lot`)."""
    return SerialAt(move.serial, move.lot, place.code)


def named_lots(
    lots: Sequence[ComponentLot], components: Sequence[str]
) -> dict[str, list[tuple[int, ComponentLot]]]:
    """The named lots by component, each with its position in the request (for the field an
    error names), checked for what needs no stock: a component of the order, a lot named once,
    a positive quantity, and one lot without a quantity only when it is the component's one."""
    found: dict[str, list[tuple[int, ComponentLot]]] = {}
    for index, named in enumerate(lots):
        where = f"lots[{index}]"
        if named.sku not in components:
            raise InvalidInput(
                f"{named.sku} is not a component of this order; its components are "
                f"{', '.join(components)}.",
                f"{where}.sku",
            )
        catalog.code(named.lot, f"{where}.lot")
        if named.quantity is not None:
            positive(named.quantity, f"{where}.quantity")
        same = found.setdefault(named.sku, [])
        if any(other.lot == named.lot for _, other in same):
            raise InvalidInput(
                f"Lot {named.lot} of {named.sku} is named twice; name it once.", f"{where}.lot"
            )
        same.append((index, named))
    for sku, same in found.items():
        if len(same) > 1 and any(n.quantity is None for _, n in same):
            index = next(i for i, n in same if n.quantity is None)
            raise InvalidInput(
                f"Several lots are named for {sku}: give each its quantity.",
                f"lots[{index}].quantity",
            )
    return found


def take_component(
    uow: UnitOfWork,
    item: Stored[Item],
    place: Place,
    amount: Decimal,
    day: date,
    named: list[tuple[int, ComponentLot]],
    *,
    own_reserved: Decimal = ZERO,
    respect_reservations: bool = True,
) -> list[tuple[str | None, Decimal]]:
    """The lots `amount` of a component is taken in: first-expired-first-out (`take`), or the
    named ones, which must add up to `amount`, be known, unexpired and hold enough."""
    if not named:
        return take(
            uow,
            item,
            place,
            amount,
            day,
            own_reserved=own_reserved,
            respect_reservations=respect_reservations,
        )
    sku = item.value.sku
    if not item.value.lot_tracked:
        error = LotNotTracked(sku)
        error.field = f"lots[{named[0][0]}].lot"
        raise error
    for index, component_lot in named:
        if uow.ledger.lot(item.id, component_lot.lot) is None:
            raise NotFound("lot", f"{component_lot.lot} of {sku}", f"lots[{index}].lot")
    wanted = [(i, n.lot, amount if n.quantity is None else n.quantity) for i, n in named]
    total = sum((q for _, _, q in wanted), ZERO)
    if total != amount:
        raise InvalidInput(
            f"The lots named for {sku} add up to {total}, but this step takes {amount}; name "
            f"quantities that add up to {amount}.",
            f"lots[{named[0][0]}].quantity",
        )
    level, lots = uow.ledger.lock_stock_and_lots(item.id, place)
    if respect_reservations and not place.may_go_negative:
        free = available(lots, level.reserved, day) + own_reserved
        if amount > free:
            raise OutOfStock(sku, place.code, amount, max(free, ZERO))
    picks: list[tuple[str | None, Decimal]] = []
    for index, lot, quantity in wanted:
        try:
            picks += pick_fefo(sku, place.code, lots, quantity, day, lot=lot)
        except (OutOfStock, LotExpired) as error:
            error.field = f"lots[{index}].{error.field}"
            raise
    return picks


def batch_lot(
    uow: UnitOfWork, item: Stored[Item], number: str, made_on: date, expiries: list[date]
) -> str | None:
    """The lot of a lot-tracked product's batch: the production order's number, registered on
    its first output with expiry = the sooner of made_on + shelf life and the earliest expiry
    of the component lots it used (`domain.ledger.batch_expiry`)."""
    if not item.value.lot_tracked:
        return None
    if uow.ledger.lot(item.id, number) is None:
        uow.ledger.add_lot(item.id, number, batch_expiry(item.value, made_on, expiries))
    return number
