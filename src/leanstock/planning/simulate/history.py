"""The simulator over tables: demand and item tables checked and turned into matrices, the
named policies run over them, and the figures per item back as a frame."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import polars as pl
from scipy import special

from leanstock.planning.simulate.forecasters import (
    Forecaster,
    ForecastFunction,
    HistoryForecaster,
)
from leanstock.planning.simulate.policies import (
    BaseStockPolicy,
    Items,
    PlannerPolicy,
    Policy,
)
from leanstock.planning.simulate.replay import SimulationResult, simulate

FloatArray = npt.NDArray[np.float64]


class SimulationInputError(ValueError):
    """A demand or item table the simulator cannot use, pointing at the offending cell.

    `row` is the 0-based row of the frame (None for a missing column); a CSV reader adds
    its header line to report a file row.
    """

    def __init__(self, table: str, row: int | None, column: str, problem: str) -> None:
        self.table = table
        self.row = row
        self.column = column
        self.problem = problem
        where = f"row {row}, " if row is not None else ""
        super().__init__(f"{table}: {where}column {column}: {problem}")


DEMAND_COLUMNS = ("item", "ds", "qty")
ITEM_COLUMNS = ("item", "lead_time", "unit_cost")
ITEM_DEFAULTS: dict[str, float] = {
    "moq": 0.0,
    "pack_size": 1.0,
    "order_cost": 0.0,
    "holding_rate": 0.0,
}


def _numeric(frame: pl.DataFrame, table: str, column: str) -> FloatArray:
    series = frame.get_column(column)
    values = series.cast(pl.Float64, strict=False)
    bad = values.is_null() | values.is_nan()
    if bad.any():
        row = int(bad.arg_true()[0])
        raise SimulationInputError(table, row, column, f"not a number: {series[row]!r}")
    return values.to_numpy()


def _check(
    values: FloatArray, ok: npt.NDArray[np.bool_], table: str, column: str, rule: str
) -> None:
    if not ok.all():
        row = int(np.argmin(ok))
        raise SimulationInputError(table, row, column, f"{values[row]:g} {rule}")


@dataclass(frozen=True)
class PreparedHistory:
    """Demand as an items × periods matrix plus the items' data, rows aligned."""

    item_ids: list[str]
    periods: list[object]
    demand: FloatArray
    items: Items


def prepare_history(demand: pl.DataFrame, items: pl.DataFrame) -> PreparedHistory:
    """Check the tables and turn them into the simulator's matrices.

    `demand`: `item`, `ds` (period: a date or any sortable label), `qty` (≥ 0); several rows
    for one item and period add up, a missing period is zero demand. `items`: `item`,
    `lead_time` (whole periods ≥ 0), `unit_cost` (≥ 0) and optionally `moq`, `pack_size`,
    `order_cost`, `holding_rate` (per period). Every demand item must be in `items`; items
    without demand rows simulate with zero demand.
    """
    for table, frame, needed in (
        ("demand", demand, DEMAND_COLUMNS),
        ("items", items, ITEM_COLUMNS),
    ):
        for column in needed:
            if column not in frame.columns:
                raise SimulationInputError(table, None, column, "missing column")
    if demand.height == 0:
        raise SimulationInputError("demand", None, "qty", "no demand rows")
    ids = items.get_column("item").cast(pl.Utf8)
    if ids.null_count():
        raise SimulationInputError("items", int(ids.is_null().arg_true()[0]), "item", "empty item")
    duplicated = ids.is_duplicated()
    if duplicated.any():
        row = int(duplicated.arg_true()[1] if duplicated.sum() > 1 else duplicated.arg_true()[0])
        raise SimulationInputError("items", row, "item", f"duplicate item {ids[row]!r}")
    lead = _numeric(items, "items", "lead_time")
    _check(lead, lead >= 0, "items", "lead_time", "is negative; lead times are ≥ 0 periods")
    _check(lead, lead == np.round(lead), "items", "lead_time", "is not a whole number of periods")
    cost = _numeric(items, "items", "unit_cost")
    _check(cost, cost >= 0, "items", "unit_cost", "is negative")
    extra: dict[str, FloatArray] = {}
    for column, default in ITEM_DEFAULTS.items():
        if column in items.columns:
            values = _numeric(
                items.with_columns(pl.col(column).fill_null(default)), "items", column
            )
            ok = values > 0 if column == "pack_size" else values >= 0
            _check(
                values,
                ok,
                "items",
                column,
                "must be > 0" if column == "pack_size" else "is negative",
            )
            extra[column] = values
        else:
            extra[column] = np.full(items.height, default)

    qty = _numeric(demand, "demand", "qty")
    _check(qty, qty >= 0, "demand", "qty", "is negative; demand quantities are ≥ 0")
    demand_ids = demand.get_column("item").cast(pl.Utf8)
    known = demand_ids.is_in(ids.implode())
    if not known.all():
        row = int((~known).arg_true()[0])
        raise SimulationInputError(
            "demand", row, "item", f"unknown item {demand_ids[row]!r} (not in the items table)"
        )
    ds = demand.get_column("ds")
    if ds.null_count():
        raise SimulationInputError("demand", int(ds.is_null().arg_true()[0]), "ds", "empty period")

    periods = ds.unique().sort()
    row_of = {item: i for i, item in enumerate(ids.to_list())}
    item_index = demand_ids.replace_strict(row_of, return_dtype=pl.Int64).to_numpy()
    period_index = (
        ds.to_frame("ds")
        .join(
            periods.to_frame("ds").with_row_index("p"), on="ds", how="left", maintain_order="left"
        )
        .get_column("p")
        .to_numpy()
        .astype(np.int64)
    )
    matrix = np.zeros((items.height, periods.len()))
    np.add.at(matrix, (item_index, period_index), qty)
    return PreparedHistory(
        item_ids=ids.to_list(),
        periods=periods.to_list(),
        demand=matrix,
        items=Items(
            lead_time=lead.astype(np.int64),
            unit_cost=cost,
            moq=extra["moq"],
            pack_size=extra["pack_size"],
            order_cost=extra["order_cost"],
            holding_rate=extra["holding_rate"],
        ),
    )


POLICY_CHOICES = ("auto", "periodic", "baseline")


def simulate_history(
    history: PreparedHistory,
    *,
    policy: str = "auto",
    service_level: float = 0.95,
    fill_rate: bool = False,
    warmup_share: float = 0.5,
    backorders: bool = True,
    forecaster: Forecaster | ForecastFunction | None = None,
    catalog_target: bool = False,
) -> SimulationResult:
    """Run one of the named policies over a prepared history.

    - "auto": the planner (`PlannerPolicy`): (s, S) with an EOQ for items with an order cost
      and a holding rate, (R, S) otherwise, for the service target;
    - "periodic": the planner with order costs ignored, (R, S) for every item;
    - "baseline": `BaseStockPolicy` with z = Φ⁻¹(service level) on the plain history mean
      and standard deviation.

    `warmup_share` of the periods is warm-up (fitting only). With `catalog_target` the
    service level is one fill-rate target for the whole catalogue, weighted by demand, and
    the planner's per-item targets are allocated to it at the least stock value
    (`PlannerPolicy.catalog_target`).
    """
    if catalog_target and not fill_rate:
        raise ValueError("a catalogue target is a fill rate: add --fill-rate")
    if catalog_target and policy == "baseline":
        raise ValueError("a catalogue target allocates the planner's targets: use auto or periodic")
    if policy not in POLICY_CHOICES:
        raise ValueError(f"policy must be one of {POLICY_CHOICES}, not {policy!r}")
    if not 0.0 < service_level < 1.0:
        raise ValueError("service level must be between 0 and 1")
    horizon = history.demand.shape[1]
    if horizon < 3:
        raise ValueError(f"need at least 3 periods of demand to simulate, got {horizon}")
    warmup = min(max(round(warmup_share * horizon), 1), horizon - 1)
    items = history.items
    n = len(history.item_ids)
    chosen: Policy
    if policy == "baseline":
        chosen = BaseStockPolicy(items, float(special.ndtri(service_level)))
        forecaster = forecaster or HistoryForecaster()
    else:
        if policy == "periodic":
            items = Items(
                lead_time=items.lead_time,
                unit_cost=items.unit_cost,
                moq=items.moq,
                pack_size=items.pack_size,
                order_cost=np.zeros(n),
                holding_rate=np.zeros(n),
            )
        chosen = PlannerPolicy(
            items,
            np.full(n, service_level),
            fill_rate=fill_rate,
            catalog_target=service_level if catalog_target else None,
        )
    return simulate(
        history.demand,
        items,
        chosen,
        forecaster,
        warmup=warmup,
        burn_in=max(warmup // 2, 1),
        backorders=backorders,
    )


def results_by_item(result: SimulationResult, item_ids: list[str]) -> pl.DataFrame:
    """Per-item figures as a frame: demand, fill rate, cycle service, stock, orders."""
    return pl.DataFrame(
        {
            "item": item_ids,
            "demand": result.demand,
            "fill_rate": result.fill_rate_by_item,
            "cycle_service_level": result.cycle_service_by_item,
            "average_on_hand": result.average_on_hand_by_item,
            "average_on_hand_value": result.average_on_hand_by_item * result.unit_cost,
            "orders": result.orders,
            "stockout_periods": result.stockout_periods,
        }
    ).with_columns(pl.col("fill_rate").fill_nan(None))


@dataclass(frozen=True)
class CatalogComparison:
    """One catalogue target against one target per item, on the same replay."""

    catalog: SimulationResult
    per_item: SimulationResult

    @property
    def saving(self) -> float:
        """Share of the average stock value saved by the catalogue target."""
        per_item = self.per_item.average_value
        return 1.0 - self.catalog.average_value / per_item if per_item > 0 else 0.0

    def overall(self) -> dict[str, float]:
        """The comparison's figures, JSON-ready."""
        return {
            "per_item_fill_rate": round(self.per_item.fill_rate, 6),
            "per_item_average_on_hand_value": round(self.per_item.average_value, 4),
            "catalog_fill_rate": round(self.catalog.fill_rate, 6),
            "catalog_average_on_hand_value": round(self.catalog.average_value, 4),
            "saving_value": round(self.per_item.average_value - self.catalog.average_value, 4),
            "saving": round(self.saving, 6),
        }


def compare_catalog_target(
    history: PreparedHistory,
    *,
    policy: str = "auto",
    service_level: float = 0.95,
    warmup_share: float = 0.5,
    backorders: bool = True,
    forecaster: Forecaster | ForecastFunction | None = None,
) -> CatalogComparison:
    """Replay the history with `service_level` as the catalogue's fill-rate target and as
    every item's, and report both: the money the catalogue target saves."""

    def run(catalog: bool) -> SimulationResult:
        return simulate_history(
            history,
            policy=policy,
            service_level=service_level,
            fill_rate=True,
            warmup_share=warmup_share,
            backorders=backorders,
            forecaster=forecaster,
            catalog_target=catalog,
        )

    return CatalogComparison(catalog=run(True), per_item=run(False))
