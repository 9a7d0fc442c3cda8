"""How much history each series has, and what that history can be asked.

History rules (per frequency, season m, horizon h):

- `new`: fewer than min(2h, m) periods (and at least 4): too short for any model of trend;
  the mean so far serves, with Poisson quantiles.
- short: too short for the standard backtest; the backtest shrinks to fit (fewer origins,
  a shorter horizon), and trend models (damped ETS, Theta, ARIMA without a season) serve.
- seasonal: two whole seasons before the first backtest origin, so seasonal models can be
  fitted in every backtest window.

Series of one plan form one backtest group; short histories are banded by length
(geometric bands of ratio 3/2) so that a series is never judged on a window shorter than
what its band's shortest member allows.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl

MIN_NEW_LENGTH = 4
BAND_RATIO = 1.5
MIN_LIKELIHOOD_TRAIN = 8
"""The shortest backtest fit of the full pool: statsforecast's ETS, CES and Theta refuse a
history of n ≤ p + 4 periods (p their parameters: 2 for simple smoothing), and a group whose
fit fails falls back entirely to the short-history models."""


@dataclass(frozen=True)
class BacktestPlan:
    """Rolling-origin windows: `windows` origins `step` apart, each forecasting `horizon`.

    `min_train` is the shortest training history; `train_window` (if set) caps the
    history each backtest fit sees, which keeps daily backtests cheap.
    """

    horizon: int
    windows: int
    step: int
    min_train: int
    train_window: int | None

    @property
    def span(self) -> int:
        return self.horizon + (self.windows - 1) * self.step

    @property
    def min_length(self) -> int:
        return self.min_train + self.span


def backtest_plan(freq: str, horizon: int, thorough: bool) -> BacktestPlan:
    """Backtest windows per frequency, sized to the forecast horizon (capped).

    Monthly: three origins six months apart, 12 months ahead (36 residuals per series);
    weekly: three origins, 13 weeks ahead. Daily: one origin, the last 28 days, each fit
    seeing only the 26 weeks before it: on 30,490 × 1,941 days this keeps the backtest
    near the cost of the final fit; `thorough` uses two origins and the full history.
    Horizons beyond the backtest horizon reuse its residuals for their quantiles.
    """
    if freq == "M":
        h = min(horizon, 12)
        return BacktestPlan(h, 3, max(1, h // 2), 12, None)
    if freq == "W":
        h = min(horizon, 13)
        return BacktestPlan(h, 3, max(1, h // 2), 13, None)
    h = min(horizon, 28)
    if thorough:
        return BacktestPlan(h, 2, h, 56, None)
    return BacktestPlan(h, 1, h, 56, 182)


def new_length(horizon: int, season: int) -> int:
    """Below this many periods a series is `new`: min(2h, m), at least 4."""
    return max(MIN_NEW_LENGTH, min(2 * horizon, season))


def short_plan(
    plan: BacktestPlan, shortest: int, least_train: int = MIN_NEW_LENGTH
) -> BacktestPlan:
    """The standard plan shrunk to fit a history of `shortest` periods.

    At least half the history (and at least `least_train` periods, at most the standard
    minimum) trains; the rest is backtested, with as many of the standard origins as fit.
    The full pool passes MIN_LIKELIHOOD_TRAIN, the shortest fit its models accept.
    """
    if shortest >= plan.min_length:
        return plan
    floor = max(least_train, min(plan.min_train, shortest // 2))
    available = max(1, shortest - floor)
    h = max(1, min(plan.horizon, available))
    step = max(1, h // 2)
    windows = max(1, min(plan.windows, 1 + (available - h) // step))
    return BacktestPlan(h, windows, step, max(1, shortest - h - (windows - 1) * step), None)


def length_bands(n: pl.Expr, plan: BacktestPlan, new: int) -> pl.Expr:
    """The shortest length of each series' band: the standard minimum, or a geometric band."""
    ratio = np.log(BAND_RATIO)
    band = (n.cast(pl.Float64) / new).log().truediv(ratio).floor()
    banded = (band * ratio).exp().mul(new).round(6).floor().cast(pl.Int64).clip(upper_bound=n)
    return pl.when(n >= plan.min_length).then(pl.lit(plan.min_length)).otherwise(banded)


FULL_POOL_POINTS = 60_000
FULL_POOL_SHARE = 0.001
_FULL_POOL_CLASSES = ("smooth", "erratic")
FULL_POOL_WITH_ZEROS = False
"""Whether a history holding a zero may take the full pool. False since issue 17's sixth
pass: positive histories only, where the multiplicative ETS forms and CES on the logarithm
(`models.LogCES`) can serve; a history with a zero takes the cheap pool, whose intermittent
and count models suit it (chosen on the carparts and M1 validation windows,
docs/forecasting.md)."""


def full_pool(classes: pl.DataFrame, thorough: bool) -> pl.Expr:
    """Which series get the full pool: the most valuable smooth and erratic ones, in budget.

    `classes` has sid, n, demand_class and value (recent demand). The budget is in periods
    fitted, FULL_POOL_POINTS plus FULL_POOL_SHARE of the whole catalog's history, so it
    grows with the catalog: every series of a catalog of a thousand monthly histories (M1:
    44,000 periods), the largest sixty of 30,000 daily ones of five years. An ETS fit costs
    about 0.7 ms a period on a quiet core of this 2-core machine (three fits a series:
    two backtest origins and the final one), so the budget buys about 40 s of fitting plus
    0.1 % of the catalog; since the backtest refits the final fit's ETS form (a sixth of
    the search), M1's whole catalog costs about 48 CPU-s in all (about 15 % more with CES
    on the logarithm as a fourth member, fifth pass). Series are taken in order of value
    until the budget is spent. Only positive histories are eligible (`FULL_POOL_WITH_ZEROS`:
    ADI 1, no period without demand). `thorough` gives the full pool to every eligible series.
    """
    eligible = pl.col("demand_class").is_in(list(_FULL_POOL_CLASSES))
    if not FULL_POOL_WITH_ZEROS:
        eligible = eligible & (pl.col("adi") <= 1.0)
    if thorough:
        return eligible
    budget = FULL_POOL_POINTS + FULL_POOL_SHARE * float(classes["n"].sum())
    ranked = (
        classes.filter(eligible)
        .sort(["value", "sid"], descending=[True, False])
        .with_columns(spent=pl.col("n").cum_sum())
        .filter(pl.col("spent") <= budget)
    )
    return eligible & pl.col("sid").is_in(ranked["sid"].implode())
