"""History rules that fit the frequency: what is new, what is short, what is seasonal."""

from __future__ import annotations

import datetime as dt

import numpy as np
import polars as pl
from hypothesis import given
from hypothesis import strategies as st

from leanstock.planning.forecast import forecast
from leanstock.planning.forecast.plans import backtest_plan, new_length, short_plan


def monthly(item: str, values: np.ndarray) -> pl.DataFrame:
    months = pl.date_range(dt.date(2019, 1, 1), dt.date(2040, 1, 1), "1mo", eager=True)
    return pl.DataFrame({"item": item, "ds": months[: len(values)], "qty": values.astype(float)})


def test_new_means_shorter_than_two_horizons_or_one_season() -> None:
    assert new_length(horizon=18, season=12) == 12  # monthly: a year
    assert new_length(horizon=3, season=12) == 6  # monthly, short horizon: two horizons
    assert new_length(horizon=28, season=7) == 7  # daily: a week
    assert new_length(horizon=8, season=52) == 16  # weekly: two horizons
    assert new_length(horizon=1, season=7) == 4  # never fewer than four periods


@given(st.sampled_from(["D", "W", "M"]), st.integers(1, 60), st.booleans(), st.integers(4, 400))
def test_a_short_plan_always_fits_the_history_it_is_made_for(
    freq: str, horizon: int, thorough: bool, shortest: int
) -> None:
    plan = backtest_plan(freq, horizon, thorough)
    fitted = short_plan(plan, shortest)
    assert fitted.min_length <= max(shortest, plan.min_length)
    assert fitted.horizon >= 1
    assert fitted.windows >= 1
    assert fitted.min_train >= 1
    if shortest < plan.min_length:
        assert fitted.min_train >= min(4, shortest // 2)


def test_thirty_months_are_not_new_and_their_trend_is_followed() -> None:
    rng = np.random.default_rng(3)
    t = np.arange(30)
    rising = 100 + 4 * t + rng.normal(0, 3, size=30)
    history = pl.concat(
        [monthly("rising", rising), monthly("launched", np.array([5, 6, 5, 7, 6, 5.0]))]
    )

    result = forecast(history, horizon=18, freq="M")

    classes = dict(result.classes.select("item", "demand_class").iter_rows())
    assert classes["rising"] == "smooth"
    assert classes["launched"] == "new"
    seasonal = dict(result.classes.select("item", "seasonal").iter_rows())
    assert seasonal["rising"] is False  # fewer than two seasons before the backtest
    fc = result.forecast.filter(pl.col("item") == "rising").sort("ds")["forecast"].to_numpy()
    truth = 100 + 4 * np.arange(30, 48)
    assert fc[-1] > fc[0] + 20  # the forecast keeps rising
    assert np.abs(fc - truth).mean() < 0.1 * truth.mean()
    assert np.abs(fc - truth).mean() < 0.5 * np.abs(rising.mean() - truth).mean()


def test_two_seasons_before_the_backtest_make_a_series_seasonal() -> None:
    t = np.arange(60)
    wave = 100 * (1 + 0.3 * np.sin(2 * np.pi * t / 12))

    result = forecast(monthly("wave", wave), horizon=12, freq="M")

    assert result.classes["seasonal"].to_list() == [True]
    fc = result.forecast["forecast"].to_numpy()
    truth = 100 * (1 + 0.3 * np.sin(2 * np.pi * np.arange(60, 72) / 12))
    assert np.abs(fc - truth).mean() < 5
