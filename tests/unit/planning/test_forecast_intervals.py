"""Quantile offsets pooled over a group's series, scaled per series and per step ahead."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest
from scipy.stats import norm

from leanstock.planning.forecast import forecast, selection
from leanstock.planning.forecast.plans import BacktestPlan
from leanstock.planning.forecast.selection import pooled_offsets, step_offsets

QS = (0.5, 0.9)
SPREAD = [1.0, 1.5, 2.0, 2.5]


def group(series: int, seed: int = 5) -> tuple[pl.DataFrame, pl.DataFrame, list[float]]:
    """Backtest errors (two origins, four steps) of series whose scale is 1, 2, 3 …

    Each series' history is a random walk of that step size (so its RMSSE scale is about
    its number), and its backtest error at step k is normal with sd scale × SPREAD[k].
    """
    rng = np.random.default_rng(seed)
    sigmas = [1.0 + (i % 4) for i in range(series)]
    history, errors = [], []
    for sid, sigma in enumerate(sigmas):
        walk = 100.0 + np.cumsum(rng.normal(0.0, sigma, 400))
        history += [{"sid": sid, "t": t, "qty": float(q)} for t, q in enumerate(walk)]
        for cutoff in (390, 394):
            for k in range(1, 5):
                errors.append(
                    {
                        "sid": sid,
                        "cutoff": cutoff,
                        "t": cutoff + k,
                        "forecast": 100.0,
                        "actual": 100.0 + rng.normal(0.0, sigma * SPREAD[k - 1]),
                        "scale_rmse": sigma,
                    }
                )
    schema = {"sid": pl.UInt32}
    return (
        pl.DataFrame(errors, schema_overrides=schema),
        pl.DataFrame(history, schema_overrides=schema),
        sigmas,
    )


def own_offsets(combined: pl.DataFrame) -> pl.DataFrame:
    plan = BacktestPlan(horizon=4, windows=2, step=4, min_train=8, train_window=None)
    offsets, _ = step_offsets(combined, pl.DataFrame(), QS, plan, pooled=False)
    return offsets.drop("backtest_horizon")


def test_pooled_offsets_follow_each_series_scale_and_the_steps_spread() -> None:
    combined, history, sigmas = group(400)

    offsets = pooled_offsets(combined, history, QS, 4, own_offsets(combined)).sort("sid")

    q90 = np.array(offsets["q90"].to_list())
    assert q90.shape == (400, 4)
    for sid in (0, 3):  # scales 1 and 4
        sigma = sigmas[sid]
        expected = [sigma * s * norm.ppf(0.9) for s in SPREAD]
        assert q90[sid] == pytest.approx(expected, rel=0.2)
    assert np.all(np.diff(q90, axis=1) >= 0)  # wider with every step
    assert np.abs(np.array(offsets["q50"].to_list())).max() < 0.5


def test_a_constant_history_and_a_small_group_keep_their_own_offsets() -> None:
    combined, history, _ = group(40)
    flat = history.with_columns(
        qty=pl.when(pl.col("sid") == 0).then(pl.lit(7.0)).otherwise(pl.col("qty"))
    )
    own = own_offsets(combined)

    offsets = pooled_offsets(combined, flat, QS, 4, own).sort("sid")
    small = pooled_offsets(combined.filter(pl.col("sid") < 10), history, QS, 4, own)

    assert offsets.filter(pl.col("sid") == 0)["q90"].to_list() == (
        own.filter(pl.col("sid") == 0)["q90"].to_list()
    )
    assert offsets.filter(pl.col("sid") == 1)["q90"].to_list() != (
        own.filter(pl.col("sid") == 1)["q90"].to_list()
    )
    assert small.sort("sid").equals(own.sort("sid"))


def random_walks(series: int, months: int, seed: int = 17) -> pl.DataFrame:
    rng = np.random.default_rng(seed)
    dates = pl.date_range(pl.date(2010, 1, 1), pl.date(2040, 1, 1), "1mo", eager=True)[:months]
    return pl.concat(
        [
            pl.DataFrame(
                {
                    "item": f"walk-{i}",
                    "ds": dates,
                    "qty": 500.0 + np.cumsum(rng.normal(0.0, 5.0 * (1 + i % 3), months)),
                }
            )
            for i in range(series)
        ]
    )


def test_pooled_intervals_widen_with_the_step_and_cover_a_holdout(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(selection, "CONFORMAL", "pooled")
    walks = random_walks(60, 66)
    n = pl.int_range(pl.len()).over("item")
    history, held = walks.filter(n < 60), walks.filter(n >= 60)

    result = forecast(history, horizon=6, freq="M")

    fc = result.forecast.sort("item", "ds").with_columns(
        step=pl.int_range(pl.len()).over("item") + 1
    )
    width = fc.group_by("step").agg((pl.col("q90") - pl.col("q50")).mean()).sort("step")
    assert width["q90"][-1] > 1.5 * width["q90"][0]
    scored = fc.join(held.with_columns(pl.col("ds").cast(pl.Date)), on=["item", "ds"])
    assert scored.height == 360
    coverage = (scored["qty"] <= scored["q90"]).mean()
    assert 0.8 <= float(coverage) <= 0.98  # type: ignore[arg-type]
