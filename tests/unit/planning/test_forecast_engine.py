"""The forecasting engine on small synthetic histories whose answer is known."""

from __future__ import annotations

import datetime as dt

import numpy as np
import polars as pl
import pytest

from leanstock.planning.forecast import DEFAULT_QUANTILES, classify, forecast, quantile_column

START = dt.date(2024, 1, 1)
WEEKDAY_PROFILE = np.array([20.0, 22.0, 24.0, 26.0, 40.0, 60.0, 8.0])  # Mon … Sun


def daily(item: str, values: np.ndarray, location: str = "shop") -> pl.DataFrame:
    return pl.DataFrame(
        {
            "item": item,
            "location": location,
            "ds": pl.date_range(
                START, START + dt.timedelta(days=len(values) - 1), "1d", eager=True
            ),
            "qty": values.astype(float),
        }
    )


def weekly_pattern(rng: np.random.Generator, days: int) -> np.ndarray:
    weekday = np.array([(START + dt.timedelta(days=i)).weekday() for i in range(days)])
    counts: np.ndarray = rng.poisson(WEEKDAY_PROFILE[weekday])
    return counts


def intermittent(rng: np.random.Generator, days: int) -> np.ndarray:
    return (rng.random(days) < 0.15) * rng.integers(1, 4, size=days)


def test_a_known_weekly_seasonality_is_recovered() -> None:
    rng = np.random.default_rng(7)
    history = pl.concat([daily(f"bread-{i}", weekly_pattern(rng, 182)) for i in range(6)])

    result = forecast(history, horizon=14, freq="D")

    fc = result.forecast.filter(pl.col("item") == "bread-0").sort("ds")
    expected = WEEKDAY_PROFILE[[d.weekday() for d in fc["ds"]]]
    assert fc.height == 14
    assert np.corrcoef(fc["forecast"].to_numpy(), expected)[0, 1] > 0.95
    assert np.abs(fc["forecast"].to_numpy() - expected).mean() < 3.0
    assert set(result.classes["demand_class"]) == {"smooth"}


def test_intermittent_series_get_intermittent_models() -> None:
    rng = np.random.default_rng(3)
    history = pl.concat(
        [daily(f"spare-{i}", intermittent(rng, 240)) for i in range(8)]
        + [daily(f"bread-{i}", weekly_pattern(rng, 240)) for i in range(4)]
    )

    result = forecast(history, horizon=14, freq="D")

    classes = dict(result.classes.select("item", "demand_class").iter_rows())
    assert all(classes[f"spare-{i}"] in ("intermittent", "lumpy") for i in range(8))
    tried = set(result.accuracy.filter(pl.col("item").str.starts_with("spare"))["model"])
    assert {"CrostonSBA", "TSB", "ADIDA"} <= tried
    assert "SeasonalNaive" not in tried
    chosen = result.selection.filter(pl.col("item").str.starts_with("spare"))["model"]
    intermittent_models = ("CrostonSBA", "TSB", "ADIDA", "IMAPA", "SESOpt", "WindowAverage")
    assert all(any(m in label for m in intermittent_models) for m in chosen for label in [m])
    assert "SeasonalNaive" not in " ".join(chosen)


def test_censored_periods_do_not_drag_the_forecast_down() -> None:
    rng = np.random.default_rng(11)
    values = rng.poisson(30, size=150).astype(float)
    values[-14:] = 0.0  # the shelf was empty for the last two weeks
    marked = daily("milk", values).with_columns(stockout=pl.int_range(pl.len()) >= pl.len() - 14)
    unmarked = daily("milk", values)

    censored = forecast(marked, horizon=7, freq="D").forecast["forecast"].mean()
    naive = forecast(unmarked, horizon=7, freq="D").forecast["forecast"].mean()

    assert censored is not None
    assert naive is not None
    assert 26 <= float(censored) <= 34  # type: ignore[arg-type]
    assert float(naive) < 20  # type: ignore[arg-type]


def test_quantiles_are_ordered_non_negative_and_cover_a_holdout() -> None:
    rng = np.random.default_rng(5)
    full = pl.concat([daily(f"soap-{i}", rng.poisson(12, size=214)) for i in range(40)])
    history = full.filter(pl.col("ds") < START + dt.timedelta(days=200))
    holdout = full.filter(pl.col("ds") >= START + dt.timedelta(days=200))

    result = forecast(history, horizon=14, freq="D")

    columns = [quantile_column(p) for p in DEFAULT_QUANTILES]
    assert columns == ["q50", "q80", "q90", "q95", "q99"]
    q = result.forecast.select(columns).to_numpy()
    assert (q >= 0).all()
    assert (np.diff(q, axis=1) >= 0).all()
    joined = result.forecast.join(holdout, on=["item", "location", "ds"])
    assert joined.height == 40 * 14
    coverage_90 = (joined["qty"] <= joined["q90"]).mean()
    assert 0.82 <= coverage_90 <= 0.97  # type: ignore[operator]


def test_too_short_series_fall_back_to_simple_models_and_still_get_a_forecast() -> None:
    rng = np.random.default_rng(2)
    history = pl.concat(
        [
            daily("old", weekly_pattern(rng, 120)),
            daily("launched-last-week", np.array([3, 5, 4, 6, 5])),
            daily("one-sale", np.array([2])),
            daily("never-sold", np.zeros(30)),
        ]
    )

    result = forecast(history, horizon=5, freq="D")

    classes = dict(result.classes.select("item", "demand_class").iter_rows())
    assert classes["launched-last-week"] == "new"
    assert classes["one-sale"] == "new"
    assert classes["never-sold"] == "inactive"
    per_item = result.forecast.group_by("item").agg(pl.len(), pl.col("forecast").mean())
    assert dict(per_item.select("item", "len").iter_rows()) == {
        "old": 5,
        "launched-last-week": 5,
        "one-sale": 5,
        "never-sold": 5,
    }
    means = dict(per_item.select("item", "forecast").iter_rows())
    assert means["never-sold"] == 0.0
    assert 3.5 <= means["launched-last-week"] <= 6


def test_backtest_accuracy_is_kept_per_series_and_model() -> None:
    rng = np.random.default_rng(9)
    history = pl.concat([daily(f"tea-{i}", weekly_pattern(rng, 150)) for i in range(3)])

    result = forecast(history, horizon=7, freq="D")

    acc = result.accuracy
    assert {"item", "location", "model", "mase", "rmsse", "wape", "bias", "coverage_q90"} <= set(
        acc.columns
    )
    models_per_series = acc.group_by("item").agg(pl.col("model").n_unique())["model"]
    assert (models_per_series >= 5).all()
    best_single = (
        acc.filter(pl.col("model") != "selected").group_by("model").agg(pl.col("mase").mean())
    )
    selected = acc.filter(pl.col("model") == "selected")["mase"].mean()
    assert selected <= best_single["mase"].min() * 1.05  # type: ignore[operator]
    assert result.accuracy_overall.filter(pl.col("model") == "selected")["series"][0] == 3


def test_monthly_and_weekly_histories_forecast_on_their_own_calendar() -> None:
    rng = np.random.default_rng(4)
    months = pl.date_range(dt.date(2020, 1, 1), dt.date(2023, 12, 1), "1mo", eager=True)
    weeks = pl.date_range(dt.date(2023, 1, 2), dt.date(2024, 12, 30), "1w", eager=True)
    monthly = pl.DataFrame({"item": "bolt", "ds": months, "qty": rng.poisson(50, 48) * 1.0})
    weekly = pl.DataFrame({"item": "nut", "ds": weeks, "qty": rng.poisson(9, len(weeks)) * 1.0})

    m = forecast(monthly, horizon=3, freq="M").forecast
    w = forecast(weekly, horizon=2, freq="W").forecast

    assert m["ds"].to_list() == [dt.date(2024, 1, 1), dt.date(2024, 2, 1), dt.date(2024, 3, 1)]
    assert w["ds"].to_list() == [dt.date(2025, 1, 6), dt.date(2025, 1, 13)]
    assert "location" not in m.columns
    assert 40 <= m["forecast"].mean() <= 60  # type: ignore[operator]


@pytest.mark.parametrize(
    ("qty", "expected"),
    [
        ([4, 6, 4, 6, 4, 6, 4, 6], "smooth"),
        ([1, 10, 1, 10, 1, 10, 1, 10], "erratic"),
        ([0, 5, 0, 0, 5, 0, 0, 5], "intermittent"),
        ([0, 1, 0, 0, 12, 0, 0, 2], "lumpy"),
        ([0, 0, 0, 0, 0, 0, 0, 0], "inactive"),
        ([3, 4], "new"),
    ],
)
def test_syntetos_boylan_classes(qty: list[int], expected: str) -> None:
    frame = pl.DataFrame({"sid": [0] * len(qty), "qty": [float(q) for q in qty]}).with_columns(
        pl.col("sid").cast(pl.UInt32)
    )
    assert classify(frame, min_length=4)["demand_class"][0] == expected
