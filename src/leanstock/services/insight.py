"""Insight from the business's own records: item classes and the JIT readiness report.

Item classes (`classify_items`) put the planning module's measures on the database's data:
ABC by the last year's usage value (`planning/segments.abc_classes`), XYZ by the weekly
demand's coefficient of variation (`segments.xyz_classes`), the forecast's demand class
(`planning/forecast/classify`: smooth, erratic, intermittent, lumpy, new, inactive) on the
same weekly series, and dead and slow stock with the money in it and a suggested action
(`planning/stock_health.slow_stock`).

The readiness report (`readiness`) answers the questions a business should answer before it
runs just in time, each with the figure, a verdict (`ready`, `watch`, `not ready`) and what to
do: how predictable demand is, how reliable and how near the suppliers are, how much money is
tied up, what a stock-out would cost, and which items can run just in time and which need a
buffer. Supplier reliability is the sourcing rule's own record (`domain/sourcing.py`), so the
report judges suppliers as the planner and the order pull do.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import polars as pl

from leanstock.domain.errors import InvalidInput, NotFound
from leanstock.domain.sourcing import MIN_RECEIPTS_TO_JUDGE
from leanstock.planning.forecast.classify import classify
from leanstock.planning.segments import AbcThresholds, XyzThresholds, abc_classes, xyz_classes
from leanstock.planning.stock_health import SlowStockRules, slow_stock
from leanstock.services import orders, purchasing
from leanstock.services.ports import UnitOfWork
from leanstock.services.supplier_standard import company_standard

USAGE_DAYS = 365
"""Usage value (ABC) and the demand series (XYZ, demand class) cover the last year."""
NEW_WEEKS = 8
"""An item selling for fewer weeks than this is `new`: too soon to judge its pattern."""
CENT = Decimal("0.01")

READY = "ready"
WATCH = "watch"
NOT_READY = "not ready"


@dataclass(frozen=True)
class InsightRules:
    """The thresholds a company sets; the defaults are the textbook ones (module docs)."""

    abc: AbcThresholds = field(default_factory=AbcThresholds)
    xyz: XyzThresholds = field(default_factory=XyzThresholds)
    slow: SlowStockRules = field(default_factory=SlowStockRules)
    near_days: int = 7
    """A supplier this many days away or nearer is near: short enough to order to demand."""
    far_days: int = 21
    """Beyond this many days, a supplier is far: its items need a buffer."""

    def __post_init__(self) -> None:
        if not 0 < self.near_days < self.far_days:
            raise InvalidInput(
                f"near_days ({self.near_days}) must be positive and below far_days "
                f"({self.far_days}).",
                "near_days",
            )


def classify_items(
    uow: UnitOfWork, today: date, rules: InsightRules = InsightRules()
) -> pl.DataFrame:
    """One row per active item: usage, ABC, XYZ, demand class, stock and its health.

    Columns: sku, name, category, unit_cost, usage_qty and usage_value (last 365 days),
    abc_class, cv, xyz_class (null with too short a history), demand_class, on_hand,
    stock_value, days_of_supply, stock_status (dead, slow, ok; null without stock),
    excess_value and action; selling_days and stockout_days over the last `rate_days` (90):
    days with demand, and days when some order could not be fully served from stock. Largest
    usage value first.
    """
    with uow:
        items = uow.catalog.items(limit=10_000_000).items
        levels, _ = uow.reports.stock_levels(today, limit=10_000_000)
    catalog = pl.DataFrame(
        {
            "sku": [i.sku for i in items],
            "name": [i.name for i in items],
            "category": [i.category for i in items],
            "unit_cost": [float(i.unit_cost) for i in items],
            "active": [i.active for i in items],
        },
        schema={
            "sku": pl.String,
            "name": pl.String,
            "category": pl.String,
            "unit_cost": pl.Float64,
            "active": pl.Boolean,
        },
    ).filter(pl.col("active"))
    demand = _daily_demand(uow, today)
    since = today - timedelta(days=USAGE_DAYS)
    recent = pl.col("ds") > today - timedelta(days=rules.slow.rate_days)
    usage = (
        demand.filter(pl.col("ds") > since)
        .group_by("item")
        .agg(
            pl.col("qty").sum().alias("usage_qty"),
            recent.sum().alias("selling_days"),
            (recent & pl.col("stockout")).sum().alias("stockout_days"),
        )
        .rename({"item": "sku"})
    )
    frame = catalog.join(usage, on="sku", how="left").with_columns(
        pl.col("usage_qty").fill_null(0.0),
        pl.col("selling_days", "stockout_days").fill_null(0).cast(pl.Int64),
    )
    frame = frame.with_columns((pl.col("usage_qty") * pl.col("unit_cost")).alias("usage_value"))
    abc = abc_classes(frame, value="usage_value", keys=("sku",), thresholds=rules.abc)
    weekly = _weekly(demand, since)
    xyz = xyz_classes(weekly.rename({"item": "sku"}), keys=("sku",), thresholds=rules.xyz)
    pattern = _demand_classes(weekly)
    stock = _stock(levels, catalog, uow)
    health = slow_stock(
        stock, demand.rename({"item": "sku"}), today, keys=("sku",), rules=rules.slow
    ).select(
        "sku", "days_of_supply", pl.col("status").alias("stock_status"), "excess_value", "action"
    )
    return (
        frame.join(abc.select("sku", "abc_class"), on="sku", how="left")
        .join(xyz.select("sku", "cv", "xyz_class"), on="sku", how="left")
        .join(pattern, on="sku", how="left")
        .with_columns(pl.col("demand_class").fill_null("inactive"))
        .join(stock.select("sku", "on_hand"), on="sku", how="left")
        .with_columns(pl.col("on_hand").fill_null(0.0))
        .with_columns((pl.col("on_hand") * pl.col("unit_cost")).alias("stock_value"))
        .join(health, on="sku", how="left")
        .with_columns(pl.col("excess_value").fill_null(0.0))
        .select(
            "sku",
            "name",
            "category",
            "unit_cost",
            "usage_qty",
            "usage_value",
            "abc_class",
            "cv",
            "xyz_class",
            "demand_class",
            "selling_days",
            "stockout_days",
            "on_hand",
            "stock_value",
            "days_of_supply",
            "stock_status",
            "excess_value",
            "action",
        )
        .sort(["usage_value", "sku"], descending=[True, False])
    )


def _daily_demand(uow: UnitOfWork, today: date) -> pl.DataFrame:
    """Demand per item and day over all locations, up to `today`."""
    history = orders.demand_history(uow, "D")
    return (
        history.filter(pl.col("ds").cast(pl.Date) <= today)
        .group_by("item", pl.col("ds").cast(pl.Date))
        .agg(pl.col("qty").sum(), pl.col("stockout").any())
        .sort("item", "ds")
    )


def _weekly(demand: pl.DataFrame, since: date) -> pl.DataFrame:
    """Weekly demand per item (weeks starting Monday) since `since`, weeks with a sale only."""
    return (
        demand.filter(pl.col("ds") > since)
        .with_columns(pl.col("ds").dt.truncate("1w"))
        .group_by("item", "ds")
        .agg(pl.col("qty").sum())
        .sort("item", "ds")
    )


def _demand_classes(weekly: pl.DataFrame) -> pl.DataFrame:
    """The forecast's demand class per item, on its weekly series from its first sale, the
    weeks without a sale counted as zero (as the forecast sees them)."""
    if weekly.is_empty():
        return pl.DataFrame(schema={"sku": pl.String, "demand_class": pl.String})
    weeks = weekly.select(pl.col("ds").unique().sort())
    first = weekly.group_by("item").agg(pl.col("ds").min().alias("_first"))
    full = (
        first.join(weeks, how="cross")
        .filter(pl.col("ds") >= pl.col("_first"))
        .join(weekly, on=["item", "ds"], how="left")
        .select(pl.col("item").alias("sid"), "ds", pl.col("qty").fill_null(0.0))
        .sort("sid", "ds")
    )
    return classify(full, NEW_WEEKS).select(pl.col("sid").alias("sku"), "demand_class")


def _stock(
    levels: Sequence[dict[str, Any]], catalog: pl.DataFrame, uow: UnitOfWork
) -> pl.DataFrame:
    """On hand per item over all physical locations, with unit cost and last receipt."""
    on_hand = (
        pl.DataFrame(
            {
                "sku": [r["sku"] for r in levels],
                "on_hand": [float(r["on_hand"]) for r in levels],
            },
            schema={"sku": pl.String, "on_hand": pl.Float64},
        )
        .group_by("sku")
        .agg(pl.col("on_hand").sum())
    )
    receipts = purchasing.receipt_history(uow)
    last = receipts.group_by(pl.col("item").alias("sku")).agg(
        pl.col("received_date").max().cast(pl.Date).alias("last_received")
    )
    return (
        on_hand.join(catalog.select("sku", "unit_cost"), on="sku")
        .join(last, on="sku", how="left")
        .with_columns(pl.col("last_received").cast(pl.Date))
    )


# The readiness report


@dataclass(frozen=True)
class Finding:
    """One question of the readiness test, answered from the records."""

    question: str
    figure: str
    verdict: str
    action: str
    details: list[dict[str, Any]] = field(default_factory=list)


@dataclass(frozen=True)
class Readiness:
    as_of: date
    verdict: str
    findings: list[Finding]


def readiness(uow: UnitOfWork, today: date, rules: InsightRules = InsightRules()) -> Readiness:
    """The JIT readiness report (module docs): each question with figure, verdict and action."""
    items = classify_items(uow, today, rules)
    suppliers = _supplier_figures(uow, rules)
    with uow:
        offers = uow.catalog.supplier_items(limit=10_000_000).items
        try:
            accuracy = uow.planning.forecast_run(None)["accuracy"].get("overall")
        except NotFound:
            accuracy = None
    findings = [
        _predictability(items, accuracy),
        _supplier_reliability(suppliers),
        _supplier_distance(suppliers, rules),
        _money_tied_up(items),
        _stockout_cost(items, rules),
        _item_readiness(items, suppliers, offers, rules),
    ]
    order = {READY: 0, WATCH: 1, NOT_READY: 2}
    worst = max((f.verdict for f in findings), key=lambda v: order[v])
    return Readiness(today, worst, findings)


def _share(part: float, whole: float) -> float:
    return part / whole if whole > 0 else 0.0


def _money(value: float) -> Decimal:
    return Decimal(repr(value)).quantize(CENT) if math.isfinite(value) else Decimal(0)


def _predictability(items: pl.DataFrame, accuracy: dict[str, Any] | None) -> Finding:
    sold = items.filter(pl.col("usage_value") > 0)
    total = float(sold["usage_value"].sum())
    by_class = {
        cls: _share(float(sold.filter(pl.col("xyz_class") == cls)["usage_value"].sum()), total)
        for cls in ("X", "Y", "Z")
    }
    unclassed = 1.0 - sum(by_class.values()) if total > 0 else 0.0
    steady = by_class["X"]
    if total == 0:
        verdict, action = NOT_READY, "Record sales for some weeks first: there is no demand yet."
    elif steady >= 0.5:
        verdict = READY
        action = (
            "Most demand value is steady (X): order it to demand with small buffers; keep "
            "safety stock on the Y and Z items the planner sizes from forecast error."
        )
    elif steady + by_class["Y"] >= 0.7:
        verdict = WATCH
        action = (
            "Demand varies (Y) for much of the value: forecast weekly, add known events and "
            "promotions to the calendar, and keep the planner's buffers on Y and Z items."
        )
    else:
        verdict = NOT_READY
        action = (
            "Most demand value is erratic or intermittent (Z): hold buffers for it, or make "
            "those items to order; run just in time only for the steady ones."
        )
    figure = (
        f"{steady:.0%} of the year's usage value is steady (X), {by_class['Y']:.0%} varies (Y), "
        f"{by_class['Z']:.0%} is erratic or intermittent (Z)"
        + (f", {unclassed:.0%} too new to judge" if unclassed > 0.005 else "")
    )
    if accuracy:
        metrics = {k: v for k, v in accuracy.items() if isinstance(v, int | float)}
        shown = ", ".join(f"{k} {v:.3g}" for k, v in sorted(metrics.items()))
        if shown:
            figure += f"; the latest forecast run's backtest: {shown}"
    counts = (
        items.group_by("demand_class")
        .agg(pl.len().alias("items"), pl.col("usage_value").sum())
        .sort("usage_value", descending=True)
    )
    details = [
        {
            "demand_class": r["demand_class"],
            "items": r["items"],
            "usage_value": _money(r["usage_value"]),
        }
        for r in counts.iter_rows(named=True)
    ]
    return Finding("How predictable is demand?", figure, verdict, action, details)


@dataclass(frozen=True)
class _SupplierFigures:
    code: str
    deliveries: int
    otif: float
    lead_time_mean: float
    lead_time_sd: float
    standard: float  # the company's on-time-in-full standard (`supplier_standard`)

    @property
    def judged(self) -> bool:
        return self.deliveries >= MIN_RECEIPTS_TO_JUDGE and not math.isnan(self.otif)

    @property
    def reliable(self) -> bool:
        return not self.judged or self.otif >= self.standard

    @property
    def lead_time_cv(self) -> float:
        return self.lead_time_sd / self.lead_time_mean if self.lead_time_mean > 0 else 0.0


def _supplier_figures(uow: UnitOfWork, rules: InsightRules) -> dict[str, _SupplierFigures]:
    receipts = purchasing.receipt_history(uow)
    with uow:
        records = uow.purchasing.supplier_records()
        suppliers = uow.catalog.suppliers(limit=10_000_000).items
        standard = company_standard(uow).otif
    lead = (
        receipts.with_columns(
            (pl.col("received_date").cast(pl.Date) - pl.col("ordered_at").dt.date())
            .dt.total_days()
            .cast(pl.Float64)
            .alias("days")
        )
        .group_by("supplier")
        .agg(pl.col("days").mean().alias("mean"), pl.col("days").std().alias("sd"))
    )
    times = {r["supplier"]: (r["mean"], r["sd"]) for r in lead.iter_rows(named=True)}
    out: dict[str, _SupplierFigures] = {}
    for supplier in suppliers:
        record = records.get(supplier.code)
        mean, sd = times.get(supplier.code, (math.nan, math.nan))
        out[supplier.code] = _SupplierFigures(
            supplier.code,
            record.deliveries if record else 0,
            record.on_time_in_full if record else math.nan,
            math.nan if mean is None else float(mean),
            0.0 if sd is None or math.isnan(sd) else float(sd),
            standard,
        )
    return out


def _supplier_row(s: _SupplierFigures) -> dict[str, Any]:
    return {
        "supplier": s.code,
        "deliveries": s.deliveries,
        "on_time_in_full": None if math.isnan(s.otif) else round(s.otif, 4),
        "lead_time_days": None if math.isnan(s.lead_time_mean) else round(s.lead_time_mean, 1),
        "lead_time_sd_days": round(s.lead_time_sd, 1),
        "reliable": s.reliable,
    }


def _supplier_reliability(suppliers: dict[str, _SupplierFigures]) -> Finding:
    judged = [s for s in suppliers.values() if s.judged]
    question = "How reliable are the suppliers?"
    if not judged:
        return Finding(
            question,
            f"No supplier has {MIN_RECEIPTS_TO_JUDGE} deliveries to judge it by yet",
            WATCH,
            "Receive purchase orders through Leanstock, against their promised dates, so "
            "each supplier's on-time-in-full record builds up.",
            [_supplier_row(s) for s in suppliers.values()],
        )
    late = sorted((s for s in judged if not s.reliable), key=lambda s: s.otif)
    share = len(late) / len(judged)
    figure = (
        f"{len(judged) - len(late)} of {len(judged)} suppliers deliver on time in full at "
        f"least {judged[0].standard:.0%} of the time"
    )
    if late:
        figure += ": below it " + ", ".join(f"{s.code} {s.otif:.0%}" for s in late)
    verdict = READY if not late else WATCH if share <= 0.25 else NOT_READY
    action = (
        "Keep measuring: the planner and the order pull pass over a supplier below the "
        "standard when there is a backup."
        if not late
        else "Agree delivery windows with "
        + ", ".join(s.code for s in late)
        + ", name a backup supplier (a second supplier-item with a lower priority) for "
        "their items, and keep buffers on those items until they deliver to standard."
    )
    rows = [_supplier_row(s) for s in sorted(suppliers.values(), key=lambda s: s.code)]
    return Finding(question, figure, verdict, action, rows)


def _supplier_distance(suppliers: dict[str, _SupplierFigures], rules: InsightRules) -> Finding:
    known = [s for s in suppliers.values() if not math.isnan(s.lead_time_mean)]
    question = "How near are the suppliers, and how steady is their lead time?"
    if not known:
        return Finding(
            question,
            "No deliveries received yet, so no lead time measured",
            WATCH,
            "Receive purchase orders through Leanstock so real lead times are measured.",
        )
    far = [s for s in known if s.lead_time_mean > rules.far_days]
    unsteady = [s for s in known if s.lead_time_cv > 0.5]
    near = [s for s in known if s.lead_time_mean <= rules.near_days]
    median = sorted(s.lead_time_mean for s in known)[len(known) // 2]
    figure = (
        f"median lead time {median:.1f} days; {len(near)} of {len(known)} suppliers deliver "
        f"within {rules.near_days} days, {len(far)} take over {rules.far_days}"
    )
    if unsteady:
        figure += "; unsteady lead times (spread over half the mean): " + ", ".join(
            s.code for s in unsteady
        )
    verdict = (
        READY if not far and not unsteady else NOT_READY if len(far) > len(known) / 2 else WATCH
    )
    action = (
        "Lead times are short and steady: order small and often."
        if verdict == READY
        else "Hold buffers for items from far or unsteady suppliers (the planner sizes them "
        "from the measured lead time and its spread), and look for nearer sources for "
        "the A items among them."
    )
    return Finding(question, figure, verdict, action, [_supplier_row(s) for s in known])


def _money_tied_up(items: pl.DataFrame) -> Finding:
    value = float(items["stock_value"].sum())
    usage = float(items["usage_value"].sum())
    days = value / (usage / USAGE_DAYS) if usage > 0 else math.inf
    excess = items.filter(pl.col("stock_status").is_in(["dead", "slow"]))
    excess_value = float(excess["excess_value"].sum())
    excess_share = _share(excess_value, value)
    days_text = f"{days:.0f} days" if math.isfinite(days) else "no usage to measure it by"
    figure = (
        f"{_money(value)} in stock at cost, {days_text} of the year's usage; "
        f"{_money(excess_value)} ({excess_share:.0%}) is dead or slow stock in "
        f"{excess.height} items"
    )
    if days <= 30 and excess_share <= 0.10:
        verdict = READY
    elif days <= 60 and excess_share <= 0.25:
        verdict = WATCH
    else:
        verdict = NOT_READY
    action = (
        "Little is tied up: keep it so by ordering to demand."
        if verdict == READY
        else "Clear the dead and slow stock first (`leanstock classify --status slow` lists it "
        "with an action each), then let the plan bring the rest down to its order-up-to levels."
    )
    top = excess.sort("excess_value", descending=True).head(20)
    details = [
        {
            "sku": r["sku"],
            "stock_status": r["stock_status"],
            "excess_value": _money(r["excess_value"]),
            "action": r["action"],
        }
        for r in top.iter_rows(named=True)
    ]
    return Finding("How much money is tied up in stock?", figure, verdict, action, details)


def _stockout_cost(items: pl.DataFrame, rules: InsightRules) -> Finding:
    per_day = items.with_columns((pl.col("usage_value") / USAGE_DAYS).alias("per_day"))
    a_items = per_day.filter(pl.col("abc_class") == "A")
    a_day = float(a_items["per_day"].sum())
    all_day = float(per_day["per_day"].sum())
    selling = int(a_items["selling_days"].sum())
    short = int(a_items["stockout_days"].sum())
    rate = _share(short, selling)
    window = rules.slow.rate_days
    lost = float((a_items["stockout_days"] * a_items["per_day"]).sum())
    figure = (
        f"a day without the {a_items.height} A items leaves {_money(a_day)} of demand (at cost) "
        f"unserved, {_share(a_day, all_day):.0%} of a day's {_money(all_day)}; in the last "
        f"{window} days some order for them went short on {short} of {selling} item-days "
        f"with demand ({rate:.1%}), days whose demand came to {_money(lost)} at cost"
    )
    verdict = READY if rate <= 0.02 else WATCH if rate <= 0.05 else NOT_READY
    action = (
        "Stock-outs on the A items are rare: keep their service level."
        if verdict == READY
        else "Raise the service level of the A items that ran short (or set a catalog fill-rate "
        "target), and check their supplier's record: these are the stock-outs that cost most."
    ) + " Add your margin to these figures (they are at cost) for the profit lost."
    top = per_day.sort(["stockout_days", "per_day"], descending=True).head(10)
    details = [
        {
            "sku": r["sku"],
            "abc_class": r["abc_class"],
            "demand_per_day_at_cost": _money(r["per_day"]),
            "stockout_days": r["stockout_days"],
            "selling_days": r["selling_days"],
        }
        for r in top.iter_rows(named=True)
    ]
    return Finding("What would a stock-out cost?", figure, verdict, action, details)


def _item_readiness(
    items: pl.DataFrame,
    suppliers: dict[str, _SupplierFigures],
    offers: Sequence[Any],
    rules: InsightRules,
) -> Finding:
    first: dict[str, Any] = {}
    backups: dict[str, int] = {}
    for offer in sorted(offers, key=lambda o: o.priority):
        first.setdefault(offer.sku, offer)
        backups[offer.sku] = backups.get(offer.sku, 0) + 1
    rows: list[dict[str, Any]] = []
    ready_value = total_value = 0.0
    for r in items.filter(pl.col("usage_value") > 0).iter_rows(named=True):
        reasons: list[str] = []
        if r["xyz_class"] is None:
            reasons.append("too little history to judge")
        elif r["xyz_class"] == "Z":
            reasons.append(f"demand is erratic or intermittent ({r['demand_class']})")
        offer = first.get(r["sku"])
        if offer is not None:
            supplier = suppliers.get(offer.supplier)
            if supplier is not None and not supplier.reliable:
                reasons.append(
                    f"{offer.supplier} delivers on time in full only {supplier.otif:.0%}"
                    + ("" if backups[r["sku"]] > 1 else " and there is no backup supplier")
                )
            if offer.lead_time_days > rules.far_days:
                reasons.append(f"{offer.supplier} is {offer.lead_time_days} days away")
        total_value += r["usage_value"]
        if not reasons:
            ready_value += r["usage_value"]
        rows.append(
            {
                "sku": r["sku"],
                "abc_class": r["abc_class"],
                "xyz_class": r["xyz_class"],
                "jit_ready": not reasons,
                "needs_buffer_because": "; ".join(reasons) or None,
            }
        )
    ready = sum(1 for row in rows if row["jit_ready"])
    share = _share(ready_value, total_value)
    figure = (
        f"{ready} of {len(rows)} items selling this year are ready for just in time "
        f"({share:.0%} of usage value); {len(rows) - ready} need a buffer"
    )
    verdict = READY if share >= 0.6 else WATCH if share >= 0.3 else NOT_READY
    action = (
        "Run the ready items just in time (small, frequent orders pulled by demand); keep the "
        "planner's buffers on the others, and work down their reasons one by one."
    )
    rows.sort(key=lambda row: (row["jit_ready"], row["abc_class"] or "Z", row["sku"]))
    return Finding(
        "Which items are ready for just in time, and which need a buffer?",
        figure,
        verdict,
        action,
        rows,
    )
