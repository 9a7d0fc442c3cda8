"""What-if and disruption drills: the same history replayed as it was and as it might be.

JIT runs on thin buffers, so the questions that matter are what happens when something
gives: a supplier slips or stops, demand jumps, an event comes, the service target moves.
A drill answers them with the simulator: the demand history is replayed twice under the
planner's policy, once as it is (the baseline) and once with the scenario applied from the
first measured period on, with the same warm-up, the same late deliveries drawn for both
(common random numbers) and the same forecasting. Per item and overall it reports fill rate,
average stock value, orders and stock-out periods, baseline against scenario.

Scenarios, in periods of the history (a service converts days):

- `LeadTimeSlip(supplier, periods, known=False)`: that supplier's deliveries take longer;
  unannounced, the planner keeps planning with the old lead time and only its service
  feedback reacts; `known=True` plans with the new one;
- `OtifDrop(supplier, on_time, late_by=None)`: only `on_time` of its deliveries arrive on
  time, the others `late_by` periods late (default: half the lead time, at least one);
- `SupplierStop(supplier)`: it delivers nothing more; each item with a backup supplier is
  bought there (its lead time, known to the planner, and its price, reported as extra
  spend), an item without one gets nothing;
- `DemandChange(category, change)`: that category's demand × (1 + change);
- `EventAdded(start, periods, lift, category=None, known=True)`: demand × lift for
  `periods` periods from `start` (counted from the drill's first period), for a category or
  all items; when known, the forecast carries the lift over the protection intervals that
  reach into the event;
- `ServiceChange(service_level, category=None)`: a new fill-rate target.

Several scenarios combine into one drill. `run_drill` runs locally or on Dask.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import numpy.typing as npt
import polars as pl

from leanstock.planning.simulate import (
    ExponentialForecaster,
    Forecast,
    Items,
    PlannerPolicy,
    ReviewState,
    SimulationResult,
    Supply,
    simulate,
)

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]


@dataclass(frozen=True)
class LeadTimeSlip:
    supplier: str
    periods: int
    known: bool = False


@dataclass(frozen=True)
class OtifDrop:
    supplier: str
    on_time: float
    late_by: int | None = None


@dataclass(frozen=True)
class SupplierStop:
    supplier: str


@dataclass(frozen=True)
class DemandChange:
    category: str
    change: float


@dataclass(frozen=True)
class EventAdded:
    start: int
    periods: int
    lift: float
    category: str | None = None
    known: bool = True


@dataclass(frozen=True)
class ServiceChange:
    service_level: float
    category: str | None = None


Scenario = LeadTimeSlip | OtifDrop | SupplierStop | DemandChange | EventAdded | ServiceChange


@dataclass(frozen=True)
class DrillCatalog:
    """Per-item data of a drill, rows aligned with the demand matrix.

    `backup_lead_time` < 0 and `backup_unit_cost` NaN mean no backup supplier.
    """

    item_ids: list[str]
    items: Items
    supplier: npt.NDArray[np.str_]
    category: npt.NDArray[np.str_]
    service_level: FloatArray
    backup_lead_time: IntArray
    backup_unit_cost: FloatArray

    @classmethod
    def from_frame(cls, item_ids: Sequence[str], items: Items, frame: pl.DataFrame) -> DrillCatalog:
        """From a frame with `item` and optional `supplier`, `category`, `service_level`
        (0.95), `backup_lead_time` and `backup_unit_cost` (none), in any row order."""
        order = pl.DataFrame({"item": list(item_ids)}).with_row_index("_row")
        data = order.join(frame, on="item", how="left").sort("_row")

        def column(name: str, default: object, dtype: Any) -> pl.Series:
            if name not in data.columns:
                return pl.Series(name, [default] * data.height, dtype=dtype)
            return data.get_column(name).cast(dtype).fill_null(default)

        return cls(
            item_ids=list(item_ids),
            items=items,
            supplier=column("supplier", "", pl.Utf8).to_numpy().astype(str),
            category=column("category", "", pl.Utf8).to_numpy().astype(str),
            service_level=column("service_level", 0.95, pl.Float64).to_numpy(),
            backup_lead_time=column("backup_lead_time", -1, pl.Int64).to_numpy(),
            backup_unit_cost=column("backup_unit_cost", float("nan"), pl.Float64).to_numpy(),
        )

    def subset(self, rows: IntArray) -> DrillCatalog:
        items = self.items
        return DrillCatalog(
            item_ids=[self.item_ids[i] for i in rows],
            items=Items(
                lead_time=items.lead_time[rows],
                unit_cost=items.unit_cost[rows],
                moq=items.moq[rows],
                pack_size=items.pack_size[rows],
                order_cost=items.order_cost[rows],
                holding_rate=items.holding_rate[rows],
            ),
            supplier=self.supplier[rows],
            category=self.category[rows],
            service_level=self.service_level[rows],
            backup_lead_time=self.backup_lead_time[rows],
            backup_unit_cost=self.backup_unit_cost[rows],
        )


@dataclass(frozen=True)
class _Plan:
    """The scenario's inputs for one replay (all items of a chunk)."""

    demand: FloatArray
    planned: Items
    switched: Items
    supply: Supply | None
    service: FloatArray
    lift: FloatArray
    """Known demand multiplier per item and period (1 where nothing is known)."""
    extra_cost: FloatArray
    """Per unit bought from the drill's start: what the backup costs more."""
    stopped: BoolArray


def _mask(catalog: DrillCatalog, category: str | None) -> BoolArray:
    if category is None:
        return np.ones(len(catalog.item_ids), dtype=np.bool_)
    return np.asarray(catalog.category == category, dtype=np.bool_)


def _check(scenario: Scenario, catalog: DrillCatalog, whole: bool = True) -> None:
    """A scenario's figures are sound and (on the `whole` catalogue, not on one chunk of it,
    which may hold none of a supplier's items) it names a supplier or category there is."""
    match scenario if whole else None:
        case LeadTimeSlip(supplier=s) | OtifDrop(supplier=s) | SupplierStop(supplier=s):
            if not np.any(catalog.supplier == s):
                raise ValueError(f"no item is bought from supplier {s!r}")
        case DemandChange(category=c) | ServiceChange(category=c) | EventAdded(category=c):
            if c is not None and not np.any(catalog.category == c):
                raise ValueError(f"no item is in category {c!r}")
    match scenario:
        case LeadTimeSlip(periods=p) if p < 0:
            raise ValueError("a lead-time slip is a number of periods ≥ 0")
        case OtifDrop(on_time=x) if not 0.0 <= x <= 1.0:
            raise ValueError("on-time share must be between 0 and 1")
        case DemandChange(change=x) if x <= -1.0:
            raise ValueError("a demand change of −100% or less leaves no demand")
        case EventAdded(periods=p, lift=x) if p <= 0 or x < 0:
            raise ValueError("an event lasts at least one period and lifts demand by ≥ 0")
        case ServiceChange(service_level=x) if not 0.0 < x < 1.0:
            raise ValueError("a service level is between 0 and 1")


def _scenario(
    demand: FloatArray, catalog: DrillCatalog, scenarios: Sequence[Scenario], start: int, seed: int
) -> _Plan:
    n, horizon = demand.shape
    items = catalog.items
    future = demand.copy()
    planned_lead = items.lead_time.copy()
    actual_lead = items.lead_time.copy()
    late_share = np.zeros(n)
    late_by = np.zeros(n, dtype=np.int64)
    stopped = np.zeros(n, dtype=np.bool_)
    service = catalog.service_level.copy()
    lift = np.ones((n, horizon))
    extra_cost = np.zeros(n)
    disrupted = False
    for scenario in scenarios:
        _check(scenario, catalog, whole=False)  # run_drill checked the whole catalogue
        match scenario:
            case LeadTimeSlip(supplier=s, periods=p, known=known):
                rows = catalog.supplier == s
                actual_lead = np.where(rows, actual_lead + p, actual_lead)
                if known:
                    planned_lead = np.where(rows, planned_lead + p, planned_lead)
                disrupted = True
            case OtifDrop(supplier=s, on_time=x, late_by=late):
                rows = catalog.supplier == s
                delay = np.maximum(actual_lead // 2, 1) if late is None else np.full(n, late)
                late_share = np.where(rows, 1.0 - x, late_share)
                late_by = np.where(rows, delay, late_by)
                disrupted = True
            case SupplierStop(supplier=s):
                rows = catalog.supplier == s
                backup = rows & (catalog.backup_lead_time >= 0)
                stopped |= rows & ~backup
                actual_lead = np.where(backup, catalog.backup_lead_time, actual_lead)
                planned_lead = np.where(backup, catalog.backup_lead_time, planned_lead)
                more = np.nan_to_num(catalog.backup_unit_cost - items.unit_cost)
                extra_cost = np.where(backup, more, extra_cost)
                late_share = np.where(rows, 0.0, late_share)
                disrupted = True
            case DemandChange(category=c, change=x):
                future[_mask(catalog, c), start:] *= 1.0 + x
            case EventAdded(start=at, periods=p, lift=x, category=c, known=known):
                begin = start + at
                if not start <= begin < horizon:
                    raise ValueError(f"the event starts after the history's {horizon} periods")
                rows = _mask(catalog, c)
                future[rows, begin : begin + p] *= x
                if known:
                    lift[rows, begin : begin + p] *= x
            case ServiceChange(service_level=x, category=c):
                service = np.where(_mask(catalog, c), x, service)
    supply = None
    if disrupted:
        supply = Supply(
            start=start,
            lead_time=actual_lead,
            late_share=late_share,
            late_by=late_by,
            stopped=stopped,
            seed=seed,
        )
    return _Plan(
        demand=future,
        planned=items,
        switched=replace(items, lead_time=planned_lead),
        supply=supply,
        service=service,
        lift=lift,
        extra_cost=extra_cost,
        stopped=stopped,
    )


class _Foresight:
    """Exponential smoothing whose forecast carries a known event's lift: at the review
    after period t, each item's mean is scaled by the average lift over its protection
    interval t + 1 … t + L + 1."""

    def __init__(self, lift: FloatArray, lead_time: IntArray) -> None:
        self.inner = ExponentialForecaster()
        self.t = -1
        horizon = lift.shape[1]
        span = lead_time + 1
        padded = np.concatenate([lift, np.ones((lift.shape[0], int(span.max(initial=1)) + 1))], 1)
        cumulative = np.concatenate([np.zeros((lift.shape[0], 1)), np.cumsum(padded, 1)], 1)
        starts = np.arange(horizon)[None, :] + 1
        ends = starts + span[:, None]
        rows = np.arange(lift.shape[0])[:, None]
        self.factor = (cumulative[rows, ends] - cumulative[rows, starts]) / span[:, None]

    def fit(self, history: FloatArray) -> None:
        self.inner.fit(history)
        self.t = history.shape[1] - 1

    def update(self, demand: FloatArray) -> None:
        self.inner.update(demand)
        self.t += 1

    def forecast(self) -> Forecast:
        seen = self.inner.forecast()
        if not 0 <= self.t < self.factor.shape[1]:
            return seen
        k = self.factor[:, self.t]
        mean_sd = None if seen.mean_sd is None else seen.mean_sd * k
        return Forecast(seen.mean * k, seen.sd * k, mean_sd)


class _Switch:
    """The planner, planning with the scenario's lead times from the drill's start on."""

    def __init__(self, policy: PlannerPolicy, start: int, switched: Items) -> None:
        self.policy = policy
        self.start_period = start
        self.before = policy.items
        self.switched = switched

    def start(self) -> None:
        self.policy.items = self.before
        self.policy.start()

    def levels(self, forecast: Forecast, state: ReviewState) -> tuple[FloatArray, FloatArray]:
        if state.period >= self.start_period:
            self.policy.items = self.switched
        return self.policy.levels(forecast, state)


@dataclass(frozen=True)
class _Pair:
    baseline: SimulationResult
    scenario: SimulationResult
    extra_cost: FloatArray
    stopped: BoolArray


def _replay_pair(
    demand: FloatArray,
    catalog: DrillCatalog,
    scenarios: Sequence[Scenario],
    warmup: int,
    burn_in: int,
    seed: int,
) -> _Pair:
    items = catalog.items
    plan = _scenario(demand, catalog, scenarios, warmup, seed)
    baseline = simulate(
        demand,
        items,
        PlannerPolicy(items, catalog.service_level),
        ExponentialForecaster(),
        warmup=warmup,
        burn_in=burn_in,
    )
    policy = _Switch(PlannerPolicy(items, plan.service), warmup, plan.switched)
    forecaster = (
        _Foresight(plan.lift, plan.switched.lead_time)
        if np.any(plan.lift != 1.0)
        else ExponentialForecaster()
    )
    scenario = simulate(
        plan.demand,
        items,
        policy,
        forecaster,
        warmup=warmup,
        burn_in=burn_in,
        supply=plan.supply,
    )
    return _Pair(baseline, scenario, plan.extra_cost, plan.stopped)


@dataclass(frozen=True)
class DrillResult:
    """Baseline against scenario, per item (`by_item`) and overall (`overall`)."""

    by_item: pl.DataFrame
    overall: dict[str, Any]
    seconds: float


def _figures(result: SimulationResult) -> dict[str, float | int]:
    return {
        "fill_rate": round(result.fill_rate, 6),
        "average_stock_value": round(result.average_value, 2),
        "orders": int(result.orders.sum()),
        "stockout_periods": int(result.stockout_periods.sum()),
    }


def run_drill(
    demand: FloatArray,
    catalog: DrillCatalog,
    scenarios: Sequence[Scenario],
    *,
    warmup: int | None = None,
    seed: int = 0,
    engine: str = "local",
    scheduler: str | None = None,
    chunks: int | None = None,
) -> DrillResult:
    """Replay `demand` (items × periods) as it was and under `scenarios`; compare.

    The first `warmup` periods (default half) are warm-up for both replays; the scenario
    applies from the first measured period. `engine="dask"` spreads chunks of items over a
    Dask cluster (`scheduler`, else the current client, else a local one); `chunks` splits
    the items locally too. Each chunk's planner learns its own service feedback, so chunked
    figures differ slightly from one run over all items.
    """
    import time

    started = time.perf_counter()
    demand = np.ascontiguousarray(demand, dtype=np.float64)
    n, horizon = demand.shape
    if len(catalog.item_ids) != n:
        raise ValueError(f"{n} demand rows but {len(catalog.item_ids)} items")
    if not scenarios:
        raise ValueError("a drill needs at least one scenario")
    warmup = horizon // 2 if warmup is None else warmup
    if not 1 < warmup < horizon:
        raise ValueError(f"warm-up must leave periods to measure: 1 < {warmup} < {horizon}")
    burn_in = max(warmup // 2, 1)
    for scenario in scenarios:
        _check(scenario, catalog)
    if engine not in ("local", "dask"):
        raise ValueError("engine is local or dask")
    parts = chunks or 1
    groups = [g for g in np.array_split(np.arange(n), max(1, min(parts, n))) if g.size]
    args = [(demand[g], catalog.subset(g), scenarios, warmup, burn_in, seed) for g in groups]
    if engine == "dask":
        pairs = _on_dask(args, scheduler, chunks)
    else:
        pairs = [_replay_pair(*a) for a in args]
    return _compare(pairs, catalog, groups, time.perf_counter() - started)


def _on_dask(args: list[tuple[Any, ...]], scheduler: str | None, chunks: int | None) -> list[_Pair]:
    """Run the chunks on Dask; with no `chunks` given, two per worker."""
    import distributed

    make_client: Any = distributed.Client
    try:
        client = make_client(scheduler) if scheduler else distributed.get_client()
        owned = bool(scheduler)
    except ValueError:
        client = make_client(processes=False, n_workers=2, threads_per_worker=1)
        owned = True
    try:
        if chunks is None and len(args) == 1:
            demand, catalog, scenarios, warmup, burn_in, seed = args[0]
            workers = max(1, len(client.scheduler_info().get("workers", {})))
            n = demand.shape[0]
            groups = [g for g in np.array_split(np.arange(n), min(2 * workers, n)) if g.size]
            futures = [
                client.submit(
                    _replay_pair, demand[g], catalog.subset(g), scenarios, warmup, burn_in, seed
                )
                for g in groups
            ]
            parts = client.gather(futures)
            return [_merge(parts, groups, n)]
        return list(client.gather([client.submit(_replay_pair, *a) for a in args]))
    finally:
        if owned:
            client.close()


def _merge(parts: list[_Pair], groups: list[IntArray], n: int) -> _Pair:
    """Chunks' results as one, rows back in the catalogue's order."""

    def join(results: list[SimulationResult]) -> SimulationResult:
        def gather(name: str, dtype: Any) -> Any:
            out = np.zeros(n, dtype=dtype)
            for g, r in zip(groups, results, strict=True):
                out[g] = getattr(r, name)
            return out

        first = results[0]
        return SimulationResult(
            demand=gather("demand", np.float64),
            served=gather("served", np.float64),
            on_hand_sum=gather("on_hand_sum", np.float64),
            orders=gather("orders", np.int64),
            stockout_periods=gather("stockout_periods", np.int64),
            periods=first.periods,
            unit_cost=gather("unit_cost", np.float64),
            seconds=max(r.seconds for r in results),
            forecast_seconds=max(r.forecast_seconds for r in results),
            simulated_periods=first.simulated_periods,
            ordered=gather("ordered", np.float64),
        )

    extra = np.zeros(n)
    stopped = np.zeros(n, dtype=np.bool_)
    for g, p in zip(groups, parts, strict=True):
        extra[g] = p.extra_cost
        stopped[g] = p.stopped
    return _Pair(
        join([p.baseline for p in parts]), join([p.scenario for p in parts]), extra, stopped
    )


def _compare(
    pairs: list[_Pair], catalog: DrillCatalog, groups: list[IntArray], seconds: float
) -> DrillResult:
    n = len(catalog.item_ids)
    pair = pairs[0] if len(pairs) == 1 else _merge(pairs, groups, n)
    base, scen = pair.baseline, pair.scenario
    ordered = np.zeros(n) if scen.ordered is None else scen.ordered
    extra_spend = ordered * pair.extra_cost
    by_item = pl.DataFrame(
        {
            "item": catalog.item_ids,
            "supplier": catalog.supplier,
            "category": catalog.category,
            "baseline_demand": base.demand,
            "scenario_demand": scen.demand,
            "baseline_fill_rate": base.fill_rate_by_item,
            "scenario_fill_rate": scen.fill_rate_by_item,
            "baseline_stock_value": base.average_on_hand_by_item * base.unit_cost,
            "scenario_stock_value": scen.average_on_hand_by_item * scen.unit_cost,
            "baseline_orders": base.orders,
            "scenario_orders": scen.orders,
            "baseline_stockout_periods": base.stockout_periods,
            "scenario_stockout_periods": scen.stockout_periods,
            "no_supply": pair.stopped,
            "backup_extra_spend": extra_spend,
        }
    ).with_columns(
        pl.col("baseline_fill_rate").fill_nan(None),
        pl.col("scenario_fill_rate").fill_nan(None),
        (
            pl.col("scenario_fill_rate").fill_nan(None)
            - pl.col("baseline_fill_rate").fill_nan(None)
        ).alias("fill_rate_change"),
        (pl.col("scenario_stock_value") - pl.col("baseline_stock_value")).alias(
            "stock_value_change"
        ),
        (pl.col("scenario_stockout_periods") - pl.col("baseline_stockout_periods")).alias(
            "stockout_periods_change"
        ),
    )
    baseline, scenario = _figures(base), _figures(scen)
    overall: dict[str, Any] = {
        "items": n,
        "periods_measured": base.periods,
        "baseline": baseline,
        "scenario": scenario,
        "change": {key: round(float(scenario[key]) - float(baseline[key]), 6) for key in baseline},
        "items_without_supply": int(pair.stopped.sum()),
        "backup_extra_spend": round(float(extra_spend.sum()), 2),
        "items_losing_fill": int(by_item.filter(pl.col("fill_rate_change") < -1e-9).height),
    }
    return DrillResult(by_item=by_item, overall=overall, seconds=seconds)
