"""The pull: serve a demand from stock, pull supply for the rest, and undo it when demand shrinks.

A demand is a sales line or a production order's component. Served from stock means reserved
under the item-location's row lock, exactly as `stock.reserve` does, so concurrent demands
never promise more than is there. What stock cannot serve is pulled by the item's policy
(docs/architecture.md, the JIT loop, step 4) and pegged to the demand; pulled supply, when it
arrives, is reserved for its pegs first. Everything here runs inside the caller's unit of work.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from leanstock.domain.catalog import Item, Policy, SupplierItem
from leanstock.domain.errors import Conflict
from leanstock.domain.ledger import LotStock, Place, StockLevel, available, draw
from leanstock.domain.orders import (
    CHANGEABLE,
    TRANSFER_DAYS,
    UNSHIPPED,
    Component,
    DemandKind,
    Fulfilment,
    Peg,
    PegStatus,
    ProductionOrder,
    ProductionStatus,
    PurchaseLine,
    PurchaseOrder,
    PurchaseStatus,
    Supply,
    SupplyKind,
    TransferOrder,
    draft_quantity,
    number,
    order_quantity,
    promise_date,
)
from leanstock.domain.sourcing import (
    Sourcing,
    SupplierStandard,
    choose_supplier,
    replenishment_lead_time,
)
from leanstock.services.ports import SupplierOffers, UnitOfWork
from leanstock.services.supplier_standard import company_standard

ZERO = Decimal(0)


@dataclass(frozen=True)
class Demand:
    """Something that needs `item` at `place`: a sales line, or a component of a production order.

    `reference` names its reservations (SO-000001/1, MO-000002/FLOUR) and its pegs.
    """

    kind: DemandKind
    id: int
    reference: str
    item_id: int
    sku: str
    place: Place
    customer: str | None = None
    sales_order_id: int | None = None


@dataclass(frozen=True)
class PegView:
    supply: str
    kind: str
    quantity: Decimal
    received: Decimal
    status: str
    expected: date | None


@dataclass
class Pulled:
    """What a pull arranged: how, the pegs it made, and when their supply is expected."""

    fulfilment: Fulfilment
    pegs: list[PegView] = field(default_factory=list)

    @property
    def supplies(self) -> list[Supply]:
        return [Supply(p.quantity - p.received, p.expected) for p in self.pegs]


@dataclass(frozen=True)
class PreferredSupplier:
    """The supplier the sourcing rule (`domain.sourcing.choose_supplier`) picks for an item."""

    supplier_id: int
    sourcing: Sourcing

    @property
    def terms(self) -> SupplierItem:
        return self.sourcing.offer


def _preferred(found: SupplierOffers, standard: SupplierStandard) -> PreferredSupplier | None:
    chosen = choose_supplier(found.offers, found.active, found.records, standard)
    return (
        None if chosen is None else PreferredSupplier(found.supplier_ids[chosen.supplier], chosen)
    )


def preferred_supplier(uow: UnitOfWork, item_id: int) -> PreferredSupplier | None:
    """Whom to buy an item from: the same rule, and so the same supplier, as the planner's."""
    return _preferred(uow.purchasing.offers(item_id), company_standard(uow))


def preferred_suppliers(
    uow: UnitOfWork, item_ids: Sequence[int]
) -> dict[int, PreferredSupplier | None]:
    """`preferred_supplier` of many items, their offers read in one query."""
    if not item_ids:
        return {}
    offers = uow.purchasing.offers_of(item_ids)
    standard = company_standard(uow)
    return {item_id: _preferred(offers[item_id], standard) for item_id in set(item_ids)}


def lead_time(uow: UnitOfWork, item_id: int) -> int | None:
    """Days to replenish an item: its preferred supplier's lead time, else its BOM's."""
    return lead_times(uow, [item_id])[item_id]


def lead_times(
    uow: UnitOfWork,
    item_ids: Sequence[int],
    preferred: Mapping[int, PreferredSupplier | None] | None = None,
) -> dict[int, int | None]:
    """`lead_time` of many items (`preferred`: their preferred suppliers, when already read)."""
    chosen = dict(preferred or {})
    if unknown := sorted(set(item_ids) - set(chosen)):
        chosen.update(preferred_suppliers(uow, unknown))
    days: dict[int, int | None] = {}
    for item_id in set(item_ids):
        found = chosen[item_id]
        days[item_id] = (
            replenishment_lead_time(found.sourcing, None)
            if found is not None
            else replenishment_lead_time(None, uow.boms.lead_time(item_id))
        )
    return days


def reserve_from_stock(
    uow: UnitOfWork, demand: Demand, wanted: Decimal, today: date, lot_tracked: bool = True
) -> Decimal:
    """Reserve up to `wanted` of what is available; returns how much was reserved.

    available = usable on hand − reserved, read under the stock row lock (`stock.reserve`).
    An item that is not lot-tracked has no lots to expire, so its usable on hand is the locked
    row's on hand and the lots need not be read.
    """
    if lot_tracked:
        level, lots = uow.ledger.lock_stock_and_lots(demand.item_id, demand.place)
    else:
        level, lots = uow.ledger.lock_stock(demand.item_id, demand.place), None
    take = reservable(level, lots, wanted, today)
    if take > 0:
        uow.ledger.reserve(demand.item_id, demand.place.id, demand.reference, take)
    return take


def reservable(
    level: StockLevel, lots: Sequence[LotStock] | None, wanted: Decimal, today: date
) -> Decimal:
    """How much of `wanted` a locked stock row can promise: available, at most `wanted`.

    `lots` None: an item that is not lot-tracked, whose usable on hand is the row's on hand.
    """
    found = list(lots) if lots is not None else [LotStock(None, level.on_hand)]
    return min(max(available(found, level.reserved, today), ZERO), wanted)


def pull(uow: UnitOfWork, demand: Demand, item: Item, quantity: Decimal, today: date) -> Pulled:
    """Pull supply for `quantity` of `demand` that stock cannot serve, by the item's policy.

    buy_to_order: onto the preferred supplier's open draft; make_to_order: a production order
    whose components pull in turn; drop_ship: a purchase order shipped to the customer;
    transfer: from other locations that have it; stocked policies: a backorder the planner
    replenishes.
    """
    policy = item.policy
    if policy is Policy.DROP_SHIP and demand.kind is DemandKind.SALES_LINE:
        return _buy(uow, demand, quantity, today, drop_ship=True)
    if policy in (Policy.BUY_TO_ORDER, Policy.DROP_SHIP):
        return _buy(uow, demand, quantity, today, drop_ship=False)
    if policy is Policy.MAKE_TO_ORDER:
        return _make(uow, demand, quantity, today)
    if policy is Policy.TRANSFER:
        return _transfer(uow, demand, quantity, today)
    return Pulled(Fulfilment.BACKORDER)


def _peg(
    uow: UnitOfWork,
    demand: Demand,
    kind: SupplyKind,
    supply_id: int,
    supply: str,
    quantity: Decimal,
    expected: date | None,
) -> PegView:
    uow.pegs.add(demand.kind, demand.id, kind, supply_id, demand.reference, quantity)
    return PegView(supply, kind.value, quantity, ZERO, PegStatus.OPEN.value, expected)


def _buy(
    uow: UnitOfWork, demand: Demand, quantity: Decimal, today: date, drop_ship: bool
) -> Pulled:
    preferred = preferred_supplier(uow, demand.item_id)
    if preferred is None:
        return Pulled(Fulfilment.BACKORDER)
    supplier_id, terms = preferred.supplier_id, preferred.terms
    supplier, price, moq, pack = terms.supplier, terms.price, terms.moq, terms.pack_size
    expected = today + timedelta(days=terms.lead_time_days)
    if drop_ship:
        order = PurchaseOrder(supplier, drop_ship_customer=demand.customer or "customer")
        uow.purchasing.add(order, supplier_id, demand.sales_order_id)
        line = PurchaseLine(1, demand.sku, demand.place.code, quantity, price, expected)
        uow.purchasing.add_line(order.id or 0, line, demand.item_id, demand.place)
        supply = f"{order.number}/1"
        peg = _peg(uow, demand, SupplyKind.PURCHASE, line.id or 0, supply, quantity, expected)
        return Pulled(Fulfilment.DROP_SHIP, [peg])
    order_id = uow.purchasing.lock_draft(supplier_id)
    found = uow.purchasing.draft_line(order_id, demand.item_id, demand.place.id)
    if found is not None:
        line_id, line_no, ordered, pegged = found
        wanted = max(ordered, order_quantity(pegged + quantity, moq, pack))
        uow.purchasing.resize_line(line_id, wanted, expected)
    else:
        line_no = uow.purchasing.next_line_no(order_id)
        line = PurchaseLine(
            line_no,
            demand.sku,
            demand.place.code,
            order_quantity(quantity, moq, pack),
            price,
            expected,
        )
        line_id = uow.purchasing.add_line(order_id, line, demand.item_id, demand.place)
    supply = f"{number('purchase', order_id)}/{line_no}"
    peg = _peg(uow, demand, SupplyKind.PURCHASE, line_id, supply, quantity, expected)
    return Pulled(Fulfilment.PURCHASE, [peg])


def _make(uow: UnitOfWork, demand: Demand, quantity: Decimal, today: date) -> Pulled:
    order = start_production(uow, demand.item_id, demand.sku, demand.place, quantity, today)
    peg = _peg(
        uow,
        demand,
        SupplyKind.PRODUCTION,
        order.id or 0,
        order.number,
        quantity,
        order.due_date,
    )
    return Pulled(Fulfilment.PRODUCTION, [peg])


def start_production(
    uow: UnitOfWork,
    item_id: int,
    sku: str,
    place: Place,
    quantity: Decimal,
    today: date,
    due_date: date | None = None,
) -> ProductionOrder:
    """A draft production order whose components are reserved from stock or pulled.

    The BOM is exploded one level here; a component that is itself made to order pulls its
    own production order, which explodes the next level. Due: the latest date a component is
    ready, plus the BOM's lead time (unless a later `due_date` is asked).
    """
    bom = uow.boms.get(item_id)
    if bom is None:
        raise Conflict(
            f"{sku} is made but has no bill of materials; add one (`leanstock set-bom`, or "
            "POST /api/v1/boms) before making it.",
            "sku",
        )
    lead, lines = bom
    order = ProductionOrder.plan(sku, place.code, quantity)
    uow.production.add(order, item_id, place)
    ready = today
    for component_id, line in lines:
        component = Component(line.component, line.gross(quantity))
        uow.production.add_component(order.id or 0, component, component_id)
        demand = Demand(
            DemandKind.COMPONENT,
            component.id or 0,
            f"{order.number}/{line.component}",
            component_id,
            line.component,
            place,
        )
        reserved = reserve_from_stock(uow, demand, component.quantity, today)
        pulled = Pulled(Fulfilment.STOCK)
        if reserved < component.quantity:
            item = uow.catalog.item(line.component).value
            pulled = pull(uow, demand, item, component.quantity - reserved, today)
        when = promise_date(
            today,
            component.quantity,
            reserved,
            pulled.supplies,
            lead_time(uow, component_id) if pulled.fulfilment is Fulfilment.BACKORDER else 0,
        )
        ready = max(ready, when or today)
    order.due_date = max(ready + timedelta(days=lead), due_date or today)
    uow.production.save(order)
    return order


def _transfer(uow: UnitOfWork, demand: Demand, quantity: Decimal, today: date) -> Pulled:
    pulled = Pulled(Fulfilment.BACKORDER)
    remaining = quantity
    expected = today + timedelta(days=TRANSFER_DAYS)
    for source, _hint in uow.ledger.available_elsewhere(demand.item_id, demand.place.id):
        if remaining <= 0:
            break
        level, lots = uow.ledger.lock_stock_and_lots(demand.item_id, source)
        take = min(available(lots, level.reserved, today), remaining)
        if take <= 0:
            continue
        order = TransferOrder.plan(demand.sku, source.code, demand.place.code, take, expected)
        uow.transfers.add(order, demand.item_id, source, demand.place)
        uow.ledger.reserve(demand.item_id, source.id, order.number, take)
        pulled.pegs.append(
            _peg(uow, demand, SupplyKind.TRANSFER, order.id or 0, order.number, take, expected)
        )
        pulled.fulfilment = Fulfilment.TRANSFER
        remaining -= take
    return pulled


# Supply arriving


def reserve_on_receipt(
    uow: UnitOfWork, kind: SupplyKind, supply_id: int, item_id: int, place: Place, arrived: Decimal
) -> Decimal:
    """Reserve arrived supply for the demands it is pegged to, oldest peg first.

    The caller holds the item-location's stock row lock and has posted the receipt, so what is
    reserved here is on hand. Returns how much was reserved; the rest is free stock.
    """
    takes = draw(uow.pegs.of_supply(kind, [supply_id]), arrived)
    for peg, take in takes:
        uow.ledger.reserve(item_id, place.id, peg.reference, take)
        uow.pegs.save(peg.receive(take))
    return sum((take for _, take in takes), ZERO)


def settle_pegs(uow: UnitOfWork, kind: SupplyKind, supply_id: int) -> list[Peg]:
    """Supply that will bring no more (closed short, cancelled): its open pegs end.

    The demands they served fall back to backorder; returns the pegs ended.
    """
    ended = [p for p in uow.pegs.of_supply(kind, [supply_id]) if p.open > 0]
    for peg in ended:
        uow.pegs.save(peg.end())
    return ended


# Demand shrinking


def drop(uow: UnitOfWork, demand: Demand, open_before: Decimal, quantity: Decimal) -> None:
    """Take `quantity` off a demand that had `open_before` still to come.

    The unsupplied rest goes first, then pegged supply (a draft is reduced or cancelled; a
    released one is flagged for a change request to the supplier), newest first, and last
    its reservations, newest first: stock in hand is the last thing to give back.
    """
    remaining = quantity
    pegs = [p for p in uow.pegs.of_demand(demand.kind, [demand.id]) if p.open > 0]
    reservations = uow.ledger.open_reservations(demand.reference)
    reserved = sum((r.open_quantity for r in reservations), ZERO)
    pegged = sum((p.open for p in pegs), ZERO)
    remaining -= min(max(open_before - reserved - pegged, ZERO), remaining)
    for peg, take in draw(reversed(pegs), remaining):
        _unpeg(uow, peg, take)
        remaining -= take
    if remaining > 0 and reservations:
        uow.ledger.lock_stock(demand.item_id, demand.place)
        uow.ledger.release(draw(reversed(reservations), remaining))


def _unpeg(uow: UnitOfWork, peg: Peg, quantity: Decimal) -> None:
    uow.pegs.save(peg.reduce(quantity))
    if peg.supply_kind == SupplyKind.PURCHASE:
        _reduce_purchase(uow, peg, quantity)
    elif peg.supply_kind == SupplyKind.PRODUCTION:
        _reduce_production(uow, peg.supply_id, quantity)
    else:
        _reduce_transfer(uow, peg.supply_id, quantity)


def _reduce_purchase(uow: UnitOfWork, peg: Peg, quantity: Decimal) -> None:
    """A draft line shrinks to what its remaining pegs need; released supply gets a request."""
    order, refs = uow.purchasing.get(uow.purchasing.order_of_line(peg.supply_id), lock=True)
    line = next(ln for ln in order.lines if ln.id == peg.supply_id)
    if order.status is PurchaseStatus.DRAFT:
        pegged = sum(
            (p.open for p in uow.pegs.of_supply(SupplyKind.PURCHASE, [peg.supply_id])), ZERO
        )
        drop_ship = order.drop_ship_customer is not None
        moq = pack = Decimal(1)
        if pegged > 0 and not drop_ship:
            preferred = preferred_supplier(uow, refs[line.line_no].item_id)
            if preferred is not None:
                moq, pack = preferred.terms.moq, preferred.terms.pack_size
        order.reduce_line(line.line_no, draft_quantity(pegged, drop_ship, moq, pack))
        uow.purchasing.save(order)
    elif order.status in CHANGEABLE:
        order.request_change(line.line_no, quantity)
        uow.purchasing.save(order)


def _reduce_production(uow: UnitOfWork, order_id: int, quantity: Decimal) -> None:
    """A draft makes less (its components' demands shrink in turn); a released one is flagged."""
    order, ref, item_ids = uow.production.get(order_id, lock=True)
    if order.status is ProductionStatus.DRAFT:
        for component, less in order.reduce(quantity):
            demand = component_demand(order, component, item_ids[component.sku], ref.place)
            drop(uow, demand, component.quantity + less, less)
        uow.production.save(order)
    elif order.status in (ProductionStatus.RELEASED, ProductionStatus.IN_PROGRESS):
        order.request_change(quantity)
        uow.production.save(order)


def _reduce_transfer(uow: UnitOfWork, order_id: int, quantity: Decimal) -> None:
    """An unshipped transfer carries less and gives back that much of its source reservation."""
    order, item_id, source, _target = uow.transfers.get(order_id, lock=True)
    if order.status not in UNSHIPPED:
        return
    uow.ledger.lock_stock(item_id, source)
    uow.ledger.release(draw(uow.ledger.open_reservations(order.number), quantity))
    order.reduce(quantity)
    uow.transfers.save(order)


def component_demand(
    order: ProductionOrder, component: Component, item_id: int, place: Place
) -> Demand:
    return Demand(
        DemandKind.COMPONENT,
        component.id or 0,
        f"{order.number}/{component.sku}",
        item_id,
        component.sku,
        place,
    )


# Promise dates


def promises(
    uow: UnitOfWork,
    demands: Sequence[tuple[Demand, Decimal, date | None]],
    today: date,
) -> tuple[dict[int, date | None], dict[int, Decimal], dict[int, list[PegView]]]:
    """Promise date, reserved quantity and pegs per demand id, from what is in the database.

    `demands` are (demand, open quantity, requested date), all of one kind.
    """
    if not demands:
        return {}, {}, {}
    kind = demands[0][0].kind
    reserved = uow.ledger.reserved_for([d.reference for d, _, _ in demands])
    pegs = uow.pegs.of_demand(kind, [d.id for d, _, _ in demands])
    dates = uow.pegs.supply_dates(pegs)
    numbers = uow.pegs.supply_numbers(pegs)
    views: dict[int, list[PegView]] = {d.id: [] for d, _, _ in demands}
    for p in pegs:
        views[p.demand_id].append(
            PegView(
                numbers.get((p.supply_kind, p.supply_id), p.supply_kind),
                p.supply_kind,
                p.quantity,
                p.received,
                p.status,
                dates.get((p.supply_kind, p.supply_id)),
            )
        )
    promised: dict[int, date | None] = {}
    held: dict[int, Decimal] = {}
    covering: list[tuple[Demand, Decimal, date | None, Decimal, list[Supply], bool]] = []
    for demand, open_quantity, requested in demands:
        mine = reserved.get(demand.reference, ZERO)
        held[demand.id] = mine
        supplies = [
            Supply(v.quantity - v.received, v.expected)
            for v in views[demand.id]
            if v.status == PegStatus.OPEN
        ]
        covered = mine + sum((s.quantity for s in supplies), ZERO)
        covering.append((demand, open_quantity, requested, mine, supplies, covered < open_quantity))
    leads = lead_times(uow, [d.item_id for d, *_, short in covering if short])
    for demand, open_quantity, requested, mine, supplies, short in covering:
        lead = leads[demand.item_id] if short else None
        promised[demand.id] = promise_date(today, open_quantity, mine, supplies, lead, requested)
    return promised, held, views


def quote(
    uow: UnitOfWork,
    demand: Demand,
    item: Item,
    quantity: Decimal,
    today: date,
    requested: date | None = None,
) -> date | None:
    """When a line not yet confirmed could ship, if confirmed now: what a customer sees before
    committing. Nothing is reserved or pulled; confirmation decides under the locks.

    Free stock covers it: today. Otherwise by policy: drop-ship and buy-to-order wait the
    preferred supplier's lead time, make-to-order the BOM's plus its slowest component's,
    transfer a day if another location has enough, stocked items their replenishment lead time.
    """
    free = ZERO
    if item.policy is not Policy.DROP_SHIP:
        free = uow.ledger.free_stock(demand.item_id, demand.place.id)
    short = quantity - max(free, ZERO)
    lead: int | None = 0
    if short > 0 and item.policy is Policy.MAKE_TO_ORDER:
        bom = uow.boms.get(demand.item_id)
        components = [lead_time(uow, cid) or 0 for cid, _ in bom[1]] if bom else []
        lead = bom[0] + max(components, default=0) if bom else None
    elif short > 0 and item.policy is Policy.TRANSFER:
        elsewhere = uow.ledger.free_stock(demand.item_id) - max(free, ZERO)
        lead = TRANSFER_DAYS if elsewhere >= short else None
    elif short > 0:
        lead = lead_time(uow, demand.item_id)
    if lead is None:
        return None
    promised = today + timedelta(days=lead)
    return max(promised, requested) if requested else promised
