"""Events and promotions: uplifts estimated from the past and applied to the future."""

from __future__ import annotations

import datetime as dt

import numpy as np
import polars as pl
import pytest

from leanstock.planning.forecast import forecast

START = dt.date(2024, 1, 1)
DAYS = 180


def promo_calendar(uplift: float | None = None) -> pl.DataFrame:
    """A three-day 'Fair' at the start of every month, the last one after the history."""
    starts = [dt.date(2024, m, 1) for m in range(1, 8)]
    return pl.DataFrame(
        {
            "name": ["Fair"] * len(starts),
            "start": starts,
            "end": [s + dt.timedelta(days=2) for s in starts],
            "items": [["cider"]] * len(starts),
            "uplift": [uplift] * len(starts),
        },
        schema_overrides={"uplift": pl.Float64},
    )


def sales_with_fairs(rng: np.random.Generator, item: str) -> pl.DataFrame:
    ds = pl.date_range(START, START + dt.timedelta(days=DAYS - 1), "1d", eager=True)
    fair = np.array([d.day <= 3 for d in ds])
    lift = 3.0 if item == "cider" else 1.0
    qty = rng.poisson(np.where(fair, 10 * lift, 10.0)).astype(float)
    return pl.DataFrame({"item": item, "ds": ds, "qty": qty})


def test_an_uplift_is_estimated_from_past_occurrences_and_applied_to_the_next() -> None:
    rng = np.random.default_rng(1)
    history = pl.concat([sales_with_fairs(rng, "cider"), sales_with_fairs(rng, "water")])

    result = forecast(history, horizon=10, freq="D", events=promo_calendar())

    uplift = result.events.filter(pl.col("name") == "Fair")
    assert uplift["source"][0] == "estimated"
    assert 2.4 <= uplift["uplift"][0] <= 3.6
    cider = result.forecast.filter(pl.col("item") == "cider")
    on_fair = cider.filter(pl.col("ds") <= dt.date(2024, 7, 3))["forecast"].mean()
    after = cider.filter(pl.col("ds") > dt.date(2024, 7, 3))["forecast"].mean()
    assert on_fair is not None
    assert after is not None
    assert 8 <= after <= 12  # type: ignore[operator]  # the fairs did not inflate the baseline
    assert 2.2 <= on_fair / after <= 3.8  # type: ignore[operator]
    water = result.forecast.filter(pl.col("item") == "water")["forecast"]
    assert water.max() - water.min() < 2  # type: ignore[operator]


def test_a_given_uplift_is_used_as_given() -> None:
    rng = np.random.default_rng(2)
    history = sales_with_fairs(rng, "cider")

    result = forecast(history, horizon=6, freq="D", events=promo_calendar(uplift=1.5))

    assert result.events["source"][0] == "given"
    fc = dict(result.forecast.select("ds", "forecast").iter_rows())
    assert fc[dt.date(2024, 7, 2)] / fc[dt.date(2024, 6, 30)] == pytest.approx(1.5, rel=0.05)
    assert fc[dt.date(2024, 7, 4)] / fc[dt.date(2024, 6, 30)] == pytest.approx(1.0, rel=0.05)


def test_an_event_that_ends_before_it_starts_is_refused() -> None:
    from leanstock.planning.forecast import ForecastInputError

    calendar = pl.DataFrame(
        {"name": ["Oops"], "start": [dt.date(2024, 3, 5)], "end": [dt.date(2024, 3, 1)]}
    )
    rng = np.random.default_rng(3)
    with pytest.raises(ForecastInputError, match=r"Oops.*ends before it starts"):
        forecast(sales_with_fairs(rng, "cider"), horizon=3, freq="D", events=calendar)
