"""Stock value, cost flows (cost of goods sold per period), the costing method and units.

Values are replayed from the moves (`domain.costing.replay`), so they are the same whenever
they are asked for, for any past moment, and follow a backdated move by construction.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal

from leanstock.domain.catalog import CostingMethod
from leanstock.domain.costing import (
    HOLDING_KINDS,
    ZERO,
    CostingMethodChanged,
    Flow,
    PeriodFlows,
    Valuation,
    period_flows,
    replay,
)
from leanstock.domain.errors import Forbidden, InvalidInput
from leanstock.domain.history import PeriodCloseMoved, closing_date
from leanstock.domain.quantities import QUANTUM, tidy
from leanstock.domain.units import UnitConversion, UnitDefined
from leanstock.services.paging import page_bounds
from leanstock.services.ports import ItemCosting, Page, UnitOfWork
from leanstock.services.posting import CLOSED_THROUGH, current_day
from leanstock.services.retry import retrying

COSTING_METHOD = "costing_method"


@dataclass(frozen=True)
class ValueLine:
    sku: str
    category: str
    location: str
    method: CostingMethod
    quantity: Decimal
    value: Decimal
    unit_cost: Decimal


@dataclass(frozen=True)
class StockValue:
    """What stock is worth at `as_of` (None: now), per item-location, and in total."""

    as_of: datetime | None
    lines: list[ValueLine]
    total_value: Decimal


@dataclass(frozen=True)
class FlowLine:
    sku: str
    category: str
    location: str
    method: CostingMethod
    opening_quantity: Decimal
    opening_value: Decimal
    flows: dict[str, Decimal]
    cost_of_goods_sold: Decimal
    closing_quantity: Decimal
    closing_value: Decimal


@dataclass(frozen=True)
class CostFlows:
    """Value over a period: opening + inflows − outflows = closing, per item-location."""

    since: datetime | None
    until: datetime | None
    lines: list[FlowLine]
    opening_value: Decimal
    inflow: Decimal
    outflow: Decimal
    cost_of_goods_sold: Decimal
    closing_value: Decimal
    totals: dict[str, Decimal] = field(default_factory=dict)


def _utc(moment: datetime | None) -> datetime | None:
    if moment is None or moment.tzinfo is not None:
        return moment
    return moment.replace(tzinfo=UTC)


def company_method(uow: UnitOfWork) -> CostingMethod:
    return CostingMethod(uow.valuation.setting(COSTING_METHOD) or CostingMethod.FIFO.value)


def _replay(
    uow: UnitOfWork, sku: str | None, category: str | None, until: datetime | None = None
) -> tuple[list[tuple[ItemCosting, CostingMethod]], Valuation]:
    """The items asked for with their methods, and a replay of every item's moves: a product's
    value comes from its components', whichever items they are (`domain.costing.replay`)."""
    if sku is not None:
        sku = uow.catalog.item(sku).value.sku  # the SKU of a scanned barcode
    default = company_method(uow)
    every = uow.valuation.items()
    methods = {i.id: i.costing or default for i in every}
    kinds = {k: kind for k, (_, kind) in uow.valuation.location_kinds().items()}
    valuation = replay(
        uow.valuation.moves(), kinds, methods, {i.id: i.unit_cost for i in every}, until
    )
    asked = [
        (i, methods[i.id])
        for i in every
        if (sku is None or i.sku == sku) and (category is None or i.category == category)
    ]
    return asked, valuation


def _location_filter(uow: UnitOfWork, location: str | None) -> int | None:
    return None if location is None else uow.catalog.location(location).id


def stock_value(
    uow: UnitOfWork,
    *,
    as_of: datetime | None = None,
    sku: str | None = None,
    location: str | None = None,
    category: str | None = None,
) -> StockValue:
    """Quantity and value per item and holding location (warehouses, stores, quarantine, work
    in progress, in transit) at `as_of`, or now; item-locations holding nothing are left out."""
    as_of = _utc(as_of)
    with uow:
        only = _location_filter(uow, location)
        names = uow.valuation.location_kinds()
        lines = []
        asked, valuation = _replay(uow, sku, category, as_of)
        held: dict[int, list[int]] = {}
        for item_id, location_id in valuation.layers:
            held.setdefault(item_id, []).append(location_id)
        for item, method in asked:
            for location_id in sorted(held.get(item.id, []), key=lambda i: names[i][0]):
                if only is not None and location_id != only:
                    continue
                if names[location_id][1] not in HOLDING_KINDS:
                    continue
                quantity = valuation.on_hand(location_id, item.id)
                value = valuation.value(location_id, item.id)
                if quantity == 0 and value == 0:
                    continue
                cost = tidy((value / quantity).quantize(QUANTUM)) if quantity else ZERO
                lines.append(
                    ValueLine(
                        item.sku,
                        item.category,
                        names[location_id][0],
                        method,
                        tidy(quantity),
                        tidy(value),
                        cost,
                    )
                )
    return StockValue(as_of, lines, tidy(sum((x.value for x in lines), ZERO)))


def cost_flows(
    uow: UnitOfWork,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    sku: str | None = None,
    location: str | None = None,
    category: str | None = None,
) -> CostFlows:
    """Per item and holding location: value at the start of the period, what came in and went
    out (by why: received, produced, sold, scrapped, consumed, ...), and value at its end.
    Cost of goods sold is the value shipped to customers in the period."""
    since, until = _utc(since), _utc(until)
    if since is not None and until is not None and since > until:
        raise InvalidInput("since must not be after until.", "since")
    with uow:
        only = _location_filter(uow, location)
        names = uow.valuation.location_kinds()
        lines: list[FlowLine] = []
        parts: list[PeriodFlows] = []
        asked, valuation = _replay(uow, sku, category)
        touched: dict[int, set[int]] = {}
        for e in valuation.events:
            touched.setdefault(e.item_id, set()).add(e.location_id)
        for item, method in asked:
            for location_id in sorted(touched.get(item.id, set()), key=lambda i: names[i][0]):
                if only is not None and location_id != only:
                    continue
                part = period_flows(valuation, location_id, since, until, item.id)
                if not part.flows and part.opening_value == 0 and part.opening_quantity == 0:
                    continue
                parts.append(part)
                lines.append(
                    FlowLine(
                        item.sku,
                        item.category,
                        names[location_id][0],
                        method,
                        tidy(part.opening_quantity),
                        tidy(part.opening_value),
                        {f.value: tidy(v) for f, v in sorted(part.flows.items())},
                        tidy(part.cost_of_goods_sold),
                        tidy(part.closing_quantity),
                        tidy(part.closing_value),
                    )
                )
    totals: dict[str, Decimal] = {}
    for part in parts:
        for flow, value in part.flows.items():
            totals[flow.value] = totals.get(flow.value, ZERO) + value
    return CostFlows(
        since,
        until,
        lines,
        tidy(sum((p.opening_value for p in parts), ZERO)),
        tidy(sum((p.inflow for p in parts), ZERO)),
        tidy(sum((p.outflow for p in parts), ZERO)),
        tidy(-totals.get(Flow.SOLD.value, ZERO)),
        tidy(sum((p.closing_value for p in parts), ZERO)),
        {k: tidy(v) for k, v in sorted(totals.items())},
    )


def get_costing_method(uow: UnitOfWork) -> CostingMethod:
    with uow:
        return company_method(uow)


@retrying
def set_costing_method(
    uow: UnitOfWork, method: CostingMethod, *, actor: str = "system"
) -> CostingMethod:
    """Set the company's default costing method. Values are replayed from the moves, so a new
    method would re-value the past: refused once an item valued by the default has moves
    (give such items their own method instead)."""
    with uow.acting(actor):
        current = CostingMethod(
            uow.valuation.setting(COSTING_METHOD, lock=True) or CostingMethod.FIFO.value
        )
        if method is not current and uow.valuation.default_method_in_use():
            raise InvalidInput(
                f"Items valued by the company's default ({current.value}) have stock moves "
                "already; changing it would re-value the past. Set `costing` on new items "
                "instead.",
                "method",
            )
        uow.valuation.put_setting(COSTING_METHOD, method.value)
        uow.record(CostingMethodChanged(subject="settings:costing_method", method=method.value))
        uow.commit()
    return method


@retrying
def put_unit(
    uow: UnitOfWork, sku: str, unit: str, factor: Decimal, *, actor: str = "system"
) -> UnitConversion:
    """Define (or change) one of an item's units: 1 `unit` = `factor` stock units."""
    with uow.acting(actor):
        item = uow.catalog.item(sku)
        sku = item.value.sku  # the SKU of a scanned barcode
        conversion = UnitConversion(sku, unit, factor)
        if conversion.unit == item.value.unit:
            raise InvalidInput(
                f"{unit!r} is the stock unit of {sku}; it converts to itself.", "unit"
            )
        uow.catalog.put_unit(item.id, conversion.unit, conversion.factor)
        uow.record(
            UnitDefined(subject=f"item:{sku}", unit=conversion.unit, factor=conversion.factor)
        )
        uow.commit()
    return conversion


def units(uow: UnitOfWork, sku: str) -> list[UnitConversion]:
    with uow:
        item = uow.catalog.item(sku)
        return [
            UnitConversion(item.value.sku, unit, factor)
            for unit, factor in sorted(uow.catalog.unit_factors(item.id).items())
        ]


def closed_through(uow: UnitOfWork) -> date | None:
    """The last day of the closed period: no move may be dated on or before it."""
    with uow:
        found = uow.valuation.setting(CLOSED_THROUGH)
    return None if found is None else date.fromisoformat(found)


@retrying
def close_period(
    uow: UnitOfWork,
    through: date,
    *,
    may_reopen: bool = False,
    actor: str = "system",
    today: date | None = None,
) -> date:
    """Close the books through `through` (a past day): from then on no move may be dated on or
    before it. Moving the date back reopens days, which only an owner may (`may_reopen`)."""
    through = closing_date(through, current_day(today))
    with uow.acting(actor):
        found = uow.valuation.setting(CLOSED_THROUGH, lock=True)
        previous = None if found is None else date.fromisoformat(found)
        if previous is not None and through < previous and not may_reopen:
            raise Forbidden(
                f"The books are closed through {previous}; moving that back to {through} "
                "reopens closed days, which only an owner may do."
            )
        uow.valuation.put_setting(CLOSED_THROUGH, through.isoformat())
        uow.record(
            PeriodCloseMoved(
                subject="settings:closed_through",
                through=through.isoformat(),
                previous=None if previous is None else previous.isoformat(),
            )
        )
        uow.commit()
    return through


@dataclass(frozen=True)
class BackdatedMove:
    """A move recorded well after the moment it says it happened, and what it re-valued: the
    value of the item's outflows after that moment before it was posted, and after."""

    operation_id: int
    kind: str
    reference: str | None
    sku: str
    source: str
    target: str
    quantity: Decimal
    lot: str | None
    occurred_at: datetime
    recorded_at: datetime
    later_cost_before: Decimal | None
    later_cost_after: Decimal | None


def backdated_moves(
    uow: UnitOfWork,
    sku: str | None = None,
    location: str | None = None,
    limit: int = 100,
    offset: int = 0,
) -> Page[BackdatedMove]:
    """Backdated moves, newest recorded first (docs/costing.md, "Backdated moves")."""
    limit, offset = page_bounds(limit, offset)
    with uow:
        item_id = None if sku is None else uow.catalog.item(sku).id
        location_id = None if location is None else uow.catalog.location(location).id
        rows, total = uow.valuation.backdated(item_id, location_id, limit, offset)
    return Page([BackdatedMove(**r) for r in rows], total, limit, offset)
