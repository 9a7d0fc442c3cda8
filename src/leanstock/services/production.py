"""Bills of materials and production orders: draft → released → started (components issued to
work in progress) → produced (partially allowed) → closed; cancel.

Creating a production order explodes its BOM, reserves the components in stock and pulls the
rest the way a sales line pulls (`pull.start_production`). Finished goods are reserved first
for the demands pegged to the order.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from leanstock.domain import catalog
from leanstock.domain.catalog import ItemKind
from leanstock.domain.errors import (
    InvalidInput,
    NotFound,
)
from leanstock.domain.ledger import MoveKind, Place, Posting, batch_expiry
from leanstock.domain.orders import (
    BomLine,
    PegStatus,
    ProductionOrder,
    Requirement,
    SupplyKind,
    explode,
    number,
    order_id,
)
from leanstock.domain.orders.events import BomReplaced
from leanstock.domain.quantities import non_negative, positive
from leanstock.domain.serials import (
    SerialExists,
    SerialMove,
    SerialsNotTracked,
    by_lot,
)
from leanstock.domain.serials import named as named_serials
from leanstock.services import components
from leanstock.services.backorders import fill_backorders
from leanstock.services.components import ComponentLot as ComponentLot
from leanstock.services.paging import Page, page_bounds
from leanstock.services.ports import LineRef, UnitOfWork
from leanstock.services.posting import (
    checked_time,
    current_day,
    known_item,
    physical_place,
    post,
    receive_lot,
    take,
)
from leanstock.services.pull import (
    component_demand,
    drop,
    reserve_on_receipt,
    settle_pegs,
    start_production,
)
from leanstock.services.retry import retrying
from leanstock.services.serials import departures

ZERO = Decimal(0)
WIP = "WIP"


@dataclass(frozen=True)
class BomView:
    sku: str
    lead_time_days: int
    lines: list[BomLine]


@dataclass(frozen=True)
class ComponentView:
    sku: str
    quantity: Decimal
    consumed: Decimal
    reserved: Decimal


@dataclass(frozen=True)
class ProductionOrderView:
    number: str
    sku: str
    location: str
    quantity: Decimal
    produced: Decimal
    status: str
    due_date: date | None
    change_requested: bool
    components: list[ComponentView] = field(default_factory=list)
    pegged_to: list[str] = field(default_factory=list)


def production_id(value: str) -> int:
    found = order_id("production", value)
    if found is None:
        raise NotFound("production order", value, "order")
    return found


@retrying
def put_bom(
    uow: UnitOfWork,
    sku: str,
    lines: Sequence[tuple[str, Decimal, Decimal]],
    lead_time_days: int = 0,
    *,
    actor: str = "system",
) -> BomView:
    """Set (or replace) the bill of materials of a made item: (component, quantity, scrap)."""
    if lead_time_days < 0:
        raise InvalidInput("lead_time_days must not be negative.", "lead_time_days")
    if not lines:
        raise InvalidInput("A bill of materials needs at least one component.", "lines")
    with uow.acting(actor):
        parent = uow.catalog.item(sku)
        sku = parent.value.sku  # the SKU of a scanned barcode
        if parent.value.kind is not ItemKind.MADE:
            raise InvalidInput(
                f"Item {sku} is bought, not made; it has no bill of materials.", "sku"
            )
        parts = [(uow.catalog.item(c, "component"), q, s) for c, q, s in lines]
        bom_lines = [BomLine(sku, p.value.sku, positive(q), s) for p, q, s in parts]
        if len({b.component for b in bom_lines}) != len(bom_lines):
            raise InvalidInput("Each component appears once in a bill of materials.", "lines")
        components = [(p.id, b) for (p, _, _), b in zip(parts, bom_lines, strict=True)]
        boms = uow.boms.all()
        boms[sku] = bom_lines
        explode(sku, Decimal(1), boms)
        uow.boms.put(parent.id, lead_time_days, components)
        uow.record(
            BomReplaced(
                subject=sku, lines=tuple((b.component, b.quantity, b.scrap) for b in bom_lines)
            )
        )
        uow.commit()
    return BomView(sku, lead_time_days, bom_lines)


def get_bom(uow: UnitOfWork, sku: str) -> BomView:
    with uow:
        item = uow.catalog.item(sku)
        sku = item.value.sku
        found = uow.boms.get(item.id)
    if found is None:
        raise NotFound("bill of materials for", sku, "sku")
    return BomView(sku, found[0], [line for _, line in found[1]])


def explosion(uow: UnitOfWork, sku: str, quantity: Decimal) -> list[Requirement]:
    """Every component at every level that `quantity` of `sku` needs, gross of scrap."""
    quantity = positive(quantity)
    with uow:
        sku = uow.catalog.item(sku).value.sku
        boms = uow.boms.all()
    if sku not in boms:
        raise NotFound("bill of materials for", sku, "sku")
    return explode(sku, quantity, boms)


def _view(uow: UnitOfWork, order: ProductionOrder, ref: LineRef) -> ProductionOrderView:
    reserved = uow.ledger.reserved_for([f"{order.number}/{c.sku}" for c in order.components])
    pegs = uow.pegs.of_supply(SupplyKind.PRODUCTION, [order.id or 0])
    return ProductionOrderView(
        order.number,
        order.sku,
        order.location,
        order.quantity,
        order.produced,
        order.status.value,
        order.due_date,
        order.change_requested,
        [
            ComponentView(
                c.sku, c.quantity, c.consumed, reserved.get(f"{order.number}/{c.sku}", ZERO)
            )
            for c in order.components
        ],
        [p.reference for p in pegs if p.status is not PegStatus.CANCELLED],
    )


def get_production_order(uow: UnitOfWork, number: str) -> ProductionOrderView:
    with uow:
        order, ref, _ = uow.production.get(production_id(number))
        if not uow.visibility.sees_location(order.location):
            raise NotFound("production order", order.number, "order")
        return _view(uow, order, ref)


def list_production_orders(
    uow: UnitOfWork, status: str | None = None, limit: int = 50, offset: int = 0
) -> Page[dict[str, Any]]:
    limit, offset = page_bounds(limit, offset)
    with uow:
        rows, total = uow.production.page(status, limit, offset)
    for row in rows:
        row["number"] = number("production", row.pop("id"))
    return Page(rows, total, limit, offset)


@retrying
def create_production_order(
    uow: UnitOfWork,
    sku: str,
    quantity: Decimal,
    location: str,
    *,
    due_date: date | None = None,
    actor: str = "system",
    today: date | None = None,
) -> ProductionOrderView:
    """A draft production order; its components are reserved or pulled at once."""
    with uow.acting(actor):
        order = plan_production(uow, sku, quantity, location, current_day(today), due_date)
        uow.commit()
    return get_production_order(uow, order.number)


def plan_production(
    uow: UnitOfWork,
    sku: str,
    quantity: Decimal,
    location: str,
    today: date,
    due_date: date | None = None,
) -> ProductionOrder:
    """`create_production_order` inside the caller's transaction."""
    quantity = positive(quantity)
    item = uow.catalog.item(sku)
    sku = item.value.sku  # the SKU of a scanned barcode
    if item.value.kind is not ItemKind.MADE:
        raise InvalidInput(f"Item {sku} is bought, not made; buy it instead.", "sku")
    catalog.whole(item.value, quantity)
    place = physical_place(uow, location, "location")
    return start_production(uow, item.id, sku, place, quantity, today, due_date)


@retrying
def release_production(
    uow: UnitOfWork, number: str, *, actor: str = "system"
) -> ProductionOrderView:
    with uow.acting(actor):
        release_production_order(uow, number)
        uow.commit()
    return get_production_order(uow, number)


def release_production_order(uow: UnitOfWork, number: str) -> None:
    """`release_production` inside the caller's transaction."""
    order, _, _ = uow.production.get(production_id(number), lock=True)
    order.release()
    uow.production.save(order)


def _wip(uow: UnitOfWork) -> Place:
    """Where issued components wait for production; made on first use."""
    return uow.catalog.ensure_location(WIP, "Work in progress", "work_in_progress")


@retrying
def start_production_order(
    uow: UnitOfWork,
    number: str,
    *,
    lots: Sequence[ComponentLot] = (),
    actor: str = "system",
    occurred_at: datetime | None = None,
    today: date | None = None,
    serials: Mapping[str, Sequence[str]] | None = None,
) -> ProductionOrderView:
    """Issue every component to work in progress: its reservation first, then free stock;
    lots first-expired-first-out, or the `lots` named for a component (`components.take_component`).
    A serial-tracked component names its serials (`serials`: SKU → serials), which go to
    work in progress with the order and take the lots they are in.

    Refused (409, nothing moved) while any component is short.
    """
    when = checked_time(occurred_at)
    day = current_day(today)
    with uow.acting(actor):
        order, ref, item_ids = uow.production.get(production_id(number), lock=True)
        named_lots = components.named_lots(lots, [c.sku for c in order.components])
        given = dict(serials or {})
        for sku in given:
            if sku not in item_ids or sku == order.sku:
                raise InvalidInput(
                    f"{sku} is not a component of {order.number}; name serials only for its "
                    "serial-tracked components.",
                    "serials",
                )
        order.start()
        wip = _wip(uow)
        for component in sorted(order.components, key=lambda c: item_ids[c.sku]):
            amount = component.quantity - component.consumed
            if amount <= 0:
                continue
            demand = component_demand(order, component, item_ids[component.sku], ref.place)
            reservations = uow.ledger.open_reservations(demand.reference)
            held = sum((r.open_quantity for r in reservations), ZERO)
            item = known_item(uow, component.sku, None, None)
            moved: list[SerialMove] = []
            if item.value.serial_tracked:
                if named_lots.get(component.sku):
                    raise InvalidInput(
                        f"{component.sku} is serial-tracked: name its serials, not its lots "
                        "(its serials take the lots they are in).",
                        "lots",
                    )
                uow.ledger.lock_stock(item.id, ref.place)  # the stock row, then the serials
                moved, by_lots = departures(
                    uow, item, amount, given.get(component.sku, ()), ref.place, wip
                )
                picks = []
                for lot, q in by_lots.items():
                    picks += take(uow, item, ref.place, q, day, lot, own_reserved=min(held, q))
            else:
                if given.get(component.sku):
                    raise SerialsNotTracked(component.sku)
                picks = components.take_component(
                    uow,
                    item,
                    ref.place,
                    amount,
                    day,
                    named_lots.get(component.sku, []),
                    own_reserved=min(held, amount),
                )
            uow.ledger.consume([(r, r.open_quantity) for r in reservations])
            postings = [Posting(item.id, ref.place, wip, q, lot) for lot, q in picks]
            post(uow, MoveKind.TRANSFER, item, postings, when, order.number, serials=moved)
            component.consumed += amount
        uow.production.save(order)
        uow.commit()
    return get_production_order(uow, number)


@retrying
def produce(
    uow: UnitOfWork,
    number: str,
    quantity: Decimal,
    *,
    lot: str | None = None,
    expires_on: date | None = None,
    lots: Sequence[ComponentLot] = (),
    actor: str = "system",
    occurred_at: datetime | None = None,
    conversion_cost: Decimal | None = None,
    serials: Sequence[str] = (),
) -> ProductionOrderView:
    """Report finished goods: the components they used leave WIP for production, the goods
    arrive at the order's location and are reserved first for the demands pegged to it.

    The goods are valued at the cost of the components they used plus `conversion_cost` (in
    total), by `domain.costing`. A lot-tracked item arrives in `lot` (default: the batch's own
    lot, named after the order), expiring on `expires_on` (default: the sooner of the day + its
    shelf life and the earliest expiry of the component lots used). The components are taken
    from work in progress first-expired-first-out, or from the `lots` named for them.

    A serial-tracked item names the new serials of the units made (`serials`, one per unit);
    a serial-tracked component's serials the order took to work in progress are consumed in
    serial order.
    """
    quantity = positive(quantity)
    added = None if conversion_cost is None else non_negative(conversion_cost, "conversion_cost")
    when = checked_time(occurred_at)
    with uow.acting(actor):
        order, ref, _ = uow.production.get(production_id(number), lock=True)
        before = order.produced
        named_lots = components.named_lots(lots, [c.sku for c in order.components])
        order.produce(quantity)
        wip = _wip(uow)
        production = uow.virtual_place(catalog.PRODUCTION)
        expiries: list[date] = []
        for component in order.components:
            used = order.used(component) - order.used(component, before)
            if used <= 0:
                continue
            item = known_item(uow, component.sku, None, None)
            consumed: list[SerialMove] = []
            if item.value.serial_tracked:
                consumed = components.order_serials(
                    uow, item, order.number, ref.place, wip, production, used
                )
                picks = []
                for lot, q in by_lot([components.serial_at(m, wip) for m in consumed]).items():
                    picks += take(
                        uow, item, wip, q, current_day(None), lot, respect_reservations=False
                    )
            else:
                picks = components.take_component(
                    uow,
                    item,
                    wip,
                    used,
                    current_day(None),
                    named_lots.get(component.sku, []),
                    respect_reservations=False,
                )
            postings = [Posting(item.id, wip, production, q, lot) for lot, q in picks]
            post(uow, MoveKind.CONSUMPTION, item, postings, when, order.number, serials=consumed)
            for used_lot, _ in picks:
                known = uow.ledger.lot(item.id, used_lot) if used_lot is not None else None
                if known is not None and known.expires_on is not None:
                    expiries.append(known.expires_on)
        finished = known_item(uow, order.sku, None, None)
        made = named_serials(finished.value, quantity, serials)
        if lot is not None:
            # A lot named by the caller: checked against what is known of it, or registered
            # with the expiry given, else the batch's own (`domain.ledger.batch_expiry`).
            made_on = when.date()
            expiry = expires_on or batch_expiry(finished.value, made_on, expiries)
            receive_lot(uow, finished, lot, expiry, made_on)
            batch: str | None = lot
        else:
            batch = components.batch_lot(uow, finished, order.number, when.date(), expiries)
        uow.ledger.lock_stock(ref.item_id, ref.place)  # the stock row, then the serials
        exists = uow.serials.where(ref.item_id, made) if made else {}
        for serial in made:
            if serial in exists:
                raise SerialExists(order.sku, serial, exists[serial].location)
        post(
            uow,
            MoveKind.PRODUCTION,
            finished,
            [Posting(ref.item_id, production, ref.place, quantity, batch, conversion_cost=added)],
            when,
            order.number,
            serials=[SerialMove(ref.item_id, s, batch, production, ref.place) for s in made],
        )
        reserve_on_receipt(uow, SupplyKind.PRODUCTION, ref.id, ref.item_id, ref.place, quantity)
        fill_backorders(uow, ref.item_id, ref.place, current_day(None), order.number)
        uow.production.save(order)
        uow.commit()
    return get_production_order(uow, number)


@retrying
def close_production(
    uow: UnitOfWork, number: str, *, actor: str = "system", occurred_at: datetime | None = None
) -> ProductionOrderView:
    """Close a started order: unused components go back from WIP to the order's location, and
    demands still waiting on it fall back to backorder.
    """
    when = checked_time(occurred_at)
    with uow.acting(actor):
        order, ref, _ = uow.production.get(production_id(number), lock=True)
        ended = [p.reference for p in settle_pegs(uow, SupplyKind.PRODUCTION, ref.id)]
        order.close(ended)
        wip = _wip(uow)
        for component in order.components:
            left = component.consumed - order.used(component)
            if left <= 0:
                continue
            item = known_item(uow, component.sku, None, None)
            back: list[SerialMove] = []
            if item.value.serial_tracked:
                back = components.order_serials(
                    uow, item, order.number, ref.place, wip, ref.place, left
                )
                picks = []
                for lot, q in by_lot([components.serial_at(m, wip) for m in back]).items():
                    picks += take(
                        uow, item, wip, q, current_day(None), lot, respect_reservations=False
                    )
            else:
                picks = take(uow, item, wip, left, current_day(None), respect_reservations=False)
            postings = [Posting(item.id, wip, ref.place, q, lot) for lot, q in picks]
            post(uow, MoveKind.TRANSFER, item, postings, when, order.number, serials=back)
        uow.production.save(order)
        uow.commit()
    return get_production_order(uow, number)


@retrying
def cancel_production(
    uow: UnitOfWork, number: str, *, reason: str | None = None, actor: str = "system"
) -> ProductionOrderView:
    """Cancel an order not started: component reservations go back, their pulled supply is
    reduced or flagged, and the demands it served fall back to backorder."""
    with uow.acting(actor):
        order, ref, item_ids = uow.production.get(production_id(number), lock=True)
        ended = [p.reference for p in settle_pegs(uow, SupplyKind.PRODUCTION, ref.id)]
        order.cancel(reason, ended)
        for component in order.components:
            demand = component_demand(order, component, item_ids[component.sku], ref.place)
            drop(uow, demand, component.quantity, component.quantity)
        uow.production.save(order)
        uow.commit()
    return get_production_order(uow, number)
