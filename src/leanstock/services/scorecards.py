"""Supplier scorecards: how each supplier really delivers, from the records.

Per supplier (and per supplier-item), over a window of receipt dates and month by month:

- **on time** against the date the supplier *first* confirmed (`first_confirmed_date`, kept
  apart from later promises: a new acknowledgement or a ship notice moves the promise, not
  the date it is judged by; a line never acknowledged is judged by the date we asked for),
  and against the date we asked for (`requested_date`);
- **in full**: the delivery's accepted quantity covers the line's ordered quantity;
- **OTIF**: on time (first confirmed) and in full. These are the sourcing rule's own counts
  (`domain/sourcing.py`, `adapters/db/purchasing._delivery_records`): the supplier the
  scorecard flags is the one the planner and the order pull pass over for a backup;
- **lead time** from order to receipt: mean, spread (sample standard deviation) and trend
  (least-squares slope of the monthly means, days per month; from three months on);
- **acknowledgement speed** (hours from release to the first acknowledgement, median) and the
  **quantity fill** of acknowledgements (first confirmed ÷ ordered), over the lines ordered in
  the window;
- **defect rate**: quality rejects ÷ received;
- **price variance**: invoiced against ordered, from the supplier invoices recorded per
  purchase line (`services/invoices.py`, by API or EDI 810), by invoice date.

A supplier is **below the standard** when its deliveries miss the company's thresholds
(`domain.sourcing.shortfalls`: OTIF, on time, defect rate, lead-time spread), with each
reason named: the same judgement by which the sourcing rule passes it over. Slow
acknowledgements and prices invoiced over the order are named as warnings.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

import numpy as np
import polars as pl

from leanstock.domain.errors import InvalidInput
from leanstock.domain.sourcing import SupplierRecord, SupplierStandard, shortfalls
from leanstock.services import purchasing
from leanstock.services.ports import UnitOfWork
from leanstock.services.supplier_standard import company_standard

# The company's standard (`domain.sourcing.SupplierStandard`, set in `supplier_standard`).
Standard = SupplierStandard


@dataclass(frozen=True)
class Figures:
    deliveries: int
    on_time_confirmed: float | None
    on_time_requested: float | None
    in_full: float | None
    otif: float | None
    lead_time_mean_days: float | None
    lead_time_sd_days: float | None
    defect_rate: float | None
    lines_ordered: int
    lines_acknowledged: int
    ack_hours_median: float | None
    ack_quantity_fill: float | None


@dataclass(frozen=True)
class Scorecard:
    supplier: str
    since: date | None
    until: date | None
    figures: Figures
    lead_time_trend_days_per_month: float | None
    price_variance: float | None
    below_standard: bool
    reasons: list[str]
    monthly: list[dict[str, Any]] = field(default_factory=list)
    items: list[dict[str, Any]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    """What the scorecard watches without moving the supply: slow acknowledgements, prices
    invoiced over the ordered ones."""
    invoiced_lines: int = 0


def _share(hits: int, judged: int) -> float | None:
    return round(hits / judged, 4) if judged else None


# What `_figures` needs of each group of deliveries and of acknowledgements, as aggregations:
# one pass of a `group_by` gives every supplier (or month, or item) at once.
_DELIVERY_AGGS = (
    pl.len().alias("deliveries"),
    pl.col("committed").is_not_null().sum().alias("judged"),
    pl.col("on_time").sum().alias("on_time"),
    pl.col("requested_date").is_not_null().sum().alias("asked"),
    (pl.col("received_date") <= pl.col("requested_date")).sum().alias("on_request"),
    pl.col("in_full").sum().alias("full"),
    (pl.col("on_time") & pl.col("in_full")).sum().alias("hits"),
    # OTIF as the sourcing rule counts it: a delivery short, or late against a date, misses.
    (~pl.col("in_full") | ~pl.col("on_time").fill_null(True)).sum().alias("misses"),
    pl.col("received_qty").sum().alias("received"),
    pl.col("rejected_qty").sum().alias("rejected"),
    pl.col("lead_days").cast(pl.Float64).mean().alias("lead_mean"),
    pl.col("lead_days").cast(pl.Float64).std().alias("lead_sd"),
)
_ACK_AGGS = (
    pl.len().alias("lines_ordered"),
    pl.col("acknowledged_at").is_not_null().sum().alias("lines_acknowledged"),
    pl.col("ack_hours").filter(pl.col("acknowledged_at").is_not_null()).median().alias("ack_hours"),
    pl.col("ordered_qty").filter(pl.col("acknowledged_at").is_not_null()).sum().alias("ordered"),
    pl.col("confirmed_qty")
    .filter(pl.col("acknowledged_at").is_not_null())
    .sum()
    .alias("confirmed"),
)


def _grouped(frame: pl.DataFrame, keys: list[str], aggs: Any) -> dict[Any, dict[str, Any]]:
    """Aggregations per group, by the group's key (one key: the value; more: a tuple)."""
    if frame.height == 0:
        return {}
    rows = frame.group_by(keys).agg(*aggs).to_dicts()
    if len(keys) == 1:
        return {row[keys[0]]: row for row in rows}
    return {tuple(row[k] for k in keys): row for row in rows}


def _figures(d: dict[str, Any] | None, a: dict[str, Any] | None) -> Figures:
    """The figures of one group from its delivery (`d`) and acknowledgement (`a`) aggregates;
    `None` for a group with none."""
    d = d or {}
    a = a or {}
    n = int(d.get("deliveries") or 0)
    hits = int(d.get("hits") or 0)
    misses = int(d.get("misses") or 0)
    received = float(d.get("received") or 0.0)
    rejected = float(d.get("rejected") or 0.0)
    acked = int(a.get("lines_acknowledged") or 0)
    ordered = float(a.get("ordered") or 0.0)
    confirmed = float(a.get("confirmed") or 0.0)
    lead_mean, lead_sd = d.get("lead_mean"), d.get("lead_sd")
    return Figures(
        deliveries=n,
        on_time_confirmed=_share(int(d.get("on_time") or 0), int(d.get("judged") or 0)),
        on_time_requested=_share(int(d.get("on_request") or 0), int(d.get("asked") or 0)),
        in_full=_share(int(d.get("full") or 0), n),
        otif=_share(hits, hits + misses),
        lead_time_mean_days=round(float(lead_mean), 2) if n and lead_mean is not None else None,
        lead_time_sd_days=round(float(lead_sd), 2) if n > 1 and lead_sd is not None else None,
        defect_rate=round(rejected / received, 4) if received > 0 else None,
        lines_ordered=int(a.get("lines_ordered") or 0),
        lines_acknowledged=acked,
        ack_hours_median=round(float(a["ack_hours"]), 1) if acked else None,
        ack_quantity_fill=round(confirmed / ordered, 4) if ordered > 0 else None,
    )


def _deliveries(
    uow: UnitOfWork, since: date | None, until: date | None, supplier: str | None = None
) -> pl.DataFrame:
    frame = (
        purchasing.receipt_history(uow, supplier, since)
        .with_columns(
            pl.coalesce("first_confirmed_date", "requested_date", "promised_date").alias(
                "committed"
            ),
            (pl.col("received_qty") - pl.col("rejected_qty") >= pl.col("ordered_qty")).alias(
                "in_full"
            ),
            (pl.col("received_date") - pl.col("ordered_at").dt.date())
            .dt.total_days()
            .alias("lead_days"),
            pl.col("received_date").dt.truncate("1mo").alias("month"),
        )
        .with_columns((pl.col("received_date") <= pl.col("committed")).alias("on_time"))
    )
    return _window(frame, "received_date", since, until)


def _acknowledgements(
    uow: UnitOfWork, since: date | None, until: date | None, supplier: str | None = None
) -> pl.DataFrame:
    with uow:
        rows = uow.purchasing.acknowledgement_rows(supplier, since)
    frame = pl.DataFrame(
        {
            "supplier": [r["supplier"] for r in rows],
            "item": [r["item"] for r in rows],
            "ordered_at": [r["ordered_at"] for r in rows],
            "acknowledged_at": [r["acknowledged_at"] for r in rows],
            "ordered_qty": [float(r["ordered_qty"]) for r in rows],
            "confirmed_qty": [
                None if r["confirmed_qty"] is None else float(r["confirmed_qty"]) for r in rows
            ],
        },
        schema={
            "supplier": pl.String,
            "item": pl.String,
            "ordered_at": pl.Datetime("us", "UTC"),
            "acknowledged_at": pl.Datetime("us", "UTC"),
            "ordered_qty": pl.Float64,
            "confirmed_qty": pl.Float64,
        },
    ).with_columns(
        ((pl.col("acknowledged_at") - pl.col("ordered_at")).dt.total_seconds() / 3600).alias(
            "ack_hours"
        ),
        pl.col("ordered_at").dt.date().alias("ordered_on"),
    )
    return _window(frame, "ordered_on", since, until)


def _window(
    frame: pl.DataFrame, column: str, since: date | None, until: date | None
) -> pl.DataFrame:
    if since is not None:
        frame = frame.filter(pl.col(column) >= since)
    if until is not None:
        frame = frame.filter(pl.col(column) <= until)
    return frame


def _check_window(since: date | None, until: date | None) -> None:
    if since is not None and until is not None and since > until:
        raise InvalidInput(
            f"The window starts ({since}) after it ends ({until}): swap since and until.", "since"
        )


def _trend(monthly: list[dict[str, Any]]) -> float | None:
    points = [(i, m["lead_time_mean_days"]) for i, m in enumerate(monthly)]
    points = [(i, v) for i, v in points if v is not None]
    if len(points) < 3:
        return None
    x = np.array([p[0] for p in points], dtype=np.float64)
    y = np.array([p[1] for p in points], dtype=np.float64)
    slope = float(np.polyfit(x, y, 1)[0])
    return round(slope, 3) if math.isfinite(slope) else None


def _record(figures: Figures) -> SupplierRecord:
    """The figures as the sourcing rule's record, so one judgement (`shortfalls`) flags the
    scorecard and passes the supplier over."""
    nan = math.nan

    def known(value: float | None) -> float:
        return nan if value is None else value

    return SupplierRecord(
        known(figures.otif),
        figures.deliveries,
        known(figures.on_time_confirmed),
        known(figures.defect_rate),
        known(figures.lead_time_sd_days),
    )


def _warnings(
    figures: Figures, price_variance: float | None, standard: SupplierStandard
) -> list[str]:
    found: list[str] = []
    if figures.ack_hours_median is not None and figures.ack_hours_median > standard.ack_hours:
        found.append(
            f"acknowledges in {figures.ack_hours_median:.0f} hours (median), slower than "
            f"{standard.ack_hours:.0f}"
        )
    if price_variance is not None and price_variance > standard.price_variance:
        found.append(
            f"invoices {price_variance:.1%} over the ordered prices, above the standard "
            f"{standard.price_variance:.1%}"
        )
    return found


def price_variance(rows: list[dict[str, Any]]) -> float | None:
    """Invoiced against ordered, as a share of the ordered value of what was invoiced:
    Σ (invoiced price − ordered price) × invoiced quantity ÷ Σ ordered price × invoiced
    quantity (exact decimals; positive: invoiced over the order). None without invoices
    or with nothing of value ordered."""
    ordered = sum((r["ordered_price"] * r["quantity"] for r in rows), Decimal(0))
    if not rows or ordered == 0:
        return None
    over = sum(((r["price"] - r["ordered_price"]) * r["quantity"] for r in rows), Decimal(0))
    return float(round(over / ordered, 4))


def _month(d: dict[str, Any]) -> dict[str, Any]:
    f = _figures(d, None)
    return {
        "month": d["month"].strftime("%Y-%m"),
        "deliveries": f.deliveries,
        "on_time_confirmed": f.on_time_confirmed,
        "in_full": f.in_full,
        "otif": f.otif,
        "lead_time_mean_days": f.lead_time_mean_days,
        "defect_rate": f.defect_rate,
    }


def _card(
    code: str,
    figures: Figures,
    months: list[dict[str, Any]],
    since: date | None,
    until: date | None,
    standard: SupplierStandard,
    invoices: list[dict[str, Any]],
    items: list[dict[str, Any]] | None = None,
) -> Scorecard:
    monthly = [_month(m) for m in sorted(months, key=lambda m: m["month"])]
    reasons = shortfalls(_record(figures), standard)
    variance = price_variance(invoices)
    return Scorecard(
        supplier=code,
        since=since,
        until=until,
        figures=figures,
        lead_time_trend_days_per_month=_trend(monthly),
        price_variance=variance,
        below_standard=bool(reasons),
        reasons=reasons,
        monthly=monthly if items is not None else [],
        items=items or [],
        warnings=_warnings(figures, variance, standard),
        invoiced_lines=len(invoices),
    )


def _standard(uow: UnitOfWork, standard: SupplierStandard | None) -> SupplierStandard:
    if standard is not None:
        return standard
    with uow:
        return company_standard(uow)


def _invoices(
    uow: UnitOfWork, supplier: str | None, since: date | None, until: date | None
) -> list[dict[str, Any]]:
    with uow:
        return uow.supplier_channel.invoice_rows(supplier, since, until)


def scorecard(
    uow: UnitOfWork,
    code: str,
    since: date | None = None,
    until: date | None = None,
    standard: SupplierStandard | None = None,
) -> Scorecard:
    """One supplier's scorecard over the window (receipt dates; invoice dates for the price
    variance), month by month and per item, judged by `standard` (default: the company's)."""
    _check_window(since, until)
    standard = _standard(uow, standard)
    with uow:
        supplier = uow.catalog.supplier(code)  # NotFound names it
    code = supplier.value.code
    mine = _deliveries(uow, since, until, code)
    my_acks = _acknowledgements(uow, since, until, code)
    d = _grouped(mine, ["supplier"], _DELIVERY_AGGS).get(code)
    a = _grouped(my_acks, ["supplier"], _ACK_AGGS).get(code)
    months = list(_grouped(mine, ["month"], _DELIVERY_AGGS).values())
    by_item = _grouped(mine, ["item"], _DELIVERY_AGGS)
    acks_by_item = _grouped(my_acks, ["item"], _ACK_AGGS)
    invoices = _invoices(uow, code, since, until)
    invoiced: dict[str, list[dict[str, Any]]] = {}
    for row in invoices:
        invoiced.setdefault(row["item"], []).append(row)
    items = [
        {
            "sku": sku,
            **_figures(by_item.get(sku), acks_by_item.get(sku)).__dict__,
            "price_variance": price_variance(invoiced.get(sku, [])),
        }
        for sku in sorted(set(by_item) | set(acks_by_item) | set(invoiced))
    ]
    return _card(code, _figures(d, a), months, since, until, standard, invoices, items)


def ranking(
    uow: UnitOfWork,
    since: date | None = None,
    until: date | None = None,
    standard: SupplierStandard | None = None,
) -> list[Scorecard]:
    """Every supplier's scorecard (without months and items), best OTIF first; suppliers
    with nothing to judge last."""
    _check_window(since, until)
    standard = _standard(uow, standard)
    invoiced: dict[str, list[dict[str, Any]]] = {}
    for row in _invoices(uow, None, since, until):
        invoiced.setdefault(row["supplier"], []).append(row)
    with uow:
        codes = [s.code for s in uow.catalog.suppliers(limit=10_000_000).items]
    deliveries = _deliveries(uow, since, until)
    by_supplier = _grouped(deliveries, ["supplier"], _DELIVERY_AGGS)
    acks = _grouped(_acknowledgements(uow, since, until), ["supplier"], _ACK_AGGS)
    months: dict[str, list[dict[str, Any]]] = {}
    for row in _grouped(deliveries, ["supplier", "month"], _DELIVERY_AGGS).values():
        months.setdefault(row["supplier"], []).append(row)
    cards = [
        _card(
            c,
            _figures(by_supplier.get(c), acks.get(c)),
            months.get(c, []),
            since,
            until,
            standard,
            invoiced.get(c, []),
        )
        for c in codes
    ]
    return sorted(
        cards,
        key=lambda c: (
            c.figures.otif is None,
            -(c.figures.otif or 0.0),
            c.figures.defect_rate or 0.0,
            c.supplier,
        ),
    )
