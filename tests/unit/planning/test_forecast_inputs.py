"""Bad input to the forecasting engine fails early with a message that names the problem."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import polars as pl
import pytest

from leanstock.planning.forecast import ForecastInputError, forecast


def history(**overrides: Sequence[object]) -> pl.DataFrame:
    days = [dt.date(2024, 1, 1) + dt.timedelta(days=i) for i in range(40)]
    columns: dict[str, list[object]] = {
        "item": ["jam"] * 40,
        "ds": list(days),
        "qty": [float(i % 5) for i in range(40)],
    }
    columns.update({name: list(values) for name, values in overrides.items()})
    return pl.DataFrame(columns)


def test_an_unknown_frequency_is_named() -> None:
    with pytest.raises(ForecastInputError, match=r"Unknown frequency 'H'"):
        forecast(history(), horizon=3, freq="H")


def test_a_horizon_of_zero_is_refused() -> None:
    with pytest.raises(ForecastInputError, match="horizon"):
        forecast(history(), horizon=0, freq="D")


def test_negative_quantities_are_refused_with_the_row() -> None:
    qty = [1.0] * 40
    qty[5] = -2.0
    with pytest.raises(ForecastInputError, match=r"Negative quantities in 1 row.*2024-01-06"):
        forecast(history(qty=qty), horizon=3, freq="D")


def test_duplicate_periods_are_refused() -> None:
    frame = pl.concat([history(), history().head(1)])
    with pytest.raises(ForecastInputError, match="Duplicate periods"):
        forecast(frame, horizon=3, freq="D")


def test_missing_columns_are_listed() -> None:
    with pytest.raises(ForecastInputError, match=r"lacks the column.*qty"):
        forecast(history().drop("qty"), horizon=3, freq="D")


def test_monthly_periods_must_start_on_the_first() -> None:
    frame = pl.DataFrame(
        {"item": ["a", "a"], "ds": [dt.date(2024, 1, 1), dt.date(2024, 2, 15)], "qty": [1.0, 2.0]}
    )
    with pytest.raises(ForecastInputError, match="start on the 1st"):
        forecast(frame, horizon=1, freq="M")


def test_unparseable_dates_are_refused() -> None:
    frame = history(ds=["2024-01-01"] * 39 + ["soon"])
    with pytest.raises(ForecastInputError, match="ds must be dates"):
        forecast(frame, horizon=1, freq="D")


def test_missing_days_count_as_no_sales() -> None:
    frame = history().filter(pl.col("ds") != dt.date(2024, 1, 10))
    result = forecast(frame, horizon=2, freq="D")
    assert result.classes["n"][0] == 40


def test_row_order_does_not_change_the_forecast() -> None:
    frame = pl.concat([history(), history().with_columns(item=pl.lit("honey"))])
    shuffled = frame.sample(fraction=1.0, shuffle=True, seed=4)

    ordered = forecast(frame, horizon=3, freq="D").forecast
    unordered = forecast(shuffled, horizon=3, freq="D").forecast

    assert ordered.sort("item", "ds").equals(unordered.sort("item", "ds"))
