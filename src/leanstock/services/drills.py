"""What-if and disruption drills on the business's own history (`leanstock what-if`).

The drill engine (`planning/whatif.py`) replays a demand history under the planner's policy
twice, as it was and under the scenarios, and compares fill rate, stock value, orders and
stock-outs. This service feeds it from the database: each item's weekly demand over all
locations (the last `MAX_WEEKS` full weeks), the supplier the sourcing rule chooses for it
(`domain/sourcing.choose_supplier`, the same rule the planner and the order pull use) with
that offer's lead time, MOQ and pack size, the next offer as its backup, its category, and a
service target by ABC class (the planner's `SERVICE_BY_CLASS`). Made items have no supplier:
their lead time is their bill of materials'.

Scenarios arrive in days and are converted to weeks here: a lead time of d days is d // 7
weeks of the simulator (an order placed at the end of a week that arrives within 6 days is
there for the next week).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import numpy as np
import polars as pl

from leanstock.domain.catalog import SupplierItem
from leanstock.domain.errors import InvalidInput
from leanstock.domain.sourcing import choose_supplier
from leanstock.planning.policy import SERVICE_BY_CLASS
from leanstock.planning.segments import abc_classes
from leanstock.planning.simulate import Items
from leanstock.planning.whatif import (
    DemandChange,
    DrillCatalog,
    EventAdded,
    LeadTimeSlip,
    OtifDrop,
    Scenario,
    ServiceChange,
    SupplierStop,
    run_drill,
)
from leanstock.services import orders
from leanstock.services.ports import UnitOfWork
from leanstock.services.supplier_standard import company_standard

MAX_WEEKS = 104
MIN_WEEKS = 8
HOLDING_RATE_PER_WEEK = 0.25 / 52


def weeks(days: int) -> int:
    """Whole weeks of the simulator for a lead time or delay of `days` (module docs)."""
    return max(0, days) // 7


@dataclass(frozen=True)
class Slip:
    supplier: str
    days: int
    known: bool = False


@dataclass(frozen=True)
class Otif:
    supplier: str
    on_time: float
    late_by_days: int | None = None


@dataclass(frozen=True)
class Stop:
    supplier: str


@dataclass(frozen=True)
class Demand:
    change: float
    category: str | None = None


@dataclass(frozen=True)
class Event:
    starts_in_weeks: int
    weeks: int
    lift: float
    category: str | None = None
    known: bool = True


@dataclass(frozen=True)
class Service:
    service_level: float
    category: str | None = None


WhatIf = Slip | Otif | Stop | Demand | Event | Service


@dataclass(frozen=True)
class DrillReport:
    weeks: int
    first_week: date
    measured_from: date
    overall: dict[str, Any]
    by_item: list[dict[str, Any]]
    scenarios: list[str]
    seconds: float


def describe(what: WhatIf) -> str:
    """A scenario in words, for the report."""
    match what:
        case Slip(supplier, days, known):
            return f"{supplier}'s deliveries take {days} days longer" + (
                " (the planner knows)" if known else " (unannounced)"
            )
        case Otif(supplier, on_time, late):
            later = f" {late} days" if late is not None else ""
            return f"only {on_time:.0%} of {supplier}'s deliveries on time, the rest{later} late"
        case Stop(supplier):
            return (
                f"{supplier} stops delivering (the backup supplier takes over where there is one)"
            )
        case Demand(change, category):
            return f"demand {'for ' + category if category else 'for everything'} {change:+.0%}"
        case Event(start, length, lift, category, known):
            return (
                f"an event {start} weeks into the replay lifts demand"
                f"{' for ' + category if category else ''} ×{lift} for {length} weeks"
                + (" (on the calendar)" if known else " (unforeseen)")
            )
        case Service(level, category):
            return f"service target {level:.0%}" + (f" for {category}" if category else "")
    raise AssertionError(what)


def _scenario(what: WhatIf, categories: set[str]) -> Scenario:
    category = getattr(what, "category", None)
    if category is not None and category not in categories:
        names = ", ".join(sorted(categories)) or "none"
        raise InvalidInput(
            f"No item with demand is in category {category!r}; the categories are: {names}.",
            "category",
        )
    match what:
        case Slip(supplier, days, known):
            if days < 0:
                raise InvalidInput("A lead-time slip is a number of days ≥ 0.", "days")
            return LeadTimeSlip(supplier, weeks(days), known)
        case Otif(supplier, on_time, late):
            if not 0 <= on_time <= 1:
                raise InvalidInput(
                    f"On-time share {on_time} must be between 0 and 1 (e.g. 0.7).", "on_time"
                )
            return OtifDrop(supplier, on_time, None if late is None else max(1, weeks(late)))
        case Stop(supplier):
            return SupplierStop(supplier)
        case Demand(change, category):
            if change <= -1:
                raise InvalidInput(
                    f"A demand change of {change:+.0%} leaves no demand: give more than −100%.",
                    "change",
                )
            return DemandChange(category, change) if category else DemandChange("*", change)
        case Event(start, length, lift, category, known):
            if start < 0 or length <= 0 or lift < 0:
                raise InvalidInput(
                    "An event starts in 0 or more weeks, lasts at least one week and lifts "
                    "demand by a factor ≥ 0 (1.5 = 50% more).",
                    "event",
                )
            return EventAdded(start, length, lift, category, known)
        case Service(level, category):
            if not 0 < level < 1:
                raise InvalidInput(
                    f"A service target {level} must be between 0 and 1 (e.g. 0.95).",
                    "service_level",
                )
            return ServiceChange(level, category)
    raise AssertionError(what)


def what_if(
    uow: UnitOfWork,
    scenarios: Sequence[WhatIf],
    today: date,
    *,
    engine: str = "local",
    scheduler: str | None = None,
    top: int = 20,
) -> DrillReport:
    """Run one drill of `scenarios` (combined) on the history up to the last full week,
    locally or (`engine="dask"`) over a Dask cluster (`scheduler`, else a local one)."""
    if engine not in ("local", "dask"):
        raise InvalidInput(f"Unknown engine {engine!r}: use local or dask.", "engine")
    if not scenarios:
        raise InvalidInput(
            "Name at least one scenario: a supplier slip, an OTIF drop, a supplier stop, a "
            "demand change, an event or a service target.",
            "scenarios",
        )
    demand, catalog, first, known_suppliers = _inputs(uow, today)
    categories = set(catalog.category.tolist())
    planned: list[Scenario] = []
    for what in scenarios:
        scenario = _scenario(what, categories)
        if isinstance(scenario, DemandChange) and scenario.category == "*":
            planned.extend(DemandChange(c, scenario.change) for c in sorted(categories))
        else:
            planned.append(scenario)
    chosen = set(catalog.supplier.tolist())
    for what in scenarios:
        supplier = getattr(what, "supplier", None)
        if supplier is None or supplier in chosen:
            continue
        if supplier not in known_suppliers:
            raise InvalidInput(
                f"No supplier {supplier!r}; `leanstock suppliers` lists them.", "supplier"
            )
        raise InvalidInput(
            f"No item with sales history is bought from {supplier}: a drill replays sales "
            "demand, and its items either have not sold or are ingredients used in "
            "production (not replayed yet), or the sourcing rule buys them elsewhere.",
            "supplier",
        )
    try:
        result = run_drill(demand, catalog, planned, engine=engine, scheduler=scheduler)
    except ValueError as error:
        raise InvalidInput(f"The drill cannot run: {error}.", "scenarios") from error
    periods = demand.shape[1]
    warmup = periods // 2
    worst = result.by_item.sort(
        ["fill_rate_change", "stock_value_change"], descending=[False, True], nulls_last=True
    ).head(top)
    return DrillReport(
        weeks=periods,
        first_week=first,
        measured_from=first + timedelta(weeks=warmup),
        overall=result.overall,
        by_item=[_row(r) for r in worst.iter_rows(named=True)],
        scenarios=[describe(s) for s in scenarios],
        seconds=round(result.seconds, 3),
    )


def _row(row: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in row.items():
        if isinstance(value, float):
            out[key] = None if not math.isfinite(value) else round(value, 4)
        elif isinstance(value, np.generic):
            out[key] = value.item()
        else:
            out[key] = value
    return out


def _inputs(uow: UnitOfWork, today: date) -> tuple[np.ndarray, DrillCatalog, date, set[str]]:
    history = orders.demand_history(uow, "W")
    this_week = today - timedelta(days=today.weekday())
    weekly = (
        history.with_columns(pl.col("ds").cast(pl.Date))
        .filter(pl.col("ds") < this_week)
        .group_by("item", "ds")
        .agg(pl.col("qty").sum())
    )
    if weekly.is_empty():
        raise InvalidInput(
            f"A drill replays the sales history, and there is none before this week: record "
            f"at least {MIN_WEEKS} weeks of sales orders first.",
            "history",
        )
    oldest: date = weekly["ds"].min()  # type: ignore[assignment]
    first = max(oldest, this_week - timedelta(weeks=MAX_WEEKS))
    periods = (this_week - first).days // 7
    if periods < MIN_WEEKS:
        raise InvalidInput(
            f"A drill needs at least {MIN_WEEKS} full weeks of sales history; there are {periods}.",
            "history",
        )
    with uow:
        items = {i.sku: i for i in uow.catalog.items(limit=10_000_000).items}
        suppliers = uow.catalog.suppliers(limit=10_000_000).items
        offers = uow.catalog.supplier_items(limit=10_000_000).items
        records = uow.purchasing.supplier_records()
        standard = company_standard(uow)
        make_days = uow.planning.production_lead_times()
    skus = sorted(set(weekly["item"].to_list()) & set(items))
    if not skus:
        raise InvalidInput("No item of the catalog has sales history to replay.", "history")
    row = {sku: i for i, sku in enumerate(skus)}
    matrix = np.zeros((len(skus), periods))
    for sku, ds, qty in weekly.filter(pl.col("ds") >= first).iter_rows():
        if sku in row:
            matrix[row[sku], (ds - first).days // 7] += qty
    active = {s.code: s.active for s in suppliers}
    by_item: dict[str, list[SupplierItem]] = {}
    for offer in offers:
        by_item.setdefault(offer.sku, []).append(offer)
    n = len(skus)
    lead = np.zeros(n, dtype=np.int64)
    cost, moq, pack = np.zeros(n), np.zeros(n), np.ones(n)
    supplier = np.array([""] * n, dtype=object)
    backup_lead = np.full(n, -1, dtype=np.int64)
    backup_cost = np.full(n, np.nan)
    for i, sku in enumerate(skus):
        item = items[sku]
        cost[i] = float(item.unit_cost)
        per_week = float(matrix[i].mean())
        chosen = choose_supplier(
            by_item.get(sku, []), active, records, standard, demand_per_day=per_week / 7
        )
        if chosen is None:
            lead[i] = weeks(make_days.get(sku, 0))
            continue
        offer = chosen.offer
        supplier[i] = offer.supplier
        lead[i] = weeks(offer.lead_time_days)
        cost[i] = float(offer.price) or cost[i]
        moq[i], pack[i] = float(offer.moq), float(offer.pack_size)
        others = [
            o for o in by_item[sku] if o.supplier != offer.supplier and active.get(o.supplier)
        ]
        if others:
            backup = min(others, key=lambda o: o.priority)
            backup_lead[i] = weeks(backup.lead_time_days)
            backup_cost[i] = float(backup.price)
    value = pl.DataFrame({"item": skus, "value": matrix.sum(axis=1) * cost})
    classes = dict(abc_classes(value).select("item", "abc_class").iter_rows())
    catalog = DrillCatalog(
        item_ids=skus,
        items=Items(
            lead_time=lead,
            unit_cost=cost,
            moq=moq,
            pack_size=pack,
            order_cost=np.zeros(n),
            holding_rate=np.full(n, HOLDING_RATE_PER_WEEK),
        ),
        supplier=supplier.astype(str),
        category=np.array([items[s].category for s in skus]).astype(str),
        service_level=np.array([SERVICE_BY_CLASS[classes[s]] for s in skus]),
        backup_lead_time=backup_lead,
        backup_unit_cost=backup_cost,
    )
    return matrix, catalog, first, set(active)
