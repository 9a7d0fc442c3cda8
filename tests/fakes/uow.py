"""A unit of work over plain Python state, for testing the services' rules in milliseconds.

`InMemoryUnitOfWork` implements the `UnitOfWork` Protocol the services are written against.
A transaction works on a deep copy of the committed state and replaces it on commit, so a
refused use case leaves nothing behind, as on a database. On commit it writes the events the
aggregates recorded, as the database unit of work does.

What it covers: the catalog, the ledger (stock rows, lots, postings with the balance
constraints, reservations and the reserved counter), sales, purchase, production and transfer
orders with their lines, pegs, bills of materials, receipts and suppliers' delivery records,
and the outbox and audit trail. What it does not: row locks and concurrency (one thread, one
transaction at a time), the planning repository (forecast and plan runs), bulk history loads,
and past stock (`on_hand_as_of`); those raise `NotImplementedError` and are tested on SQLite
and PostgreSQL. SQL read models (stock levels, order lists) are mirrored simply, without
their SQL; the database tests are what prove the SQL.
"""

from __future__ import annotations

import copy
import math
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from types import TracebackType
from typing import Any, NoReturn, Self, TypeVar

from leanstock.domain.access import EVERYTHING
from leanstock.domain.barcodes import scanned
from leanstock.domain.catalog import (
    PHYSICAL_KINDS,
    VIRTUAL_LOCATIONS,
    Item,
    Location,
    LocationKind,
    Supplier,
    SupplierItem,
)
from leanstock.domain.costing import CostedMove
from leanstock.domain.customers import WALK_IN_PRIORITY, Customer
from leanstock.domain.errors import AlreadyExists, Conflict, NotFound
from leanstock.domain.events import Aggregate, DomainEvent, collect
from leanstock.domain.ledger import (
    KnownLot,
    LotStock,
    OneStepDocument,
    OperationRecord,
    Place,
    Posting,
    Reservation,
    ReservationStatus,
    StockLevel,
    available,
)
from leanstock.domain.orders import (
    BomLine,
    Component,
    DemandKind,
    Fulfilment,
    Peg,
    ProductionOrder,
    PurchaseLine,
    PurchaseOrder,
    PurchaseStatus,
    SalesLine,
    SalesOrder,
    SalesStatus,
    SupplyKind,
    TransferOrder,
    number,
)
from leanstock.domain.serials import SerialAt, SerialMove
from leanstock.domain.sourcing import SupplierRecord
from leanstock.domain.stocktake import CountLine, Stocktake, StocktakeStatus
from leanstock.services.ports import (
    ItemCosting,
    ItemFigures,
    ItemOrder,
    LineRef,
    OpenSalesLine,
    Page,
    RevaluationJob,
    Stored,
    SupplierOffers,
    UnitOfWork,
)

ZERO = Decimal(0)
T = TypeVar("T")


def _page(rows: list[T], limit: int, offset: int) -> Page[T]:
    return Page(rows[offset : offset + limit], len(rows), limit, offset)


def _rows(rows: list[dict[str, Any]], limit: int, offset: int) -> tuple[list[dict[str, Any]], int]:
    return rows[offset : offset + limit], len(rows)


def _figures(state: State, sku: str, demand_since: datetime) -> ItemFigures:
    """What `StockReports.item_figures` reads of one item (every location is visible here)."""
    item_id = state.items[sku].id
    lots: dict[str, list[LotStock]] = {}
    reserved: dict[str, Decimal] = {}
    for i, location_id in sorted(state.on_hand):
        place = state.location_by_id(location_id).value
        if i != item_id or place.kind not in PHYSICAL_KINDS:
            continue
        held = [s for s in FakeLedger(state).lot_stock(i, location_id) if s.quantity != 0]
        if held:
            lots[place.code] = held
        if state.reserved.get((i, location_id), ZERO) != 0:
            reserved[place.code] = state.reserved[(i, location_id)]
    return ItemFigures(lots, reserved, _demand(state, sku, demand_since))


def _demand(state: State, sku: str, since: datetime) -> Decimal:
    return sum(
        (r["qty"] for r in FakeSales(state, []).demand_rows(since) if r["item"] == sku), ZERO
    )


def _ordered(state: State, order: ItemOrder | None) -> list[Stored[Item]]:
    """The items in `order`, as `adapters/db/item_keys.py` sorts them: by SKU within a key,
    items without a key (no demand, inactive) last."""
    by_sku = sorted(state.items.values(), key=lambda s: s.value.sku)
    if order is None:
        return by_sku
    today = order.today or datetime.now(UTC).date()
    since = order.demand_since or datetime.combine(today, datetime.min.time(), UTC)

    def key(stored: Stored[Item]) -> Any:
        item = stored.value
        if order.key in ("sku", "name", "category"):
            return getattr(item, order.key)
        if order.key == "class":
            usage = order.usage_since or since
            value = max(float(_demand(state, item.sku, usage)) * float(item.unit_cost), 0.0)
            return -value if item.active else None
        found = _figures(state, item.sku, since)
        if order.key == "stock":
            return sum((s.quantity for held in found.lots.values() for s in held), ZERO)
        places = found.lots.keys() | found.reserved.keys()
        free = sum(
            (available(found.lots.get(p, []), found.reserved.get(p, ZERO), today) for p in places),
            ZERO,
        )
        if order.key == "available":
            return free
        return max(free, ZERO) / found.demand if found.demand > 0 else None

    keyed = [(key(s), s) for s in by_sku]
    # A stable sort: ties stay in SKU order, ascending or descending.
    present = sorted(
        ((k, s) for k, s in keyed if k is not None),
        key=lambda pair: pair[0],
        reverse=order.descending,
    )
    return [s for _, s in present] + [s for k, s in keyed if k is None]


def _not_covered(what: str) -> NoReturn:
    raise NotImplementedError(
        f"The in-memory unit of work does not cover {what}; test it on the database."
    )


@dataclass
class Receipt:
    purchase_line_id: int
    received_on: date
    promised_date: date | None
    quantity: Decimal
    rejected: Decimal
    rejected_to: str | None
    operation_id: int | None


@dataclass
class State:
    """Everything a business has, as the database would hold it."""

    ids: defaultdict[str, int] = field(default_factory=lambda: defaultdict(int))
    items: dict[str, Stored[Item]] = field(default_factory=dict)
    locations: dict[str, Stored[Location]] = field(default_factory=dict)
    suppliers: dict[str, Stored[Supplier]] = field(default_factory=dict)
    supplier_items: dict[tuple[str, str], SupplierItem] = field(default_factory=dict)
    on_hand: dict[tuple[int, int], Decimal] = field(default_factory=dict)
    reserved: dict[tuple[int, int], Decimal] = field(default_factory=dict)
    balances: dict[tuple[int, int, str], Decimal] = field(default_factory=dict)
    lots: dict[tuple[int, str], date | None] = field(default_factory=dict)
    reservations: dict[int, Reservation] = field(default_factory=dict)
    reasons: dict[int, str | None] = field(default_factory=dict)
    operations: list[tuple[int, str, str | None, list[Posting], datetime]] = field(
        default_factory=list
    )
    sales: dict[int, tuple[SalesOrder, dict[int, LineRef]]] = field(default_factory=dict)
    purchases: dict[int, tuple[PurchaseOrder, dict[int, LineRef], int, int | None]] = field(
        default_factory=dict
    )
    receipts: list[Receipt] = field(default_factory=list)
    production: dict[int, tuple[ProductionOrder, LineRef, dict[str, int]]] = field(
        default_factory=dict
    )
    transfers: dict[int, tuple[TransferOrder, int, Place, Place]] = field(default_factory=dict)
    boms: dict[int, tuple[int, list[tuple[int, BomLine]]]] = field(default_factory=dict)
    pegs: dict[int, Peg] = field(default_factory=dict)
    outbox: list[dict[str, Any]] = field(default_factory=list)
    audit: list[dict[str, Any]] = field(default_factory=list)
    units: dict[tuple[int, str], Decimal] = field(default_factory=dict)
    revaluations: list[tuple[int, int, datetime, Decimal, Decimal]] = field(default_factory=list)
    settings: dict[str, str] = field(default_factory=lambda: {"costing_method": "fifo"})
    stocktakes: dict[int, tuple[Stocktake, int]] = field(default_factory=dict)
    # (item id, serial) → (lot, location id); and (operation, item, serial, source, target).
    serials: dict[tuple[int, str], tuple[str | None, int]] = field(default_factory=dict)
    serial_moves: list[tuple[int, int, str, int, int]] = field(default_factory=list)
    barcodes: dict[str, int] = field(default_factory=dict)
    customers: dict[str, Stored[Customer]] = field(default_factory=dict)
    # Sales order id → the id of its customer record.
    order_customers: dict[int, int] = field(default_factory=dict)

    def next_id(self, kind: str) -> int:
        self.ids[kind] += 1
        return self.ids[kind]

    def item_by_id(self, item_id: int) -> Stored[Item]:
        return next(s for s in self.items.values() if s.id == item_id)

    def location_by_id(self, location_id: int) -> Stored[Location]:
        return next(s for s in self.locations.values() if s.id == location_id)

    def place(self, code: str) -> Place:
        stored = self.locations[code]
        return Place(stored.id, code, stored.value.may_go_negative)


def _by_barcode(state: State, ref: str) -> Stored[Item] | None:
    item_id = state.barcodes.get(scanned(ref))
    return None if item_id is None else state.item_by_id(item_id)


class FakeCustomers:
    def __init__(self, state: State) -> None:
        self.s = state

    def get(self, code: str, field: str = "customer_code") -> Stored[Customer]:
        if code not in self.s.customers:
            raise NotFound("customer", code, field)
        return self.s.customers[code]

    def add(self, customer: Customer) -> Stored[Customer]:
        if customer.code in self.s.customers:
            raise AlreadyExists("customer", customer.code, "code")
        self.s.customers[customer.code] = Stored(self.s.next_id("customer"), customer)
        return self.s.customers[customer.code]

    def update(self, customer: Customer) -> None:
        self.s.customers[customer.code] = Stored(self.s.customers[customer.code].id, customer)

    def orders_of(self, customer_id: int) -> int:
        return sum(1 for c in self.s.order_customers.values() if c == customer_id)

    def delete(self, customer_id: int) -> None:
        code = next(k for k, v in self.s.customers.items() if v.id == customer_id)
        del self.s.customers[code]

    def page(
        self,
        limit: int = 50,
        offset: int = 0,
        search: str | None = None,
        active: bool | None = None,
    ) -> Page[Customer]:
        found = [
            s.value
            for _, s in sorted(self.s.customers.items())
            if (search is None or search.lower() in (s.value.code + s.value.name).lower())
            and (active is None or s.value.active == active)
        ]
        return _page(found, limit, offset)

    def priority_of_order(self, order_id: int) -> int:
        customer_id = self.s.order_customers.get(order_id)
        for stored in self.s.customers.values():
            if stored.id == customer_id:
                return stored.value.priority
        return WALK_IN_PRIORITY


class FakeCatalog:
    def __init__(self, state: State) -> None:
        self.s = state

    def item(self, sku: str, field: str = "sku") -> Stored[Item]:
        found = self.s.items.get(sku) or _by_barcode(self.s, sku)
        if found is None:
            raise NotFound("item", sku, field)
        return found

    def items_and_locations(
        self, skus: Sequence[str], codes: Sequence[str]
    ) -> tuple[dict[str, Stored[Item]], dict[str, Stored[Location]]] | None:
        items = {s: found for s in skus if (found := self.s.items.get(s) or _by_barcode(self.s, s))}
        if len(items) < len(set(skus)) or any(c not in self.s.locations for c in codes):
            return None
        return items, {c: self.s.locations[c] for c in codes}

    def barcodes(self, skus: Sequence[str]) -> dict[str, list[str]]:
        found: dict[str, list[str]] = {}
        for code, item_id in sorted(self.s.barcodes.items()):
            sku = self.s.item_by_id(item_id).value.sku
            if sku in skus:
                found.setdefault(sku, []).append(code)
        return found

    def barcode_owner(self, barcode: str) -> str | None:
        item_id = self.s.barcodes.get(barcode)
        return None if item_id is None else self.s.item_by_id(item_id).value.sku

    def sku_taken(self, sku: str) -> bool:
        return sku in self.s.items

    def add_barcode(self, item_id: int, barcode: str) -> None:
        if barcode in self.s.barcodes:
            raise Conflict("barcode taken (the primary key)")
        self.s.barcodes[barcode] = item_id

    def remove_barcode(self, item_id: int, barcode: str) -> bool:
        if self.s.barcodes.get(barcode) != item_id:
            return False
        del self.s.barcodes[barcode]
        return True

    def add_item(self, item: Item) -> Stored[Item]:
        if item.sku in self.s.items:
            raise AlreadyExists("item", item.sku, "sku")
        self.s.items[item.sku] = Stored(self.s.next_id("item"), item)
        return self.s.items[item.sku]

    def update_item(self, item: Item) -> None:
        self.s.items[item.sku] = Stored(self.s.items[item.sku].id, item)

    def items(
        self,
        limit: int = 50,
        offset: int = 0,
        search: str | None = None,
        category: str | None = None,
        kind: str | None = None,
        policy: str | None = None,
        lot_tracked: bool | None = None,
        active: bool | None = None,
        order: ItemOrder | None = None,
    ) -> Page[Item]:
        found = [
            s.value
            for s in _ordered(self.s, order)
            if (search is None or search.lower() in (s.value.sku + s.value.name).lower())
            and (category is None or s.value.category == category)
            and (kind is None or s.value.kind == kind)
            and (policy is None or s.value.policy == policy)
            and (lot_tracked is None or s.value.lot_tracked == lot_tracked)
            and (active is None or s.value.active == active)
        ]
        return _page(found, limit, offset)

    def location(self, code: str, field: str = "location") -> Stored[Location]:
        if code not in self.s.locations:
            raise NotFound("location", code, field)
        return self.s.locations[code]

    def add_location(self, location: Location) -> Stored[Location]:
        if location.code in self.s.locations:
            raise AlreadyExists("location", location.code, "code")
        self.s.locations[location.code] = Stored(self.s.next_id("location"), location)
        return self.s.locations[location.code]

    def update_location(self, location: Location) -> None:
        self.s.locations[location.code] = Stored(self.s.locations[location.code].id, location)

    def locations(
        self,
        limit: int = 50,
        offset: int = 0,
        kind: str | None = None,
        physical: bool | None = None,
    ) -> Page[Location]:
        found = [
            s.value
            for s in sorted(self.s.locations.values(), key=lambda s: s.id)
            if (kind is None or s.value.kind == kind)
            and (physical is None or s.value.is_physical == physical)
        ]
        return _page(found, limit, offset)

    def supplier(self, code: str, field: str = "supplier") -> Stored[Supplier]:
        if code not in self.s.suppliers:
            raise NotFound("supplier", code, field)
        return self.s.suppliers[code]

    def add_supplier(self, supplier: Supplier) -> Stored[Supplier]:
        if supplier.code in self.s.suppliers:
            raise AlreadyExists("supplier", supplier.code, "code")
        self.s.suppliers[supplier.code] = Stored(self.s.next_id("supplier"), supplier)
        return self.s.suppliers[supplier.code]

    def update_supplier(self, supplier: Supplier) -> None:
        self.s.suppliers[supplier.code] = Stored(self.s.suppliers[supplier.code].id, supplier)

    def suppliers(
        self, limit: int = 50, offset: int = 0, active: bool | None = None
    ) -> Page[Supplier]:
        found = [
            s.value
            for s in sorted(self.s.suppliers.values(), key=lambda s: s.value.code)
            if active is None or s.value.active == active
        ]
        return _page(found, limit, offset)

    def supplier_item(self, supplier: str, sku: str) -> SupplierItem:
        if (supplier, sku) not in self.s.supplier_items:
            raise NotFound("supplier item", f"{sku} from {supplier}", "sku")
        return self.s.supplier_items[(supplier, sku)]

    def put_supplier_item(self, terms: SupplierItem, create: bool) -> None:
        self.supplier(terms.supplier)
        self.item(terms.sku)
        key = (terms.supplier, terms.sku)
        if create and key in self.s.supplier_items:
            raise AlreadyExists("supplier item", f"{terms.sku} from {terms.supplier}", "sku")
        self.s.supplier_items[key] = terms

    def supplier_items(
        self,
        limit: int = 50,
        offset: int = 0,
        supplier: str | None = None,
        sku: str | None = None,
    ) -> Page[SupplierItem]:
        found = sorted(
            (
                t
                for t in self.s.supplier_items.values()
                if (supplier is None or t.supplier == supplier) and (sku is None or t.sku == sku)
            ),
            key=lambda t: (t.sku, t.priority, t.supplier),
        )
        return _page(found, limit, offset)

    def ensure_location(self, code: str, name: str, kind: str) -> Place:
        if code not in self.s.locations:
            self.add_location(Location(code, name, LocationKind(kind)))
        return self.s.place(code)

    def known(
        self, skus: Sequence[str], codes: Sequence[str]
    ) -> tuple[dict[str, int], dict[str, Place]]:
        items = {s: self.s.items[s].id for s in skus if s in self.s.items}
        places = {
            c: Place(self.s.locations[c].id, c, self.s.locations[c].value.allow_negative)
            for c in codes
            if c in self.s.locations and self.s.locations[c].value.is_physical
        }
        return items, places

    def location_codes(self, codes: Sequence[str]) -> dict[str, int]:
        return {c: self.s.locations[c].id for c in codes if c in self.s.locations}

    def unit_factors(self, item_id: int) -> dict[str, Decimal]:
        return {unit: f for (i, unit), f in self.s.units.items() if i == item_id}

    def put_unit(self, item_id: int, unit: str, factor: Decimal) -> None:
        self.s.units[(item_id, unit)] = factor


class FakeValuation:
    """Costing's reads over the moves the fake ledger recorded, and the settings."""

    def __init__(self, state: State) -> None:
        self.s = state

    def items(self, sku: str | None = None, category: str | None = None) -> list[ItemCosting]:
        return [
            ItemCosting(x.id, x.value.sku, x.value.category, x.value.unit_cost, x.value.costing)
            for x in sorted(self.s.items.values(), key=lambda x: x.value.sku)
            if (sku is None or x.value.sku == sku)
            and (category is None or x.value.category == category)
        ]

    def moves(self, item_ids: Sequence[int] | None = None) -> list[CostedMove]:
        found: list[CostedMove] = []
        move_id = 0
        for op_id, _, reference, postings, when in self.s.operations:
            for p in postings:
                move_id += 1
                if item_ids is None or p.item_id in item_ids:
                    found.append(
                        CostedMove(
                            move_id,
                            op_id,
                            when,
                            p.source.id,
                            p.target.id,
                            p.quantity,
                            p.unit_cost,
                            p.conversion_cost,
                            reference,
                            p.item_id,
                        )
                    )
        return found

    def location_kinds(self) -> dict[int, tuple[str, LocationKind]]:
        return {x.id: (x.value.code, x.value.kind) for x in self.s.locations.values()}

    def default_method_in_use(self) -> bool:
        on_default = {x.id for x in self.s.items.values() if x.value.costing is None}
        return any(p.item_id in on_default for *_, ps, _ in self.s.operations for p in ps)

    def balance_path(
        self, item_id: int, location_id: int, lot: str | None, when: datetime
    ) -> tuple[Decimal, list[tuple[datetime, Decimal]]]:
        before, later = ZERO, []
        for _, _, _, postings, at in sorted(self.s.operations, key=lambda o: (o[4], o[0])):
            for p in postings:
                if p.item_id != item_id or (lot is not None and p.lot != lot):
                    continue
                sign = 1 if p.target.id == location_id else -1 if p.source.id == location_id else 0
                if sign and at <= when:
                    before += sign * p.quantity
                elif sign:
                    later.append((at, sign * p.quantity))
        return before, later

    def moved_after(self, item_ids: Sequence[int], when: datetime) -> bool:
        return any(
            p.item_id in item_ids and at > when for *_, ps, at in self.s.operations for p in ps
        )

    def later_moves(self, item_id: int, when: datetime) -> int:
        return sum(
            p.item_id == item_id and at > when for *_, ps, at in self.s.operations for p in ps
        )

    def costed_moves_until(self, item_ids: Sequence[int], operation_id: int) -> list[CostedMove]:
        return [m for m in self.moves(item_ids) if m.operation_id <= operation_id]

    def add_revaluation_job(
        self, operation_id: int, item_id: int, occurred_at: datetime, later_moves: int
    ) -> int:
        _not_covered("revaluation jobs")

    def claim_revaluation_job(self, stale_before: datetime) -> RevaluationJob | None:
        _not_covered("revaluation jobs")

    def finish_revaluation_job(self, job_id: int, status: str, error: str | None) -> None:
        _not_covered("revaluation jobs")

    def revaluation_job(self, job_id: int) -> RevaluationJob | None:
        _not_covered("revaluation jobs")

    def revaluation_jobs(
        self, status: str | None, limit: int, offset: int
    ) -> tuple[list[RevaluationJob], int]:
        _not_covered("revaluation jobs")

    def reservation_path(
        self, item_id: int, location_id: int, when: datetime
    ) -> tuple[Decimal, list[tuple[datetime, Decimal]]]:
        held, later = ZERO, []
        for r in sorted(self.s.reservations.values(), key=lambda r: (r.created_at, r.id)):
            if (r.item_id, r.location_id) != (item_id, location_id) or r.open_quantity <= 0:
                continue
            if r.status is not ReservationStatus.OPEN:
                continue
            if r.created_at <= when:
                held += r.open_quantity
            else:
                later.append((r.created_at, -r.open_quantity))
        return held, later

    def add_revaluation(
        self, operation_id: int, item_id: int, when: datetime, before: Decimal, after: Decimal
    ) -> None:
        self.s.revaluations.append((operation_id, item_id, when, before, after))

    def backdated(
        self, item_id: int | None, location_id: int | None, limit: int, offset: int
    ) -> tuple[list[dict[str, Any]], int]:
        _not_covered("listing backdated moves")

    def setting(self, key: str, lock: bool = False) -> str | None:
        return self.s.settings.get(key)

    def put_setting(self, key: str, value: str) -> None:
        self.s.settings[key] = value


class FakeLedger:
    def __init__(self, state: State) -> None:
        self.s = state

    def lock_stock(self, item_id: int, place: Place) -> StockLevel:
        key = (item_id, place.id)
        self.s.on_hand.setdefault(key, ZERO)
        self.s.reserved.setdefault(key, ZERO)
        return StockLevel(self.s.on_hand[key], self.s.reserved[key])

    def lock_stocks(
        self, rows: Sequence[tuple[int, Place]], create_first: bool = False
    ) -> dict[tuple[int, int], StockLevel]:
        return {(item_id, place.id): self.lock_stock(item_id, place) for item_id, place in rows}

    def lots_of(self, keys: Sequence[tuple[int, int]]) -> dict[tuple[int, int], list[LotStock]]:
        return {key: self.lot_stock(*key) for key in keys}

    def lock_stock_and_lots(self, item_id: int, place: Place) -> tuple[StockLevel, list[LotStock]]:
        return self.lock_stock(item_id, place), self.lot_stock(item_id, place.id)

    def lot_stock(self, item_id: int, location_id: int) -> list[LotStock]:
        return [
            LotStock(lot or None, quantity, self.s.lots.get((item_id, lot)))
            for (i, loc, lot), quantity in self.s.balances.items()
            if (i, loc) == (item_id, location_id)
        ]

    def expired_stock(self, today: date) -> list[tuple[int, int, str, Decimal]]:
        return sorted(
            (item_id, location_id, lot, quantity)
            for (item_id, location_id, lot), quantity in self.s.balances.items()
            if lot
            and quantity > 0
            and self.s.location_by_id(location_id).value.is_physical
            and (expires := self.s.lots.get((item_id, lot))) is not None
            and expires < today
        )

    def lot(self, item_id: int, code: str) -> KnownLot | None:
        if (item_id, code) not in self.s.lots:
            return None
        return KnownLot(code, self.s.lots[(item_id, code)])

    def add_lot(self, item_id: int, code: str, expires_on: date | None) -> None:
        self.s.lots.setdefault((item_id, code), expires_on)

    def post(
        self,
        kind: str,
        postings: Sequence[Posting],
        occurred_at: datetime,
        reference: str | None = None,
        partner: str | None = None,
        reason: str | None = None,
        note: str | None = None,
    ) -> int:
        """Record the moves and change the balances, refusing what the database's constraints
        refuse: a location that may not go negative left below zero by the whole posting."""
        deltas: dict[tuple[int, Place, str], Decimal] = defaultdict(Decimal)
        for p in postings:
            deltas[(p.item_id, p.source, p.lot or "")] -= p.quantity
            deltas[(p.item_id, p.target, p.lot or "")] += p.quantity
        for (item_id, place, lot), delta in deltas.items():
            lot_key, key = (item_id, place.id, lot), (item_id, place.id)
            self.s.balances[lot_key] = self.s.balances.get(lot_key, ZERO) + delta
            self.s.on_hand[key] = self.s.on_hand.get(key, ZERO) + delta
            self.s.reserved.setdefault(key, ZERO)
        for item_id, place, lot in deltas:
            if not place.may_go_negative and (
                self.s.balances[(item_id, place.id, lot)] < 0
                or self.s.on_hand[(item_id, place.id)] < 0
            ):
                raise Conflict(
                    f"The database refused the change (balance of {place.code} below zero); "
                    "nothing was changed."
                )
        op_id = self.s.next_id("operation")
        self.s.operations.append((op_id, kind, reference, list(postings), occurred_at))
        self.s.reasons[op_id] = reason
        return op_id

    def reserve(
        self, item_id: int, location_id: int, reference: str, quantity: Decimal
    ) -> Reservation:
        now = datetime.now(UTC)
        row = Reservation(
            self.s.next_id("reservation"),
            item_id,
            location_id,
            reference,
            quantity,
            quantity,
            ReservationStatus.OPEN,
            now,
            now,
        )
        self.s.reservations[row.id] = row
        key = (item_id, location_id)
        self.s.reserved[key] = self.s.reserved.get(key, ZERO) + quantity
        return row

    def reserve_many(self, promises: Sequence[tuple[int, int, str, Decimal]]) -> None:
        for promise in promises:
            self.reserve(*promise)

    def release(self, takes: Sequence[tuple[Reservation, Decimal]]) -> list[Reservation]:
        return self._settle(takes, ReservationStatus.RELEASED)

    def consume(self, takes: Sequence[tuple[Reservation, Decimal]]) -> list[Reservation]:
        return self._settle(takes, ReservationStatus.CONSUMED)

    def _settle(
        self, takes: Sequence[tuple[Reservation, Decimal]], closing: ReservationStatus
    ) -> list[Reservation]:
        after = []
        for row, quantity in takes:
            if quantity <= 0:
                continue
            new = row.less(quantity, closing)
            if new.open_quantity < 0:
                raise Conflict("The database refused the change (open_within).")
            self.s.reservations[row.id] = new
            key = (row.item_id, row.location_id)
            self.s.reserved[key] -= quantity
            if self.s.reserved[key] < 0:
                raise Conflict("The database refused the change (reserved_non_negative).")
            after.append(new)
        return after

    def reservation(self, reservation_id: int, lock: bool = False) -> Reservation:
        if reservation_id not in self.s.reservations:
            raise NotFound("reservation", reservation_id, "reservation")
        return self.s.reservations[reservation_id]

    def open_reservations(self, reference: str) -> list[Reservation]:
        return [
            r
            for r in sorted(self.s.reservations.values(), key=lambda r: r.id)
            if r.reference == reference and r.status is ReservationStatus.OPEN
        ]

    def reservations(
        self,
        reference: str | None = None,
        item_id: int | None = None,
        location_id: int | None = None,
        status: str | None = None,
        limit: int = 50,
        offset: int = 0,
    ) -> tuple[list[Reservation], int]:
        found = [
            r
            for r in sorted(self.s.reservations.values(), key=lambda r: r.id)
            if (reference is None or r.reference == reference)
            and (item_id is None or r.item_id == item_id)
            and (location_id is None or r.location_id == location_id)
            and (status is None or r.status == status)
        ]
        return found[offset : offset + limit], len(found)

    def reserved_for(self, references: Sequence[str]) -> dict[str, Decimal]:
        found: dict[str, Decimal] = {}
        for r in self.s.reservations.values():
            if r.reference in references and r.status is ReservationStatus.OPEN:
                found[r.reference] = found.get(r.reference, ZERO) + r.open_quantity
        return found

    def _free(self, item_id: int) -> list[tuple[Stored[Location], Decimal]]:
        return [
            (self.s.location_by_id(loc), on_hand - self.s.reserved.get((i, loc), ZERO))
            for (i, loc), on_hand in self.s.on_hand.items()
            if i == item_id
        ]

    def free_stock(self, item_id: int, location_id: int | None = None) -> Decimal:
        return sum(
            (
                free
                for loc, free in self._free(item_id)
                if free > 0
                and (
                    loc.id == location_id
                    if location_id is not None
                    else loc.value.kind in (LocationKind.WAREHOUSE, LocationKind.STORE)
                )
            ),
            ZERO,
        )

    def available_elsewhere(self, item_id: int, not_location: int) -> list[tuple[Place, Decimal]]:
        found = [
            (loc, free)
            for loc, free in self._free(item_id)
            if loc.id != not_location
            and loc.value.kind in (LocationKind.WAREHOUSE, LocationKind.STORE)
            and free > 0
        ]
        found.sort(key=lambda x: (-x[1], x[0].value.code))
        return [(self.s.place(loc.value.code), free) for loc, free in found]

    def moved(
        self, reference: str, item_id: int, source_id: int, target_id: int
    ) -> list[tuple[str | None, Decimal]]:
        found: dict[str | None, Decimal] = {}
        for _, _, ref, postings, _ in self.s.operations:
            for p in postings:
                if (ref, p.item_id, p.source.id, p.target.id) == (
                    reference,
                    item_id,
                    source_id,
                    target_id,
                ):
                    found[p.lot] = found.get(p.lot, ZERO) + p.quantity
        return list(found.items())

    def names(self, item_id: int, location_id: int) -> tuple[str, str]:
        return self.s.item_by_id(item_id).value.sku, self.s.location_by_id(location_id).value.code

    def has_moves(self, item_id: int) -> bool:
        return any(p.item_id == item_id for *_, postings, _ in self.s.operations for p in postings)

    def set_may_go_negative(self, location_id: int, value: bool) -> None:
        """The database keeps a copy of the flag on every balance row; here the place carries it."""

    def add_lots(self, lots: Sequence[tuple[int, str, date | None]]) -> None:
        for item_id, code, expires_on in lots:
            self.add_lot(item_id, code, expires_on)

    def posts_in_one_step(self) -> bool:
        return False  # the rules in Python, as on SQLite

    def post_document(
        self, document: OneStepDocument
    ) -> tuple[int | None, list[tuple[int, str | None, Decimal]], Decimal | None] | None:
        return None

    def post_history(self, operations: Sequence[OperationRecord]) -> list[int]:
        _not_covered("bulk history loads")


class FakeSales:
    def __init__(self, state: State, seen: list[Aggregate]) -> None:
        self.s = state
        self.seen = seen

    def place(self, code: str, field: str) -> tuple[Place, bool]:
        if code not in self.s.locations:
            raise NotFound("location", code, field)
        return self.s.place(code), self.s.locations[code].value.is_physical

    def items_and_place(
        self, skus: Sequence[str], location: str | None = None
    ) -> tuple[dict[str, Stored[Item]], tuple[Place, bool] | None]:
        found = {s: hit for s in skus if (hit := self.s.items.get(s) or _by_barcode(self.s, s))}
        place = None
        if found and location is not None and location in self.s.locations:
            place = self.place(location, "location")
        return found, place

    def add(
        self,
        order: SalesOrder,
        refs: Sequence[tuple[int, Place]],
        customer_id: int | None = None,
    ) -> list[int]:
        order.id = self.s.next_id("sales_order")
        if customer_id is not None:
            self.s.order_customers[order.id] = customer_id
        order.ordered_at = order.ordered_at or datetime.now(UTC)
        line_refs = {}
        for line, (item_id, place) in zip(order.lines, refs, strict=True):
            line.id = self.s.next_id("sales_line")
            line_refs[line.line_no] = LineRef(line.id, item_id, place)
        kept = copy.deepcopy(order)
        kept.events.clear()
        self.s.sales[order.id] = (kept, line_refs)
        self.seen.append(order)
        return [line.id or 0 for line in order.lines]

    def get(self, order_id: int, lock: bool = False) -> tuple[SalesOrder, dict[int, LineRef]]:
        if order_id not in self.s.sales:
            raise NotFound("sales order", number("sales", order_id), "order")
        stored, refs = self.s.sales[order_id]
        order = copy.deepcopy(stored)
        self.seen.append(order)
        return order, dict(refs)

    def save(self, order: SalesOrder) -> None:
        _, refs = self.s.sales[order.id or 0]
        kept = copy.deepcopy(order)
        kept.events.clear()
        self.s.sales[order.id or 0] = (kept, refs)

    def save_lines(self, lines: Sequence[SalesLine]) -> None:
        for order, _ in self.s.sales.values():
            for n, line in enumerate(order.lines):
                for changed in lines:
                    if changed.id == line.id:
                        order.lines[n] = copy.deepcopy(changed)

    def order_of_line(self, line_id: int) -> int:
        return next(
            order_id
            for order_id, (order, _) in self.s.sales.items()
            if any(line.id == line_id for line in order.lines)
        )

    def page(
        self,
        status: str | None = None,
        customer: str | None = None,
        limit: int = 50,
        offset: int = 0,
        customer_code: str | None = None,
    ) -> tuple[list[dict[str, Any]], int]:
        rows = [
            {
                "id": order.id,
                "customer": order.customer,
                "customer_code": order.customer_code,
                "status": order.status.value,
                "ordered_at": order.ordered_at,
                "lines": len(order.lines),
                "quantity": sum((ln.quantity for ln in order.lines), ZERO),
                "shipped": sum((ln.shipped for ln in order.lines), ZERO),
            }
            for order, _ in sorted(self.s.sales.values(), key=lambda x: -(x[0].id or 0))
            if (status is None or order.status == status)
            and (customer is None or order.customer == customer)
            and (customer_code is None or order.customer_code == customer_code)
        ]
        return _rows(rows, limit, offset)

    def demand_rows(self, since: datetime | None) -> list[dict[str, Any]]:
        return [
            {
                "item": line.sku,
                "location": line.location,
                "ordered_at": order.ordered_at,
                "qty": (line.short_at_order if line.cancelled else line.ordered_quantity)
                - line.returned,
                "stockout": line.short_at_order > 0,
            }
            for order, _ in self.s.sales.values()
            if order.status is not SalesStatus.DRAFT
            and (since is None or (order.ordered_at is not None and order.ordered_at >= since))
            for line in order.lines
            if not (line.cancelled and line.short_at_order <= 0)
        ] + [
            {
                "item": self.s.item_by_id(p.item_id).value.sku,
                "location": p.source.code,
                "ordered_at": when,
                "qty": p.quantity,
                "stockout": False,
            }
            for op_id, kind, _, postings, when in self.s.operations
            if kind == "shipment"
            and self.s.reasons.get(op_id) == "sale"
            and (since is None or when >= since)
            for p in postings
        ]

    def backordered(self, keys: Sequence[tuple[int, int]]) -> set[tuple[int, int]]:
        return {(i, loc) for i, loc in keys if self.open_lines(i, loc)}

    def open_lines(self, item_id: int, location_id: int) -> list[OpenSalesLine]:
        return [
            OpenSalesLine(
                line.id or 0,
                order.id or 0,
                line.line_no,
                line.open_quantity,
                order.ordered_at or datetime.now(UTC),
                line.requested_date,
                FakeCustomers(self.s).priority_of_order(order.id or 0),
            )
            for order, refs in self.s.sales.values()
            if order.status in (SalesStatus.CONFIRMED, SalesStatus.PARTIALLY_SHIPPED)
            for line in order.lines
            if refs[line.line_no].item_id == item_id
            and refs[line.line_no].place.id == location_id
            and line.open_quantity > 0
            and line.fulfilment is not Fulfilment.DROP_SHIP
        ]


class FakePurchasing:
    def __init__(self, state: State, seen: list[Aggregate]) -> None:
        self.s = state
        self.seen = seen

    def open_draft(self, supplier_id: int, supplier: str) -> PurchaseOrder:
        return self.get(self.lock_draft(supplier_id))[0]

    def lock_draft(self, supplier_id: int) -> int:
        for order_id, (order, _, sid, _) in self.s.purchases.items():
            if (
                sid == supplier_id
                and order.status is PurchaseStatus.DRAFT
                and order.drop_ship_customer is None
            ):
                return order_id
        code = next(s.value.code for s in self.s.suppliers.values() if s.id == supplier_id)
        return self.add(PurchaseOrder(code, ordered_at=datetime.now(UTC)), supplier_id)

    def lock_drafts(self, supplier_ids: Sequence[int]) -> dict[int, int]:
        return {s: self.lock_draft(s) for s in sorted(set(supplier_ids))}

    def draft_lines(
        self, keys: Sequence[tuple[int, int, int]]
    ) -> dict[tuple[int, int, int], tuple[int, int, Decimal, Decimal]]:
        return {k: found for k in keys if (found := self.draft_line(*k)) is not None}

    def next_line_nos(self, order_ids: Sequence[int]) -> dict[int, int]:
        return {order_id: self.next_line_no(order_id) for order_id in order_ids}

    def resize_lines(self, sizes: Sequence[tuple[int, Decimal, date]]) -> None:
        for size in sizes:
            self.resize_line(*size)

    def add_lines(self, lines: Sequence[tuple[int, PurchaseLine, int, Place]]) -> list[int]:
        return [self.add_line(*line) for line in lines]

    def _line(self, line_id: int) -> tuple[PurchaseOrder, PurchaseLine]:
        for order, *_ in self.s.purchases.values():
            for line in order.lines:
                if line.id == line_id:
                    return order, line
        raise NotFound("purchase line", line_id)

    def draft_line(
        self, order_id: int, item_id: int, location_id: int
    ) -> tuple[int, int, Decimal, Decimal] | None:
        order, refs, *_ = self.s.purchases[order_id]
        for line in order.lines:
            ref = refs[line.line_no]
            if (ref.item_id, ref.place.id) == (item_id, location_id):
                pegged = sum(
                    (
                        p.open
                        for p in self.s.pegs.values()
                        if p.supply_kind is SupplyKind.PURCHASE and p.supply_id == line.id
                    ),
                    ZERO,
                )
                return line.id or 0, line.line_no, line.quantity, pegged
        return None

    def next_line_no(self, order_id: int) -> int:
        order = self.s.purchases[order_id][0]
        return max((line.line_no for line in order.lines), default=0) + 1

    def resize_line(self, line_id: int, quantity: Decimal, expected_date: date) -> None:
        _, line = self._line(line_id)
        line.quantity, line.expected_date = quantity, expected_date

    def add(self, order: PurchaseOrder, supplier_id: int, sales_order_id: int | None = None) -> int:
        order.id = self.s.next_id("purchase_order")
        order.ordered_at = order.ordered_at or datetime.now(UTC)
        kept = copy.deepcopy(order)
        kept.events.clear()
        self.s.purchases[order.id] = (kept, {}, supplier_id, sales_order_id)
        self.seen.append(order)
        return order.id

    def add_line(self, order_id: int, line: PurchaseLine, item_id: int, place: Place) -> int:
        line.id = self.s.next_id("purchase_line")
        order, refs, *_ = self.s.purchases[order_id]
        order.lines.append(copy.deepcopy(line))
        refs[line.line_no] = LineRef(line.id, item_id, place)
        return line.id

    def get(self, order_id: int, lock: bool = False) -> tuple[PurchaseOrder, dict[int, LineRef]]:
        if order_id not in self.s.purchases:
            raise NotFound("purchase order", number("purchase", order_id), "order")
        stored, refs, *_ = self.s.purchases[order_id]
        order = copy.deepcopy(stored)
        self.seen.append(order)
        return order, dict(refs)

    def order_of_line(self, line_id: int) -> int:
        return self._line(line_id)[0].id or 0

    def save(self, order: PurchaseOrder) -> None:
        _, refs, supplier_id, sales_id = self.s.purchases[order.id or 0]
        kept = copy.deepcopy(order)
        kept.events.clear()
        self.s.purchases[order.id or 0] = (kept, refs, supplier_id, sales_id)

    def page(
        self,
        status: str | None = None,
        supplier: str | None = None,
        limit: int = 50,
        offset: int = 0,
    ) -> tuple[list[dict[str, Any]], int]:
        rows = [
            {
                "id": order.id,
                "supplier": order.supplier,
                "status": order.status.value,
                "drop_ship_customer": order.drop_ship_customer,
                "change_requested": order.change_requested,
                "ordered_at": order.ordered_at,
                "lines": len(order.lines),
                "quantity": sum((ln.quantity for ln in order.lines), ZERO),
                "received": sum((ln.received for ln in order.lines), ZERO),
                "promised_date": min(
                    (ln.promised_date for ln in order.lines if ln.promised_date), default=None
                ),
            }
            for order, *_ in sorted(self.s.purchases.values(), key=lambda x: -(x[0].id or 0))
            if (status is None or order.status == status)
            and (supplier is None or order.supplier == supplier)
        ]
        return _rows(rows, limit, offset)

    def late(
        self, statuses: Sequence[str], before: date, limit: int = 20
    ) -> tuple[list[dict[str, Any]], int]:
        rows, _ = self.page(None, None, len(self.s.purchases) + 1, 0)
        late = [
            r
            for r in rows
            if r["status"] in statuses and r["promised_date"] and r["promised_date"] < before
        ]
        late.sort(key=lambda r: (r["promised_date"], r["id"]))
        return late[:limit], len(late)

    def add_receipt(
        self,
        purchase_line_id: int,
        received_on: date,
        promised_date: date | None,
        quantity: Decimal,
        rejected: Decimal,
        rejected_to: str | None,
        operation_id: int | None,
    ) -> int:
        self.s.receipts.append(
            Receipt(
                purchase_line_id,
                received_on,
                promised_date,
                quantity,
                rejected,
                rejected_to,
                operation_id,
            )
        )
        return len(self.s.receipts)

    def receipt_rows(
        self, supplier: str | None = None, since: date | None = None
    ) -> list[dict[str, Any]]:
        rows = []
        for r in self.s.receipts:
            order, line = self._line(r.purchase_line_id)
            if supplier is not None and order.supplier != supplier:
                continue
            if since is not None and r.received_on < since:
                continue
            rows.append(
                {
                    "supplier": order.supplier,
                    "item": line.sku,
                    "ordered_at": order.ordered_at,
                    "promised_date": r.promised_date,
                    "received_date": r.received_on,
                    "ordered_qty": line.quantity,
                    "received_qty": r.quantity + r.rejected,
                    "rejected_qty": r.rejected,
                    "line_id": line.id,
                    "requested_date": line.expected_date,
                    "first_confirmed_date": line.first_confirmed_date,
                }
            )
        return rows

    def acknowledgement_rows(
        self, supplier: str | None = None, since: date | None = None
    ) -> list[dict[str, Any]]:
        return [
            {
                "supplier": order.supplier,
                "item": line.sku,
                "ordered_at": order.ordered_at,
                "acknowledged_at": line.acknowledged_at,
                "ordered_qty": line.quantity,
                "confirmed_qty": line.first_confirmed_quantity,
            }
            for order, *_ in self.s.purchases.values()
            if order.status.value not in ("draft", "cancelled")
            and (supplier is None or order.supplier == supplier)
            and (
                since is None
                or (order.ordered_at or datetime.max.replace(tzinfo=UTC)).date()
                >= since - timedelta(days=1)
            )
            for line in order.lines
        ]

    def offers_of(self, item_ids: Sequence[int]) -> dict[int, SupplierOffers]:
        return {item_id: self.offers(item_id) for item_id in item_ids}

    def offers(self, item_id: int) -> SupplierOffers:
        sku = self.s.item_by_id(item_id).value.sku
        records = self.supplier_records()
        found = SupplierOffers([], {}, {}, {})
        for terms in sorted(
            (t for t in self.s.supplier_items.values() if t.sku == sku),
            key=lambda t: (t.priority, t.supplier),
        ):
            supplier = self.s.suppliers[terms.supplier]
            found.offers.append(terms)
            found.active[terms.supplier] = supplier.value.active
            found.records[terms.supplier] = records.get(terms.supplier, SupplierRecord(math.nan, 0))
            found.supplier_ids[terms.supplier] = supplier.id
        return found

    def supplier_records(self) -> dict[str, SupplierRecord]:
        """As the database counts them: on time when it came by the date first confirmed (else
        the date asked for), in full when
        what was accepted covers the line's ordered quantity; no promised date, no judgement."""
        counts: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
        for r in self.s.receipts:
            order, line = self._line(r.purchase_line_id)
            hits, misses, n = counts[order.supplier]
            full = r.quantity >= line.quantity
            promised = line.first_confirmed_date or line.expected_date or r.promised_date
            late = promised is not None and r.received_on > promised
            on_time = promised is not None and not late
            counts[order.supplier] = [
                hits + (full and on_time),
                misses + ((not full) or late),
                n + 1,
            ]
        return {
            code: SupplierRecord(hits / (hits + misses) if hits + misses else math.nan, n)
            for code, (hits, misses, n) in counts.items()
        }


class FakeProduction:
    def __init__(self, state: State, seen: list[Aggregate]) -> None:
        self.s = state
        self.seen = seen

    def add(self, order: ProductionOrder, item_id: int, place: Place) -> int:
        order.id = self.s.next_id("production_order")
        kept = copy.deepcopy(order)
        kept.events.clear()
        self.s.production[order.id] = (kept, LineRef(order.id, item_id, place), {})
        self.seen.append(order)
        return order.id

    def add_component(self, order_id: int, component: Component, item_id: int) -> int:
        component.id = self.s.next_id("component")
        order, _, item_ids = self.s.production[order_id]
        order.components.append(copy.deepcopy(component))
        item_ids[component.sku] = item_id
        return component.id

    def get(
        self, order_id: int, lock: bool = False
    ) -> tuple[ProductionOrder, LineRef, dict[str, int]]:
        if order_id not in self.s.production:
            raise NotFound("production order", number("production", order_id), "order")
        stored, ref, item_ids = self.s.production[order_id]
        order = copy.deepcopy(stored)
        self.seen.append(order)
        return order, ref, dict(item_ids)

    def save(self, order: ProductionOrder) -> None:
        _, ref, item_ids = self.s.production[order.id or 0]
        kept = copy.deepcopy(order)
        kept.events.clear()
        self.s.production[order.id or 0] = (kept, ref, item_ids)

    def page(
        self, status: str | None = None, limit: int = 50, offset: int = 0
    ) -> tuple[list[dict[str, Any]], int]:
        rows = [
            {
                "id": o.id,
                "sku": o.sku,
                "location": o.location,
                "quantity": o.quantity,
                "produced": o.produced,
                "status": o.status.value,
                "due_date": o.due_date,
            }
            for o, *_ in sorted(self.s.production.values(), key=lambda x: -(x[0].id or 0))
            if status is None or o.status == status
        ]
        return _rows(rows, limit, offset)


class FakeTransfers:
    def __init__(self, state: State, seen: list[Aggregate]) -> None:
        self.s = state
        self.seen = seen

    def add(self, order: TransferOrder, item_id: int, source: Place, target: Place) -> int:
        order.id = self.s.next_id("transfer_order")
        kept = copy.deepcopy(order)
        kept.events.clear()
        self.s.transfers[order.id] = (kept, item_id, source, target)
        self.seen.append(order)
        return order.id

    def get(self, order_id: int, lock: bool = False) -> tuple[TransferOrder, int, Place, Place]:
        if order_id not in self.s.transfers:
            raise NotFound("transfer order", number("transfer", order_id), "order")
        stored, item_id, source, target = self.s.transfers[order_id]
        order = copy.deepcopy(stored)
        self.seen.append(order)
        return order, item_id, source, target

    def save(self, order: TransferOrder) -> None:
        _, item_id, source, target = self.s.transfers[order.id or 0]
        kept = copy.deepcopy(order)
        kept.events.clear()
        self.s.transfers[order.id or 0] = (kept, item_id, source, target)

    def page(
        self, status: str | None = None, limit: int = 50, offset: int = 0
    ) -> tuple[list[dict[str, Any]], int]:
        rows = [
            {
                "id": o.id,
                "sku": o.sku,
                "source": o.source,
                "target": o.target,
                "quantity": o.quantity,
                "received": o.received,
                "status": o.status.value,
                "expected_date": o.expected_date,
            }
            for o, *_ in sorted(self.s.transfers.values(), key=lambda x: -(x[0].id or 0))
            if status is None or o.status == status
        ]
        return _rows(rows, limit, offset)


class FakeStocktakes:
    def __init__(self, state: State) -> None:
        self.s = state

    def add(self, stocktake: Stocktake, location_id: int) -> int:
        stocktake.id = self.s.next_id("stocktake")
        self.s.stocktakes[stocktake.id] = (copy.deepcopy(stocktake), location_id)
        return stocktake.id

    def lock_location(self, location_id: int) -> None:
        return None

    def open_at(self, location_id: int) -> list[Stocktake]:
        return [
            copy.deepcopy(st)
            for st, at in self.s.stocktakes.values()
            if at == location_id and st.status is StocktakeStatus.OPEN
        ]

    def book(
        self, location_id: int, category: str | None
    ) -> list[tuple[int, str, str | None, Decimal]]:
        rows = []
        for (item_id, at, lot), quantity in self.s.balances.items():
            item = self.s.item_by_id(item_id).value
            if at == location_id and quantity != 0 and category in (None, item.category):
                rows.append((item_id, item.sku, lot or None, quantity))
        return sorted(rows, key=lambda r: (r[1], r[2] or ""))

    def books_at(
        self, location_id: int, lines: Sequence[tuple[int, str | None, datetime]]
    ) -> list[tuple[Decimal, Decimal]]:
        found = []
        for item_id, lot, at in lines:
            then = FakeValuation(self.s).balance_path(item_id, location_id, lot, at)[0]
            held = sum(
                (
                    s.quantity
                    for s in FakeLedger(self.s).lot_stock(item_id, location_id)
                    if lot is None or s.lot == lot
                ),
                ZERO,
            )
            found.append((then, held))
        return found

    def add_lines(self, stocktake_id: int, lines: Sequence[CountLine]) -> None:
        self.put_lines(stocktake_id, lines)

    def put_lines(self, stocktake_id: int, lines: Sequence[CountLine]) -> None:
        stocktake = self.s.stocktakes[stocktake_id][0]
        for line in lines:
            if line.id is None:
                line.id = self.s.next_id("stocktake_line")
                stocktake.lines.append(copy.deepcopy(line))
                continue
            kept = copy.deepcopy(line)
            stocktake.lines = [kept if x.id == line.id else x for x in stocktake.lines]

    def get(self, stocktake_id: int, lock: bool = False) -> Stocktake:
        if stocktake_id not in self.s.stocktakes:
            raise NotFound("stocktake", f"ST-{stocktake_id:06d}", "stocktake")
        stocktake = copy.deepcopy(self.s.stocktakes[stocktake_id][0])
        stocktake.lines.sort(key=lambda x: (x.sku, x.lot or ""))
        return stocktake

    def save(self, stocktake: Stocktake) -> None:
        location_id = self.s.stocktakes[stocktake.id or 0][1]
        self.s.stocktakes[stocktake.id or 0] = (copy.deepcopy(stocktake), location_id)

    def page(
        self,
        status: str | None = None,
        location: str | None = None,
        limit: int = 50,
        offset: int = 0,
    ) -> tuple[list[Stocktake], int]:
        found = [
            copy.deepcopy(st)
            for st, _ in sorted(self.s.stocktakes.values(), key=lambda x: -(x[0].id or 0))
            if (status is None or st.status == status) and location in (None, st.location)
        ]
        return found[offset : offset + limit], len(found)


class FakeBoms:
    def __init__(self, state: State) -> None:
        self.s = state

    def put(self, item_id: int, lead_time_days: int, lines: Sequence[tuple[int, BomLine]]) -> None:
        self.s.boms[item_id] = (lead_time_days, list(lines))

    def get(self, item_id: int) -> tuple[int, list[tuple[int, BomLine]]] | None:
        return self.s.boms.get(item_id)

    def all(self) -> dict[str, list[BomLine]]:
        return {
            self.s.item_by_id(item_id).value.sku: [line for _, line in lines]
            for item_id, (_, lines) in self.s.boms.items()
        }

    def lead_time(self, item_id: int) -> int | None:
        found = self.s.boms.get(item_id)
        return None if found is None else found[0]


class FakePegs:
    def __init__(self, state: State) -> None:
        self.s = state

    def add(
        self,
        demand_kind: DemandKind,
        demand_id: int,
        supply_kind: SupplyKind,
        supply_id: int,
        reference: str,
        quantity: Decimal,
    ) -> int:
        peg_id = self.s.next_id("peg")
        self.s.pegs[peg_id] = Peg(
            peg_id,
            DemandKind(demand_kind),
            demand_id,
            SupplyKind(supply_kind),
            supply_id,
            reference,
            quantity,
        )
        return peg_id

    def add_many(
        self, pegs: Sequence[tuple[DemandKind, int, SupplyKind, int, str, Decimal]]
    ) -> None:
        for peg in pegs:
            self.add(*peg)

    def of_demand(self, kind: DemandKind, ids: Sequence[int]) -> list[Peg]:
        return [p for p in self.s.pegs.values() if p.demand_kind == kind and p.demand_id in ids]

    def of_supply(self, kind: SupplyKind, ids: Sequence[int]) -> list[Peg]:
        return [p for p in self.s.pegs.values() if p.supply_kind == kind and p.supply_id in ids]

    def save(self, peg: Peg) -> None:
        self.s.pegs[peg.id] = peg

    def supply_dates(self, pegs: Sequence[Peg]) -> dict[tuple[str, int], date | None]:
        found: dict[tuple[str, int], date | None] = {}
        for p in pegs:
            if p.supply_kind is SupplyKind.PURCHASE:
                order = next(
                    o
                    for o, *_ in self.s.purchases.values()
                    if any(ln.id == p.supply_id for ln in o.lines)
                )
                line = next(ln for ln in order.lines if ln.id == p.supply_id)
                found[(p.supply_kind, p.supply_id)] = line.promised_date or order.expected_date
            elif p.supply_kind is SupplyKind.PRODUCTION:
                found[(p.supply_kind, p.supply_id)] = self.s.production[p.supply_id][0].due_date
            else:
                found[(p.supply_kind, p.supply_id)] = self.s.transfers[p.supply_id][0].expected_date
        return found

    def supply_numbers(self, pegs: Sequence[Peg]) -> dict[tuple[str, int], str]:
        found: dict[tuple[str, int], str] = {}
        for p in pegs:
            if p.supply_kind is SupplyKind.PURCHASE:
                order = next(
                    o
                    for o, *_ in self.s.purchases.values()
                    if any(ln.id == p.supply_id for ln in o.lines)
                )
                line = next(ln for ln in order.lines if ln.id == p.supply_id)
                found[(p.supply_kind, p.supply_id)] = f"{order.number}/{line.line_no}"
            else:
                found[(p.supply_kind, p.supply_id)] = number(p.supply_kind, p.supply_id)
        return found


class FakeOutbox:
    def __init__(self, state: State) -> None:
        self.s = state

    def write(self, events: Sequence[DomainEvent], actor: str) -> None:
        at = datetime.now(UTC)
        for e in events:
            if e.event_name is not None:
                self.s.outbox.append(
                    {"event": e.event_name, "subject": e.subject, "payload": e.payload(), "at": at}
                )
            if e.audit_action is not None:
                self.s.audit.append(
                    {
                        "actor": actor,
                        "action": e.audit_action,
                        "subject": e.subject,
                        "changes": e.changes(),
                        "at": at,
                    }
                )

    def events(self, subject: str | None = None) -> list[dict[str, Any]]:
        return [e for e in self.s.outbox if subject is None or e["subject"] == subject]

    def audit_trail(self, subject: str) -> list[dict[str, Any]]:
        return [a for a in self.s.audit if a["subject"] == subject]


class FakeHistory:
    def empty(self) -> bool:
        _not_covered("bulk history loads")

    def catalog_ids(self) -> tuple[dict[str, int], dict[str, int]]:
        _not_covered("bulk history loads")

    def add(
        self,
        sales_orders: Sequence[dict[str, Any]],
        sales_lines: Sequence[dict[str, Any]],
        purchase_orders: Sequence[dict[str, Any]],
        purchase_lines: Sequence[dict[str, Any]],
        receipts: Sequence[dict[str, Any]],
    ) -> None:
        _not_covered("bulk history loads")

    def put_sales(
        self, orders: Sequence[dict[str, Any]], lines: Sequence[dict[str, Any]]
    ) -> tuple[int, int]:
        _not_covered("history imports")

    def put_purchases(
        self,
        orders: Sequence[dict[str, Any]],
        lines: Sequence[dict[str, Any]],
        receipts: Sequence[dict[str, Any]],
    ) -> tuple[int, int]:
        _not_covered("history imports")

    def history_rows(self, kind: str) -> list[dict[str, Any]]:
        _not_covered("history exports")


class FakeReports:
    def __init__(self, state: State) -> None:
        self.s = state

    def stock_levels(
        self,
        today: date,
        sku: str | None = None,
        location: str | None = None,
        physical_only: bool = True,
        limit: int = 100,
        offset: int = 0,
        short_only: bool = False,
    ) -> tuple[list[dict[str, Any]], int]:
        rows: list[dict[str, Any]] = []
        for (item_id, location_id), on_hand in sorted(self.s.on_hand.items()):
            item = self.s.item_by_id(item_id).value
            loc = self.s.location_by_id(location_id).value
            if (sku is not None and item.sku != sku) or (
                location is not None and loc.code != location
            ):
                continue
            if physical_only and loc.kind not in PHYSICAL_KINDS:
                continue
            expired = sum(
                (
                    s.quantity
                    for s in FakeLedger(self.s).lot_stock(item_id, location_id)
                    if s.quantity > 0 and s.expired(today)
                ),
                ZERO,
            )
            reserved = self.s.reserved.get((item_id, location_id), ZERO)
            rows.append(
                {
                    "sku": item.sku,
                    "unit": item.unit,
                    "location": loc.code,
                    "on_hand": on_hand,
                    "reserved": reserved,
                    "expired": expired,
                    "available": on_hand - expired - reserved,
                }
            )
        if short_only:
            rows = [r for r in rows if r["available"] <= ZERO]
        rows.sort(key=lambda r: (r["sku"], r["location"]))
        return _rows(rows, limit, offset)

    def item_figures(
        self, item_skus: Sequence[str], demand_since: datetime
    ) -> dict[str, ItemFigures]:
        return {sku: _figures(self.s, sku, demand_since) for sku in sorted(set(item_skus))}

    def usage_values(self, since: datetime) -> dict[str, float]:
        return {
            sku: float(_demand(self.s, sku, since)) * float(s.value.unit_cost)
            for sku, s in self.s.items.items()
            if s.value.active
        }

    def lot_levels(self, item_id: int, location_id: int | None = None) -> list[dict[str, Any]]:
        _not_covered("lot reports")

    def expiring_lots(
        self, today: date, until: date, location: str | None = None, limit: int = 100
    ) -> list[dict[str, Any]]:
        _not_covered("lot reports")

    def on_hand_as_of(
        self, at: datetime, item_id: int | None = None, location_id: int | None = None
    ) -> list[dict[str, Any]]:
        _not_covered("past stock")

    def lot_moves(self, item_id: int, lot: str) -> list[dict[str, Any]]:
        _not_covered("lot traces")

    def batch_moves(self, reference: str) -> list[dict[str, Any]]:
        _not_covered("lot traces")

    def moves(
        self,
        item_id: int,
        location_id: int | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        limit: int = 100,
        offset: int = 0,
        newest: bool = False,
    ) -> tuple[list[dict[str, Any]], int]:
        _not_covered("move history reports")


class FakeSerials:
    def __init__(self, state: State) -> None:
        self.s = state

    def _at(self, item_id: int, serial: str) -> SerialAt:
        lot, location_id = self.s.serials[(item_id, serial)]
        return SerialAt(serial, lot, self.s.location_by_id(location_id).value.code)

    def where(self, item_id: int, serials: Sequence[str]) -> dict[str, SerialAt]:
        return {s: self._at(item_id, s) for s in serials if (item_id, s) in self.s.serials}

    def move(self, operation_id: int, moves: Sequence[SerialMove]) -> None:
        for m in moves:
            found = self.s.serials.get((m.item_id, m.serial))
            if found is not None and found[1] != m.source.id:
                raise Conflict(f"Serial {m.serial} moved while this operation ran.", "serials")
            self.s.serials[(m.item_id, m.serial)] = (m.lot, m.target.id)
            self.s.serial_moves.append(
                (operation_id, m.item_id, m.serial, m.source.id, m.target.id)
            )

    def at(self, item_id: int, location_id: int, lot: str | None = None) -> list[SerialAt]:
        return [
            self._at(i, s)
            for (i, s), (found_lot, where) in sorted(self.s.serials.items())
            if i == item_id and where == location_id and (lot is None or found_lot == lot)
        ]

    def of_item(
        self, item_id: int, location: str | None, limit: int, offset: int
    ) -> tuple[list[SerialAt], int]:
        rows = [
            self._at(i, s)
            for i, s in sorted(self.s.serials)
            if i == item_id and location in (None, self._at(i, s).location)
        ]
        return rows[offset : offset + limit], len(rows)

    def history(self, item_id: int, serial: str) -> list[dict[str, Any]]:
        _not_covered("serial traces")

    def moved_by(
        self, operation_ids: Sequence[int], item_id: int, lot: str | None = None
    ) -> dict[int, list[str]]:
        _not_covered("lot traces")

    def carried(self, reference: str, item_id: int, source_id: int, target_id: int) -> list[str]:
        _not_covered("serials carried by a transfer order")

    def count_by_place(self) -> dict[tuple[int, int], int]:
        counts: dict[tuple[int, int], int] = defaultdict(int)
        for (item_id, _), (_, location_id) in self.s.serials.items():
            counts[(item_id, location_id)] += 1
        return dict(counts)


class FakePlanning:
    """Forecast and plan runs are not covered: every method says so."""

    def __getattr__(self, name: str) -> Any:
        _not_covered(f"the planning repository ({name})")


class FakeKpis:
    """The KPIs' reads and cost snapshot are not covered: every method says so."""

    def __getattr__(self, name: str) -> Any:
        _not_covered(f"the KPI repository ({name})")


class InMemoryUnitOfWork:
    """A unit of work over `State`; see the module docstring for what it covers."""

    def __init__(self) -> None:
        self.committed = State()
        for code, kind in VIRTUAL_LOCATIONS.items():
            location = Location(code, code.replace("_", " ").capitalize(), kind)
            self.committed.locations[code] = Stored(self.committed.next_id("location"), location)
        self.actor = "system"
        self.visibility = EVERYTHING
        self._state: State | None = None
        self._seen: list[Aggregate] = []
        self._recorded: list[DomainEvent] = []

    @property
    def state(self) -> State:
        if self._state is None:
            raise RuntimeError("Use the unit of work inside `with uow:`.")
        return self._state

    @property
    def catalog(self) -> FakeCatalog:
        return FakeCatalog(self.state)

    @property
    def customers(self) -> FakeCustomers:
        return FakeCustomers(self.state)

    @property
    def ledger(self) -> FakeLedger:
        return FakeLedger(self.state)

    @property
    def sales(self) -> FakeSales:
        return FakeSales(self.state, self._seen)

    @property
    def purchasing(self) -> FakePurchasing:
        return FakePurchasing(self.state, self._seen)

    @property
    def production(self) -> FakeProduction:
        return FakeProduction(self.state, self._seen)

    @property
    def transfers(self) -> FakeTransfers:
        return FakeTransfers(self.state, self._seen)

    @property
    def stocktakes(self) -> FakeStocktakes:
        return FakeStocktakes(self.state)

    @property
    def boms(self) -> FakeBoms:
        return FakeBoms(self.state)

    @property
    def pegs(self) -> FakePegs:
        return FakePegs(self.state)

    @property
    def outbox(self) -> FakeOutbox:
        return FakeOutbox(self.state)

    @property
    def history(self) -> FakeHistory:
        return FakeHistory()

    @property
    def reports(self) -> FakeReports:
        return FakeReports(self.state)

    @property
    def valuation(self) -> FakeValuation:
        return FakeValuation(self.state)

    @property
    def planning(self) -> Any:
        return FakePlanning()

    @property
    def kpis(self) -> Any:
        return FakeKpis()

    @property
    def serials(self) -> FakeSerials:
        return FakeSerials(self.state)

    @property
    def webhooks(self) -> Any:
        _not_covered("webhooks (they run on SQLite and PostgreSQL)")

    @property
    def edi(self) -> Any:
        _not_covered("EDI (it runs on SQLite and PostgreSQL)")

    @property
    def invoices(self) -> Any:
        _not_covered("supplier invoices (they run on SQLite and PostgreSQL)")

    @property
    def supplier_channel(self) -> Any:
        _not_covered("the supplier channel (it runs on SQLite and PostgreSQL)")

    def __enter__(self) -> Self:
        self._state = copy.deepcopy(self.committed)
        self._seen = []
        self._recorded = []
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._state = None
        self.actor = "system"

    def acting(self, actor: str) -> Self:
        self.actor = actor
        return self

    def record(self, event: DomainEvent) -> None:
        self._recorded.append(event)

    def virtual_place(self, code: str) -> Place:
        return self.state.place(code)

    def commit(self) -> None:
        FakeOutbox(self.state).write(collect(self._seen, self._recorded), self.actor)
        self._recorded = []
        self.committed = copy.deepcopy(self.state)

    def rollback(self) -> None:
        self._state = copy.deepcopy(self.committed)

    def batch(self, virtual_last: bool = False) -> Any:
        _not_covered("imports in one transaction (they run on SQLite and PostgreSQL)")

    # Reads of committed state for assertions

    def events(self, subject: str | None = None) -> list[dict[str, Any]]:
        return [e for e in self.committed.outbox if subject is None or e["subject"] == subject]

    def audit(self, subject: str) -> list[dict[str, Any]]:
        return [a for a in self.committed.audit if a["subject"] == subject]


def _conforms(uow: InMemoryUnitOfWork) -> UnitOfWork:
    """mypy checks here that the fake implements every port the services use."""
    return uow


__all__ = ["InMemoryUnitOfWork", "State"]
