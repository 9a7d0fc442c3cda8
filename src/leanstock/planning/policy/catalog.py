"""One fill-rate target for the whole catalogue, met at the least money in stock.

A company says "95% of demand served from the shelf, overall". One 95% target per item
reaches that, but spends as much on a costly part as on a cheap one for the same filled
demand. Marginal analysis instead puts each next unit of stock where it buys the most filled
demand per unit of money, until the catalogue's demand-weighted fill rate reaches the target
(Sherbrooke 2004, *Optimal Inventory Modeling of Systems*, §2.4–2.6, for spare parts; the
greedy allocation is optimal on the convex hull of each item's cost-service curve, Fox 1966).

Per item, along a grid of levels S (order-up-to for periodic review, reorder point for
(s, S)), with demand over the protection interval P = L + R and over the lead time L as the
planner sizes it (`protection_moments`, normal or count distributions):

- filled demand per period f(S) = μ_d·(1 − ESPC(S)/C), ESPC(S) = n_P(S) − n_L(S) the expected
  shortage per cycle and C the demand per cycle (one review's demand, or the order quantity
  after MOQ and pack rounding when larger) — the planner's own fill-rate maths;
- money in stock v(S) = c·(E[(S − D_P)⁺] + (C − μ_d·R)/2), the expected stock on hand at the
  end of a period plus the extra cycle stock of an order larger than a review's demand.

For a price θ of one unit of filled demand per period, each item takes the level maximising
f(S) − v(S)/θ; the catalogue's filled demand grows with θ, and θ is found by bisection as the
least that reaches the target. These are exactly the points the one-unit-at-a-time greedy
marginal analysis passes through (the Lagrangian form of Sherbrooke's method, Everett 1963),
computed for all items at once. Each item's fill-rate target is then its fill at the chosen
level, which the planner turns back into a level with its current forecast.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import polars as pl

from leanstock.planning.policy.distributions import count_losses, normal_loss

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]

SAFETY_FACTORS = np.concatenate([np.linspace(-3.0, 1.0, 41), np.linspace(1.05, 5.0, 80)])
"""Levels tried per item: μ_P + k·σ_P for these k (whole units for count demand), and 0."""


@dataclass(frozen=True)
class ServiceAllocation:
    """Per-item fill-rate targets that reach a catalogue target at the least stock value."""

    service: FloatArray
    """The fill-rate target per item (what the planner is given)."""
    level: FloatArray
    """The level chosen in the allocation (the planner recomputes it from its forecast)."""
    fill: FloatArray
    """Modelled fill rate per item at that level."""
    value: FloatArray
    """Modelled average stock value per item at that level."""
    uniform_value: FloatArray
    """Modelled average stock value per item with the catalogue target as every item's."""
    catalog_fill: float
    """Modelled catalogue fill rate (demand-weighted) of the allocation."""

    @property
    def total_value(self) -> float:
        return float(self.value.sum())

    @property
    def uniform_total_value(self) -> float:
        return float(self.uniform_value.sum())

    @property
    def saving(self) -> float:
        """Share of the stock value saved against one target per item (modelled)."""
        uniform = self.uniform_total_value
        return 1.0 - self.total_value / uniform if uniform > 0 else 0.0


def _f(x: npt.ArrayLike) -> FloatArray:
    return np.asarray(x, dtype=np.float64)


def service_curves(
    demand_mean: npt.ArrayLike,
    mean_p: npt.ArrayLike,
    sd_p: npt.ArrayLike,
    mean_l: npt.ArrayLike,
    sd_l: npt.ArrayLike,
    cycle: npt.ArrayLike,
    review: npt.ArrayLike,
    unit_cost: npt.ArrayLike,
    count: npt.ArrayLike,
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """(levels, fill rate, stock value) per item (rows) and candidate level (columns).

    See the module docstring for the formulas. Column 0 is the level 0 (hold nothing).
    """
    mu, mp, sp, ml, sl, c, r, cost = np.broadcast_arrays(
        _f(demand_mean),
        _f(mean_p),
        _f(sd_p),
        _f(mean_l),
        _f(sd_l),
        _f(cycle),
        _f(review),
        _f(unit_cost),
    )
    discrete = np.broadcast_to(np.asarray(count, dtype=np.bool_), mu.shape)
    levels = np.maximum(mp[:, None] + sp[:, None] * SAFETY_FACTORS[None, :], 0.0)
    levels = np.where(discrete[:, None], np.round(levels), levels)
    levels = np.concatenate([np.zeros((len(mu), 1)), levels], axis=1)
    loss_p = np.empty_like(levels)
    loss_l = np.empty_like(levels)
    smooth = ~discrete
    if smooth.any():
        loss_p[smooth] = normal_loss(levels[smooth], mp[smooth, None], sp[smooth, None])
        loss_l[smooth] = normal_loss(levels[smooth], ml[smooth, None], sl[smooth, None])
    if discrete.any():
        grid = levels[discrete].astype(np.int64)
        top = int(grid.max(initial=0))
        loss_p[discrete] = np.take_along_axis(
            count_losses(mp[discrete], sp[discrete] ** 2, top), grid, axis=1
        )
        has_l = ml[discrete] > 0
        lead = count_losses(np.where(has_l, ml[discrete], 0.0), sl[discrete] ** 2, top)
        loss_l[discrete] = np.take_along_axis(lead, grid, axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        short = np.where(c[:, None] > 0, (loss_p - loss_l) / c[:, None], 0.0)
    fill = np.clip(1.0 - short, 0.0, 1.0)
    on_hand = levels - mp[:, None] + loss_p + np.maximum(c - mu * r, 0.0)[:, None] / 2.0
    value = cost[:, None] * np.maximum(on_hand, 0.0)
    return levels, fill, value


def allocate_fill_rates(
    demand_mean: npt.ArrayLike,
    mean_p: npt.ArrayLike,
    sd_p: npt.ArrayLike,
    mean_l: npt.ArrayLike,
    sd_l: npt.ArrayLike,
    cycle: npt.ArrayLike,
    review: npt.ArrayLike,
    unit_cost: npt.ArrayLike,
    count: npt.ArrayLike,
    target: float,
) -> ServiceAllocation:
    """Per-item fill-rate targets reaching `target` over the catalogue at the least value.

    Arguments per item (arrays, broadcast together): demand per period μ_d, demand over the
    protection interval (mean_p, sd_p) and over the lead time (mean_l, sd_l), the demand per
    cycle C, the review period R, the unit cost c, and whether count maths apply (see
    `service_curves`). The catalogue fill rate is Σ μ_d·fill / Σ μ_d. Items without demand
    keep the target (they hold nothing either way). A target no level grid can reach gives
    every item its highest level.
    """
    if not 0.0 < target < 1.0:
        raise ValueError("the catalogue fill-rate target must be between 0 and 1")
    mu = np.maximum(_f(demand_mean), 0.0)
    levels, fill, value = service_curves(
        mu, mean_p, sd_p, mean_l, sd_l, cycle, review, unit_cost, count
    )
    weight = np.broadcast_to(mu, (levels.shape[0],)).astype(np.float64)
    filled = weight[:, None] * fill
    total = float(weight.sum())
    rows = np.arange(levels.shape[0])

    def choose(price: float) -> npt.NDArray[np.int64]:
        return np.asarray(np.argmax(filled - value / price, axis=1), dtype=np.int64)

    def reached(choice: npt.NDArray[np.int64]) -> float:
        return float(filled[rows, choice].sum()) / total if total > 0 else 1.0

    lo, hi = -30.0, 30.0  # log of the price of a unit of filled demand per period
    best = choose(float(np.exp(hi)))
    if reached(best) >= target:
        for _ in range(60):
            mid = (lo + hi) / 2.0
            choice = choose(float(np.exp(mid)))
            if reached(choice) >= target:
                hi, best = mid, choice
            else:
                lo = mid
    chosen_fill = fill[rows, best]
    uniform = np.argmax(fill >= target - 1e-12, axis=1)
    uniform = np.where((fill >= target - 1e-12).any(axis=1), uniform, levels.shape[1] - 1)
    service = np.where(weight > 0, chosen_fill, target)
    return ServiceAllocation(
        service=service,
        level=levels[rows, best],
        fill=chosen_fill,
        value=value[rows, best],
        uniform_value=value[rows, uniform],
        catalog_fill=reached(best),
    )


@dataclass(frozen=True)
class CatalogPlan:
    """A planner frame's per-item fill-rate targets for one catalogue target, and what the
    allocation models against one target per item."""

    service: FloatArray
    """Per row of the frame: its fill-rate target (the catalogue target where not buffered)."""
    allocation: ServiceAllocation | None
    """Over the buffered rows with demand (None: there are none)."""


def catalog_targets(planned: pl.DataFrame, target: float) -> CatalogPlan:
    """Per-row fill-rate targets reaching `target` over the buffered rows of `planned` (the
    output of `plan.plan_policies` run with `target` as every row's fill rate) at the least
    modelled stock value: the planner's own demand over the protection interval and the lead
    time, review period, order quantity (MOQ and pack rounding included), unit cost and
    distribution (`allocate_fill_rates`). Rows the planner does not buffer (kanban, to order)
    keep the target."""
    from leanstock.planning.policy.distributions import protection_moments
    from leanstock.planning.policy.frames import column
    from leanstock.planning.policy.kinds import BUFFERED
    from leanstock.planning.policy.plan import Z_90

    if not 0.0 < target < 1.0:
        raise ValueError("the catalogue fill-rate target must be between 0 and 1")
    policy = planned.get_column("policy").to_numpy().astype(str)
    mu = np.maximum(np.nan_to_num(column(planned, "demand_mean")), 0.0)
    lt = np.maximum(np.nan_to_num(column(planned, "lead_time_mean")), 0.0)
    review = np.maximum(np.nan_to_num(column(planned, "protection_interval")) - lt, 0.0)
    mean_p = np.nan_to_num(column(planned, "lead_time_demand_mean"))
    sd_p = np.nan_to_num(column(planned, "lead_time_demand_sd"))
    lt_sd = np.maximum(np.nan_to_num(column(planned, "lead_time_sd")), 0.0)
    # The planner's σ of demand per period: the forecast error's, else from its p90.
    sd_in = column(planned, "demand_sd")
    p90 = column(planned, "demand_p90")
    sd = np.where(np.isnan(sd_in), np.maximum(p90 - mu, 0.0) / Z_90, sd_in)
    sd = np.maximum(np.nan_to_num(sd), 0.0)
    mean_sd = np.maximum(np.nan_to_num(column(planned, "demand_mean_sd")), 0.0)
    mean_l, sd_l = protection_moments(mu, sd, lt, lt_sd, 0.0, mean_sd)
    cycle = np.maximum(np.nan_to_num(column(planned, "order_quantity")), mu * review)
    count = np.isin(planned.get_column("distribution").to_numpy().astype(str), COUNT_KINDS)
    unit_cost = np.nan_to_num(column(planned, "unit_cost"), nan=1.0)
    chosen = np.isin(policy, BUFFERED) & (mu > 0) & (cycle > 0)
    service = np.full(len(mu), target)
    if not chosen.any():
        return CatalogPlan(service, None)
    allocation = allocate_fill_rates(
        mu[chosen],
        mean_p[chosen],
        sd_p[chosen],
        mean_l[chosen],
        sd_l[chosen],
        cycle[chosen],
        review[chosen],
        unit_cost[chosen],
        count[chosen],
        target,
    )
    service[chosen] = allocation.service
    return CatalogPlan(service, allocation)


COUNT_KINDS = ("poisson", "negative_binomial")
