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
- **price variance** (invoiced against ordered) needs invoices, which Leanstock does not
  record yet: it is reported as not available.

A supplier is **below the standard** when its OTIF, defect rate or acknowledgement speed
misses the company's thresholds (`Standard`), with each reason named.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import numpy as np
import polars as pl

from leanstock.domain.errors import InvalidInput
from leanstock.domain.sourcing import MIN_RECEIPTS_TO_JUDGE, OTIF_STANDARD
from leanstock.services import purchasing
from leanstock.services.ports import UnitOfWork


@dataclass(frozen=True)
class Standard:
    """What a company expects of its suppliers."""

    otif: float = OTIF_STANDARD
    defect_rate: float = 0.02
    ack_hours: float = 48.0

    def __post_init__(self) -> None:
        if not 0 <= self.otif <= 1:
            raise InvalidInput(f"The OTIF standard {self.otif} is a share from 0 to 1.", "otif")
        if not 0 <= self.defect_rate <= 1:
            raise InvalidInput(
                f"The defect-rate standard {self.defect_rate} is a share from 0 to 1.",
                "defect_rate",
            )
        if self.ack_hours <= 0:
            raise InvalidInput(
                "The acknowledgement standard is a positive number of hours.", "ack_hours"
            )


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


def _share(hits: int, judged: int) -> float | None:
    return round(hits / judged, 4) if judged else None


def _figures(deliveries: pl.DataFrame, acks: pl.DataFrame) -> Figures:
    n = deliveries.height
    judged = deliveries.filter(pl.col("committed").is_not_null())
    on_time = int(judged["on_time"].sum() or 0)
    asked = deliveries.filter(pl.col("requested_date").is_not_null())
    on_request = int((asked["received_date"] <= asked["requested_date"]).sum() or 0)
    full = int(deliveries["in_full"].sum() or 0)
    hits = int((judged["on_time"] & judged["in_full"]).sum() or 0)
    # OTIF as the sourcing rule counts it: a delivery short, or late against a date, misses.
    misses = int((~deliveries["in_full"] | ~deliveries["on_time"].fill_null(True)).sum() or 0)
    received = float(deliveries["received_qty"].sum() or 0.0)
    rejected = float(deliveries["rejected_qty"].sum() or 0.0)
    lead = deliveries["lead_days"].cast(pl.Float64)
    acked = acks.filter(pl.col("acknowledged_at").is_not_null())
    hours = acked["ack_hours"]
    ordered = float(acked["ordered_qty"].sum() or 0.0)
    confirmed = float(acked["confirmed_qty"].sum() or 0.0)
    return Figures(
        deliveries=n,
        on_time_confirmed=_share(on_time, judged.height),
        on_time_requested=_share(on_request, asked.height),
        in_full=_share(full, n),
        otif=_share(hits, hits + misses),
        lead_time_mean_days=round(float(lead.mean()), 2) if n else None,  # type: ignore[arg-type]
        lead_time_sd_days=round(float(lead.std()), 2) if n > 1 else None,  # type: ignore[arg-type]
        defect_rate=round(rejected / received, 4) if received > 0 else None,
        lines_ordered=acks.height,
        lines_acknowledged=acked.height,
        ack_hours_median=round(float(hours.median()), 1) if acked.height else None,  # type: ignore[arg-type]
        ack_quantity_fill=round(confirmed / ordered, 4) if ordered > 0 else None,
    )


def _deliveries(uow: UnitOfWork, since: date | None, until: date | None) -> pl.DataFrame:
    frame = (
        purchasing.receipt_history(uow)
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


def _acknowledgements(uow: UnitOfWork, since: date | None, until: date | None) -> pl.DataFrame:
    with uow:
        rows = uow.purchasing.acknowledgement_rows()
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


def _reasons(figures: Figures, standard: Standard) -> list[str]:
    reasons: list[str] = []
    otif = figures.otif
    if figures.deliveries >= MIN_RECEIPTS_TO_JUDGE and otif is not None and otif < standard.otif:
        reasons.append(
            f"on time in full {otif:.0%} of {figures.deliveries} deliveries, "
            f"below the standard {standard.otif:.0%}"
        )
    if figures.defect_rate is not None and figures.defect_rate > standard.defect_rate:
        reasons.append(
            f"defect rate {figures.defect_rate:.1%}, above the standard {standard.defect_rate:.1%}"
        )
    if figures.ack_hours_median is not None and figures.ack_hours_median > standard.ack_hours:
        reasons.append(
            f"acknowledges in {figures.ack_hours_median:.0f} hours (median), slower than "
            f"{standard.ack_hours:.0f}"
        )
    return reasons


def _card(
    code: str,
    deliveries: pl.DataFrame,
    acks: pl.DataFrame,
    since: date | None,
    until: date | None,
    standard: Standard,
    detail: bool,
) -> Scorecard:
    mine = deliveries.filter(pl.col("supplier") == code)
    my_acks = acks.filter(pl.col("supplier") == code)
    figures = _figures(mine, my_acks)
    monthly = []
    for month in sorted(mine["month"].unique().to_list()):
        f = _figures(mine.filter(pl.col("month") == month), my_acks.head(0))
        monthly.append(
            {
                "month": month.strftime("%Y-%m"),
                "deliveries": f.deliveries,
                "on_time_confirmed": f.on_time_confirmed,
                "in_full": f.in_full,
                "otif": f.otif,
                "lead_time_mean_days": f.lead_time_mean_days,
                "defect_rate": f.defect_rate,
            }
        )
    items = []
    if detail:
        for sku in sorted(set(mine["item"].to_list()) | set(my_acks["item"].to_list())):
            f = _figures(mine.filter(pl.col("item") == sku), my_acks.filter(pl.col("item") == sku))
            items.append({"sku": sku, **f.__dict__})
    reasons = _reasons(figures, standard)
    return Scorecard(
        supplier=code,
        since=since,
        until=until,
        figures=figures,
        lead_time_trend_days_per_month=_trend(monthly),
        price_variance=None,
        below_standard=bool(reasons),
        reasons=reasons,
        monthly=monthly if detail else [],
        items=items,
    )


def scorecard(
    uow: UnitOfWork,
    code: str,
    since: date | None = None,
    until: date | None = None,
    standard: Standard = Standard(),
) -> Scorecard:
    """One supplier's scorecard over the window (receipt dates), month by month and per item."""
    _check_window(since, until)
    with uow:
        supplier = uow.catalog.supplier(code)  # NotFound names it
    deliveries = _deliveries(uow, since, until)
    acks = _acknowledgements(uow, since, until)
    return _card(supplier.value.code, deliveries, acks, since, until, standard, detail=True)


def ranking(
    uow: UnitOfWork,
    since: date | None = None,
    until: date | None = None,
    standard: Standard = Standard(),
) -> list[Scorecard]:
    """Every supplier's scorecard (without months and items), best OTIF first; suppliers
    with nothing to judge last."""
    _check_window(since, until)
    with uow:
        codes = [s.code for s in uow.catalog.suppliers(limit=10_000_000).items]
    deliveries = _deliveries(uow, since, until)
    acks = _acknowledgements(uow, since, until)
    cards = [_card(c, deliveries, acks, since, until, standard, detail=False) for c in codes]
    return sorted(
        cards,
        key=lambda c: (
            c.figures.otif is None,
            -(c.figures.otif or 0.0),
            c.figures.defect_rate or 0.0,
            c.supplier,
        ),
    )
