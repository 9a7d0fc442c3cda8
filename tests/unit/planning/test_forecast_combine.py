"""Per-series weights of the full pool's members (inverse backtest MSE) and how they combine."""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import polars as pl
import pytest

from leanstock.planning.forecast import conformal, forecast
from leanstock.planning.forecast.conformal import step_profile
from leanstock.planning.forecast.selection import combine_members, inverse_mse_weights


def backtest(errors: dict[str, list[float]], sid: int = 1) -> pl.DataFrame:
    rows = [
        {"sid": sid, "model": model, "t": t, "actual": 10.0, "forecast": 10.0 + e}
        for model, es in errors.items()
        for t, e in enumerate(es)
    ]
    return pl.DataFrame(rows, schema_overrides={"sid": pl.UInt32})


def weight_of(weights: pl.DataFrame, model: str, sid: int = 1) -> float:
    return float(
        weights.filter((pl.col("sid") == sid) & (pl.col("model") == model))["weight"].item()
    )


def test_a_member_with_twice_the_error_gets_a_quarter_of_the_weight() -> None:
    weights = inverse_mse_weights(backtest({"A": [1.0, -1.0], "B": [2.0, -2.0]}))

    assert weight_of(weights, "A") == pytest.approx(1.0)
    assert weight_of(weights, "B") == pytest.approx(0.25)


def test_a_perfect_member_dominates_with_a_finite_weight() -> None:
    weights = inverse_mse_weights(backtest({"A": [0.0, 0.0], "B": [3.0, 3.0]}))

    assert math.isfinite(weight_of(weights, "A"))
    assert weight_of(weights, "A") / weight_of(weights, "B") > 1e6


def test_weights_are_per_series() -> None:
    long = pl.concat(
        [backtest({"A": [1.0], "B": [3.0]}, sid=1), backtest({"A": [3.0], "B": [1.0]}, sid=2)]
    )
    weights = inverse_mse_weights(long)

    assert weight_of(weights, "A", 1) > weight_of(weights, "B", 1)
    assert weight_of(weights, "A", 2) < weight_of(weights, "B", 2)


def forecasts(combine: str) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "sid": [1, 1, 1],
            "t": [0, 0, 0],
            "model": ["A", "B", "C"],
            "forecast": [10.0, 20.0, 60.0],
            "combine": [combine] * 3,
        },
        schema_overrides={"sid": pl.UInt32},
    )


def test_the_median_ignores_the_weights_and_the_weighted_mean_follows_them() -> None:
    weights = pl.DataFrame(
        {"sid": [1, 1, 1], "model": ["A", "B", "C"], "weight": [1.0, 1.0, 2.0]},
        schema_overrides={"sid": pl.UInt32},
    )

    median = combine_members(forecasts("median"), weights)
    weighted = combine_members(forecasts("weighted"), weights)
    mean = combine_members(forecasts("mean"), None)

    assert median["forecast"].to_list() == [20.0]
    assert weighted["forecast"].to_list() == [pytest.approx((10 + 20 + 2 * 60) / 4)]
    assert mean["forecast"].to_list() == [pytest.approx(30.0)]


def backtest_errors(series: int, horizon: int, spread: list[float], seed: int = 3) -> pl.DataFrame:
    rng = np.random.default_rng(seed)
    rows = [
        {
            "sid": sid,
            "cutoff": 100,
            "t": 100 + k,
            "actual": 50.0 + rng.normal(0.0, spread[k - 1]),
            "forecast": 50.0,
            "scale_rmse": 1.0,
        }
        for sid in range(series)
        for k in range(1, horizon + 1)
    ]
    return pl.DataFrame(rows, schema_overrides={"sid": pl.UInt32})


def test_the_step_profile_follows_errors_that_grow_with_the_horizon() -> None:
    spread = [float(k) for k in range(1, 7)]

    profile = step_profile(backtest_errors(200, 6, spread), 6)

    assert len(profile) == 6
    assert profile[0] < 0.5 < 1.2 < profile[-1]
    expected_last = 6 / math.sqrt(sum(s * s for s in spread) / 6)
    assert profile[-1] == pytest.approx(expected_last, rel=0.15)


def test_the_step_profile_never_shrinks_with_the_horizon() -> None:
    profile = step_profile(backtest_errors(200, 5, [3.0, 1.0, 1.0, 4.0, 2.0]), 5)

    assert profile == sorted(profile)


def test_a_group_too_small_to_calibrate_keeps_a_flat_profile() -> None:
    assert step_profile(backtest_errors(5, 4, [1.0, 2.0, 3.0, 4.0]), 4) == [1.0] * 4


def random_walks(series: int, months: int, seed: int = 11) -> pl.DataFrame:
    rng = np.random.default_rng(seed)
    dates = pl.date_range(dt.date(2015, 1, 1), dt.date(2040, 1, 1), "1mo", eager=True)[:months]
    return pl.concat(
        [
            pl.DataFrame(
                {
                    "item": f"walk-{i}",
                    "ds": dates,
                    "qty": 500.0 + np.cumsum(rng.normal(0.0, 10.0, months)),
                }
            )
            for i in range(series)
        ]
    )


@pytest.mark.parametrize("setting", ["off", "full"])
def test_interval_widths_per_step_follow_the_setting(
    monkeypatch: pytest.MonkeyPatch, setting: str
) -> None:
    monkeypatch.setattr(conformal, "STEP_PROFILE", setting)
    monkeypatch.setattr(conformal, "CONFORMAL", "series")  # the profile shapes own offsets

    # Just enough series for the group's step profile to be calibrated (fewer keep it flat
    # whatever the setting), and three years each: the widths grow about 2.2-fold at step 6.
    result = forecast(random_walks(conformal.MIN_SERIES_TO_CALIBRATE + 2, 36), horizon=6, freq="M")

    width = (
        result.forecast.sort("item", "ds")
        .with_columns(step=pl.int_range(pl.len()).over("item") + 1)
        .group_by("step")
        .agg((pl.col("q95") - pl.col("q50")).mean())
        .sort("step")["q95"]
        .to_list()
    )
    if setting == "off":  # one pooled offset for every step of the backtest horizon
        assert width[0] == pytest.approx(width[-1], rel=0.02)
    else:  # a random walk's error grows with the step, and so does the interval
        assert width[-1] > 1.5 * width[0]
