"""Daily demand with a yearly season: recovered from two years of history, not from less."""

from __future__ import annotations

import datetime as dt

import numpy as np
import polars as pl
import pytest

from leanstock.planning.forecast import forecast
from leanstock.planning.forecast.yearly import YEAR_DAYS, yearly_factors

START = dt.date(2021, 1, 4)
WEEKDAY = np.array([1.0, 1.0, 1.1, 1.1, 1.3, 1.6, 0.6])


def yearly_shape(days: np.ndarray) -> np.ndarray:
    """A summer peak: +50 % in July, −50 % in January."""
    t = np.array([(START + dt.timedelta(days=int(d))).toordinal() for d in days], dtype=float)
    july = dt.date(2021, 7, 15).toordinal()
    return 1 + 0.5 * np.cos(2 * np.pi * (t - july) / YEAR_DAYS)


def ice_cream(days: int, seed: int, level: float = 40.0) -> pl.DataFrame:
    rng = np.random.default_rng(seed)
    d = np.arange(days)
    weekday = np.array([(START + dt.timedelta(days=int(i))).weekday() for i in d])
    qty = rng.poisson(level * yearly_shape(d) * WEEKDAY[weekday])
    return pl.DataFrame(
        {
            "item": f"ice-{seed}",
            "ds": pl.date_range(START, START + dt.timedelta(days=days - 1), "1d", eager=True),
            "qty": qty.astype(float),
        }
    )


def test_the_yearly_shape_of_a_daily_series_is_recovered() -> None:
    history = ice_cream(3 * 365, seed=1)
    frame = history.select(
        sid=pl.lit(0, pl.UInt32), t=pl.col("ds").cast(pl.Int64), qty=pl.col("qty")
    )

    season = yearly_factors(frame)

    assert season is not None
    days = np.arange(3 * 365, 4 * 365)
    rows = pl.DataFrame(
        {
            "sid": np.zeros(days.size, dtype=np.uint32),
            "t": [(START + dt.timedelta(days=int(d))) for d in days],
        }
    ).with_columns(pl.col("t").cast(pl.Int64))
    factor = season.factors(rows)["factor"].to_numpy()
    assert np.abs(factor - yearly_shape(days)).max() < 0.12


def test_noise_gets_no_yearly_season() -> None:
    rng = np.random.default_rng(5)
    frame = pl.DataFrame(
        {
            "sid": np.zeros(1000, dtype=np.uint32),
            "t": np.arange(18_000, 19_000),
            "qty": rng.poisson(0.3, size=1000).astype(float),
        }
    )
    season = yearly_factors(frame)
    assert (
        season is None
        or season.coefficients.select(pl.exclude("sid").abs().max()).max_horizontal()[0] < 0.1
    )


@pytest.mark.slow
def test_a_daily_forecast_follows_the_yearly_season_from_two_years_on() -> None:
    """Forecast the spring rise from three years of history; with one year, no season."""
    days, horizon = 3 * 365 + 60, 56  # the history ends early March
    history = pl.concat([ice_cream(days, seed=s) for s in range(3)])
    future = np.arange(days, days + horizon)
    truth = (
        40
        * yearly_shape(future)
        * WEEKDAY[[(START + dt.timedelta(days=int(d))).weekday() for d in future]]
    )

    result = forecast(history, horizon=horizon, freq="D")

    fc = result.forecast.filter(pl.col("item") == "ice-0").sort("ds")["forecast"].to_numpy()
    assert fc.size == horizon
    assert fc[-14:].mean() > 1.15 * fc[:14].mean()  # demand rises into spring
    assert np.abs(fc - truth).mean() < 0.15 * truth.mean()

    short = forecast(ice_cream(365 + 60, seed=0), horizon=horizon, freq="D")
    flat = short.forecast.sort("ds")["forecast"].to_numpy()
    assert flat[-14:].mean() < 1.1 * flat[:14].mean()  # one year shows no yearly season
