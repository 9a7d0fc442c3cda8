"""Inventory KPIs, for the window asked for and month by month, per item, category, location
or for the company.

- **stock value**: what stock at the business's own locations is worth at the end of the
  period (now, for the window and the current month), at cost (`domain.costing`);
- **money tied up**: the average value held over the period, time-weighted, goods in transit
  between locations included;
- **carrying cost**: money tied up × the yearly holding rate × the period's days / 365. The
  company's rate is the setting `holding_rate` (default 25% a year); an item's own rate, where
  set, replaces it (`set_holding_rate`);
- **turnover** (a year's rate): cost of goods sold ÷ money tied up × 365 / days; **days of
  supply**: stock value ÷ cost of goods sold per day;
- **fill rate**: the share of the quantity customers asked for that stock could serve when they
  asked (sales lines as confirmed, counter sales served in full); **cycle service**: the share
  of demand lines served in full then;
- **stock-out days**: item-location days with a line stock could not fully serve;
- **scrap cost** by reason (spoilage, damage, expiry, quality, other), at cost;
- **late deliveries**: supplier deliveries received after the date first confirmed (else the
  date asked for), as the supplier scorecards judge them;
- **forecast accuracy**: every stored forecast of a period that has ended, against what was
  then asked for: WAPE (Σ|forecast − actual| ÷ Σ actual) and bias (Σ(forecast − actual) ÷
  Σ actual).

Values come from replaying the moves through the costing rules (`domain.costing.replay`); the
replay's monthly results are kept in `kpi_months` and brought up to date with the moves
recorded since, before each report (`services/kpi_snapshot.py`).
"""

from __future__ import annotations

import bisect
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from functools import cache
from typing import Any

from leanstock.domain.catalog import PHYSICAL_KINDS, LocationKind
from leanstock.domain.errors import InvalidInput
from leanstock.domain.events import Changed
from leanstock.domain.quantities import tidy
from leanstock.services.kpi_snapshot import at as _at
from leanstock.services.kpi_snapshot import average, refresh_snapshot
from leanstock.services.ports import UnitOfWork
from leanstock.services.retry import retrying

ZERO = Decimal(0)
CENT = Decimal("0.01")
GROUPS = ("company", "category", "location", "item")
MAX_MONTHS = 36
HOLDING_RATE = "holding_rate"
DEFAULT_HOLDING_RATE = Decimal("0.25")
WINDOW = "window"


@dataclass
class Figures:
    """One group's KPIs over one period (a month `YYYY-MM`, or `window`: all months asked)."""

    group: str
    period: str
    days: int = 0
    stock_value: Decimal = ZERO
    money_tied_up: Decimal = ZERO
    carrying_cost: Decimal = ZERO
    cost_of_goods_sold: Decimal = ZERO
    turnover: Decimal | None = None
    days_of_supply: Decimal | None = None
    demand: Decimal = ZERO
    filled: Decimal = ZERO
    fill_rate: Decimal | None = None
    lines: int = 0
    lines_in_full: int = 0
    cycle_service: Decimal | None = None
    stockout_days: int = 0
    scrap_cost: Decimal = ZERO
    scrap_by_reason: dict[str, Decimal] = field(default_factory=dict)
    deliveries: int = 0
    late_deliveries: int = 0
    late_share: Decimal | None = None
    forecasts: int = 0
    forecast_total: Decimal = ZERO
    actual_total: Decimal = ZERO
    forecast_error: Decimal = ZERO
    wape: Decimal | None = None
    bias: Decimal | None = None


@dataclass(frozen=True)
class KpiReport:
    group_by: str
    months: int
    since: date
    until: date
    holding_rate: Decimal
    snapshot_at: str
    window: list[Figures]
    history: list[Figures]
    total: int


@cache
def _month(day: date) -> date:
    return day.replace(day=1)


@cache
def _next_month(month: date) -> date:
    return (month.replace(day=28) + timedelta(days=4)).replace(day=1)


def _ratio(part: Decimal, whole: Decimal, places: str = "0.0001") -> Decimal | None:
    return (part / whole).quantize(Decimal(places)) if whole else None


@cache
def _label(month: date) -> str:
    return f"{month.year:04d}-{month.month:02d}"


# Holding rates


def _rate(text: str) -> Decimal:
    try:
        rate = Decimal(text.strip().rstrip("%")) / (100 if text.strip().endswith("%") else 1)
    except (ArithmeticError, ValueError):
        raise InvalidInput(
            f"The holding rate {text!r} is not a number: give a yearly share like 0.25 or 25%.",
            "rate",
        ) from None
    if not rate.is_finite() or not ZERO <= rate <= 5:
        raise InvalidInput(
            f"The holding rate {text!r} is out of range: give a yearly share from 0 to 5 "
            "(0.25 is 25% a year).",
            "rate",
        )
    return rate


def holding_rates(uow: UnitOfWork) -> tuple[Decimal, dict[int, Decimal]]:
    """The company's yearly holding rate and each item's own, where set (inside a uow)."""
    found = uow.kpis.settings(HOLDING_RATE)
    company = Decimal(found.get(HOLDING_RATE, str(DEFAULT_HOLDING_RATE)))
    items = {
        int(k.split(":", 1)[1]): Decimal(v)
        for k, v in found.items()
        if k.startswith(HOLDING_RATE + ":")
    }
    return company, items


@retrying
def set_holding_rate(
    uow: UnitOfWork, rate: str, sku: str | None = None, *, actor: str = "system"
) -> Decimal | None:
    """Set the company's yearly holding rate, or one item's (`sku`); an item's `rate` of
    `company` removes its own, so the company's applies again (answers None)."""
    with uow.acting(actor):
        if sku is None:
            value: Decimal | None = _rate(rate)
            uow.valuation.put_setting(HOLDING_RATE, str(value))
            subject = f"settings:{HOLDING_RATE}"
        else:
            item = uow.catalog.item(sku)
            key = f"{HOLDING_RATE}:{item.id}"
            subject = f"item:{sku}"
            if rate.strip().lower() == "company":
                value = None
                uow.kpis.delete_setting(key)
            else:
                value = _rate(rate)
                uow.valuation.put_setting(key, str(value))
        uow.record(
            Changed(
                subject=subject,
                verb="set_holding_rate",
                values={"rate": None if value is None else str(value), "sku": sku},
            )
        )
        uow.commit()
    return value


# The report


def _check(group_by: str, months: int) -> None:
    if group_by not in GROUPS:
        raise InvalidInput(
            f"Unknown grouping {group_by!r}: use one of {', '.join(GROUPS)}.", "group_by"
        )
    if not 1 <= months <= MAX_MONTHS:
        raise InvalidInput(f"months must be from 1 to {MAX_MONTHS} (got {months}).", "months")


def kpis(
    uow: UnitOfWork,
    *,
    group_by: str = "company",
    months: int = 12,
    sku: str | None = None,
    category: str | None = None,
    location: str | None = None,
    limit: int = 100,
    offset: int = 0,
    now: datetime | None = None,
) -> KpiReport:
    """The KPIs of the last `months` months (the current one to date), for the window and
    month by month, per group; groups with the largest money tied up first."""
    _check(group_by, months)
    now = now or datetime.now(UTC)
    today = now.date()
    refresh_snapshot(uow, now)
    first = _month(today)
    for _ in range(months - 1):
        first = _month(first - timedelta(days=1))
    labels: list[date] = []
    m = first
    while m <= today:
        labels.append(m)
        m = _next_month(m)
    with uow:
        locations = {int(r["id"]): r for r in uow.kpis.locations()}
        if sku is not None:
            sku = uow.catalog.item(sku).value.sku  # the SKU of a scanned barcode
        if location is not None:
            uow.catalog.location(location)
        forecasts = uow.kpis.forecasts(first, today)
        # Every item, only where needed: a category to check, forecasts to group in Python.
        every = category is not None or bool(forecasts)
        item_rows = {int(r["id"]): r for r in uow.kpis.items()} if every else {}
        if category is not None and not any(r["category"] == category for r in item_rows.values()):
            raise InvalidInput(f"No item is in category {category!r}.", "category")
        company_rate, item_rates = holding_rates(uow)
        chosen = {"sku": sku, "category": category, "location": location}
        costs = uow.kpis.month_sums(first, group_by, own_rates=item_rates, **chosen)
        demand = uow.kpis.demand_sums(_at(first), group_by, **chosen)
        deliveries = uow.kpis.delivery_sums(first, group_by, **chosen)
        daily = uow.kpis.demand_days(_at(first)) if forecasts else []

    def keep(item_id: int, location_id: int) -> bool:
        item = item_rows.get(item_id)
        return (
            item is not None
            and (sku is None or item["sku"] == sku)
            and (category is None or item["category"] == category)
            and (location is None or locations[location_id]["code"] == location)
        )

    def group_of(item_id: int, location_id: int) -> str:
        if group_by == "item":
            return str(item_rows[item_id]["sku"])
        if group_by == "category":
            return str(item_rows[item_id]["category"])
        if group_by == "location":
            return str(locations[location_id]["code"])
        return "company"

    figures: dict[tuple[str, str], Figures] = {}

    def of(group: str, period: str) -> Figures:
        found = figures.get((group, period))
        if found is None:
            found = figures[(group, period)] = Figures(group, period)
        return found

    def both(item_id: int, location_id: int, day: date) -> Iterable[Figures]:
        group = group_of(item_id, location_id)
        return of(group, _label(_month(day))), of(group, WINDOW)

    last_label = _label(labels[-1])
    # The snapshot's rows, demand and deliveries come summed per group and month (the
    # repository's `*_sums`; tests/integration/test_kpi_sums.py holds them to the same
    # figures as each row alone); forecasts are matched to demand here, per item-location.
    kinds = {k: LocationKind(r["kind"]) for k, r in locations.items()}
    _add_costs(of, costs, labels, now, kinds, company_rate, item_rates)

    for group, month, asked, served, lines, in_full, short_days in demand:
        for f in (of(str(group), _label(month)), of(str(group), WINDOW)):
            f.demand += asked
            f.filled += served
            f.lines += lines
            f.lines_in_full += in_full
            f.stockout_days += short_days

    for group, month, delivered, late in deliveries:
        for f in (of(str(group), _label(month)), of(str(group), WINDOW)):
            f.deliveries += delivered
            f.late_deliveries += late

    by_day: dict[tuple[int, int], dict[date, Decimal]] = defaultdict(dict)
    for item_id, location_id, day, asked in daily:
        by_day[(item_id, location_id)][day] = asked
    cumulative: dict[tuple[int, int], tuple[list[date], list[Decimal]]] = {}
    for key, days_map in by_day.items():
        ordered = sorted(days_map)
        running, sums = ZERO, []
        for d in ordered:
            running += days_map[d]
            sums.append(running)
        cumulative[key] = (ordered, sums)

    def actual(key: tuple[int, int], start: date, end: date) -> Decimal:
        found = cumulative.get(key)
        if found is None:
            return ZERO
        days_list, sums = found
        lo = bisect.bisect_left(days_list, start)
        hi = bisect.bisect_left(days_list, end)
        return (sums[hi - 1] if hi else ZERO) - (sums[lo - 1] if lo else ZERO)

    for _, item_id, location_id, freq, ds, forecast in forecasts:
        end = {"D": ds + timedelta(days=1), "W": ds + timedelta(days=7)}.get(freq, _next_month(ds))
        if end > today or not keep(item_id, location_id):
            continue
        sold = actual((item_id, location_id), ds, end)
        predicted = Decimal(repr(round(forecast, 6)))
        for f in both(item_id, location_id, ds):
            f.forecasts += 1
            f.forecast_total += predicted
            f.actual_total += sold
            f.forecast_error += abs(predicted - sold)

    window_days = (today + timedelta(days=1) - first).days
    for f in figures.values():
        if f.period == WINDOW:
            f.days = window_days
            f.money_tied_up = f.money_tied_up / window_days
        else:
            month = date.fromisoformat(f.period + "-01")
            end = today + timedelta(days=1) if f.period == last_label else _next_month(month)
            f.days = (end - month).days
        _finish(f)
    groups = sorted(
        {g for g, p in figures if p == WINDOW},
        key=lambda g: (-figures[(g, WINDOW)].money_tied_up, g),
    )
    page = groups[offset : offset + limit]
    history = [
        figures[(g, _label(m))]
        if (g, _label(m)) in figures
        else _finish(replace(Figures(g, _label(m)), days=0))
        for g in page
        for m in labels
    ]
    return KpiReport(
        group_by=group_by,
        months=months,
        since=first,
        until=today,
        holding_rate=company_rate,
        snapshot_at=now.isoformat(timespec="seconds"),
        window=[figures[(g, WINDOW)] for g in page],
        history=history,
        total=len(groups),
    )


def _add_costs(
    of: Callable[[str, str], Figures],
    sums: Iterable[dict[str, Any]],
    labels: list[date],
    now: datetime,
    kinds: dict[int, LocationKind],
    company_rate: Decimal,
    item_rates: dict[int, Decimal],
) -> None:
    """Add the snapshot's rows to their group's month and window: money tied up, carrying
    cost, cost of goods sold, stock value and scrap. Each of `sums` is one snapshot row or the
    sum of rows of one group, month, location, moment seen to (`through`) and rate
    (`KpiRepo.month_sums`), with the scrap of each (`scrap`): every figure here is linear in
    a row's closing value, value-days and cost of goods sold for those, so a sum gives what
    its rows would one by one."""
    today, current = now.date(), labels[-1]
    for r in sums:
        group, month = str(r["group"]), r["month"]
        days = ((today + timedelta(days=1)) if month == current else _next_month(month)) - month
        rate = company_rate if r["rate_item"] is None else item_rates[r["rate_item"]]
        held = average(r, now if month == current else _at(_next_month(month)))
        carrying = held * rate * days.days / 365
        physical = kinds[r["location_id"]] in PHYSICAL_KINDS
        for f in (of(group, _label(month)), of(group, WINDOW)):
            f.money_tied_up += held * (days.days if f.period == WINDOW else 1)
            f.carrying_cost += carrying
            f.cost_of_goods_sold += r["sold_value"]
            if physical and (f.period != WINDOW or month == current):
                f.stock_value += r["closing_value"]
            for scrapped in r["scrap"]:
                for reason, value in scrapped.items():
                    f.scrap_by_reason[reason] = f.scrap_by_reason.get(reason, ZERO) + Decimal(value)
                    f.scrap_cost += Decimal(value)


def _finish(f: Figures) -> Figures:
    f.money_tied_up = f.money_tied_up.quantize(CENT)
    f.stock_value = f.stock_value.quantize(CENT)
    f.carrying_cost = f.carrying_cost.quantize(CENT)
    f.cost_of_goods_sold = f.cost_of_goods_sold.quantize(CENT)
    f.scrap_cost = f.scrap_cost.quantize(CENT)
    f.scrap_by_reason = {k: v.quantize(CENT) for k, v in sorted(f.scrap_by_reason.items())}
    if f.days and f.money_tied_up:
        f.turnover = (f.cost_of_goods_sold / f.money_tied_up * 365 / f.days).quantize(
            Decimal("0.01")
        )
    if f.days and f.cost_of_goods_sold:
        f.days_of_supply = (f.stock_value / (f.cost_of_goods_sold / f.days)).quantize(
            Decimal("0.1")
        )
    f.demand, f.filled = tidy(f.demand), tidy(f.filled)
    f.fill_rate = _ratio(f.filled, f.demand)
    f.cycle_service = _ratio(Decimal(f.lines_in_full), Decimal(f.lines))
    f.late_share = _ratio(Decimal(f.late_deliveries), Decimal(f.deliveries))
    f.forecast_total = f.forecast_total.quantize(Decimal("0.001"))
    f.actual_total = tidy(f.actual_total)
    f.forecast_error = f.forecast_error.quantize(Decimal("0.001"))
    f.wape = _ratio(f.forecast_error, f.actual_total)
    f.bias = _ratio(f.forecast_total - f.actual_total, f.actual_total) if f.actual_total else None
    return f
