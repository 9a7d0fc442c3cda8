"""The full pool: its median, its season, its short histories and its ETS forms."""

from __future__ import annotations

import datetime as dt

import numpy as np
import polars as pl
import pytest
from hypothesis import given
from hypothesis import strategies as st
from statsforecast.models import AutoCES

from leanstock.benchmarks.forecast import split_tail, validation_split
from leanstock.planning.forecast import forecast, plans
from leanstock.planning.forecast.models import LogCES, candidates
from leanstock.planning.forecast.plans import (
    MIN_LIKELIHOOD_TRAIN,
    backtest_plan,
    full_pool,
    short_plan,
)
from leanstock.planning.forecast.runner import (
    backtest_with_ets_forms,
    fit_with_ets_forms,
    run_statsforecast,
)

SCUM_MEDIAN = "median(AutoETS,CES,DynamicOptimizedTheta,CESlog)"


def monthly(item: str, values: np.ndarray) -> pl.DataFrame:
    months = pl.date_range(dt.date(2015, 1, 1), dt.date(2040, 1, 1), "1mo", eager=True)
    return pl.DataFrame({"item": item, "ds": months[: len(values)], "qty": values.astype(float)})


def frame(values: dict[int, np.ndarray]) -> pl.DataFrame:
    return pl.concat(
        [
            pl.DataFrame(
                {"sid": np.full(len(v), sid, dtype=np.uint32), "t": np.arange(len(v)), "qty": v}
            )
            for sid, v in values.items()
        ]
    )


@given(
    st.sampled_from(["D", "W", "M"]), st.integers(1, 60), st.integers(MIN_LIKELIHOOD_TRAIN + 1, 400)
)
def test_the_full_pool_backtest_never_fits_fewer_periods_than_its_models_accept(
    freq: str, horizon: int, shortest: int
) -> None:
    plan = short_plan(backtest_plan(freq, horizon, False), shortest, MIN_LIKELIHOOD_TRAIN)
    assert plan.min_train >= MIN_LIKELIHOOD_TRAIN
    assert plan.min_length <= max(shortest, backtest_plan(freq, horizon, False).min_length)


def test_the_monthly_full_pool_is_the_scum_members_and_the_daily_one_keeps_its_anchors() -> None:
    monthly_pool = [repr(m) for m in candidates("smooth", "M", 12, False, full=True)]
    assert monthly_pool == ["AutoETS", "DynamicOptimizedTheta", "CES", "CESlog"]
    daily_pool = [repr(m) for m in candidates("smooth", "D", 7, True, full=True)]
    assert "AutoETS" not in daily_pool
    assert "CESlog" not in daily_pool
    assert "SeasonalNaive" in daily_pool


def test_a_short_history_in_the_full_pool_gets_the_median_not_the_fallback() -> None:
    rng = np.random.default_rng(5)
    history = pl.concat(
        [monthly(f"part-{i}", 50 + 2 * np.arange(13) + rng.normal(0, 2, 13)) for i in range(3)]
    )

    result = forecast(history, horizon=18, freq="M")

    assert result.classes["pool"].to_list() == ["full"] * 3
    assert result.selection["model"].to_list() == [SCUM_MEDIAN] * 3
    assert result.selection["note"].null_count() == 3
    fc = result.forecast.filter(pl.col("item") == "part-0").sort("ds")["forecast"].to_numpy()
    assert fc[-1] > fc[0]  # the trend is followed, not the mean so far


def test_a_season_too_short_for_a_seasonal_backtest_is_still_forecast() -> None:
    rng = np.random.default_rng(8)
    t = np.arange(36)
    wave = 200 * (1 + 0.4 * np.sin(2 * np.pi * t / 12)) + rng.normal(0, 4, 36)

    result = forecast(monthly("wave", wave), horizon=18, freq="M")

    assert result.classes["seasonal"].to_list() == [False]  # no two seasons before the backtest
    fc = result.forecast.sort("ds")["forecast"].to_numpy()
    truth = 200 * (1 + 0.4 * np.sin(2 * np.pi * np.arange(36, 54) / 12))
    assert np.abs(fc - truth).mean() < 0.25 * np.abs(truth - truth.mean()).mean()


def test_the_backtest_refits_the_ets_form_of_the_final_fit() -> None:
    rng = np.random.default_rng(1)
    t = np.arange(48.0)
    data = frame(
        {
            0: 100 + 3 * t + rng.normal(0, 2, 48),
            1: 80 * (1 + 0.3 * np.sin(2 * np.pi * t / 12)) + rng.normal(0, 2, 48),
            2: 60 + rng.normal(0, 5, 48),
        }
    )
    models = candidates("smooth", "M", 12, True, full=True)

    fitted, forms = fit_with_ets_forms(data, models, horizon=6, n_jobs=1)

    assert forms.sort("sid")["sid"].to_list() == [0, 1, 2]
    assert all(len(f) == 4 and f[0] in "AM" for f in forms["form"])
    assert set(fitted.columns) == {"sid", "t", "AutoETS", "DynamicOptimizedTheta", "CES", "CESlog"}
    assert fitted.height == 18
    kwargs = {"horizon": 6, "n_jobs": 1, "n_windows": 2, "step_size": 3}
    cv = backtest_with_ets_forms(data, models, forms, **kwargs)
    searched = run_statsforecast(data, models, engine="local", client=None, **kwargs)
    assert cv.columns == searched.columns
    assert cv.select("sid", "cutoff", "t").equals(searched.select("sid", "cutoff", "t"))
    assert cv["AutoETS"].is_finite().all()
    np.testing.assert_allclose(cv["CES"].to_numpy(), searched["CES"].to_numpy())
    np.testing.assert_allclose(cv["CESlog"].to_numpy(), searched["CESlog"].to_numpy())


def _growing_season(n: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    level = 100 * np.exp(0.02 * t) * (1 + 0.3 * np.sin(2 * np.pi * t / 12))
    series: np.ndarray = level * np.exp(rng.normal(0, 0.03, n))
    return series


def test_log_ces_is_ces_on_the_logarithm_mapped_back() -> None:
    y = _growing_season(60, 3)

    logged = LogCES(season_length=12).forecast(y, 12)["mean"]
    fitted = LogCES(season_length=12).fit(y).predict(12)["mean"]

    expected = np.exp(AutoCES(season_length=12).forecast(np.log(y), 12)["mean"])
    np.testing.assert_allclose(logged, expected, rtol=1e-9)
    np.testing.assert_allclose(fitted, expected, rtol=1e-9)
    plain = AutoCES(season_length=12).forecast(y, 12)["mean"]
    assert not np.allclose(logged, plain, rtol=1e-3)  # the transform changes the forecast


def test_log_ces_takes_counts_with_zeros_and_constant_histories() -> None:
    counts = np.array([0, 1, 2, 0, 3, 1, 0, 2, 4, 1, 0, 2, 3, 1, 2, 0, 1, 2, 3, 1, 0, 2, 1, 3.0])

    fc = LogCES(season_length=12).forecast(counts, 6)["mean"]
    constant = LogCES(season_length=12).fit(np.full(30, 5.0)).predict(3)["mean"]

    assert np.isnan(fc).all()  # abstains: a zero has no logarithm
    np.testing.assert_allclose(constant, [5.0, 5.0, 5.0])


def test_a_form_too_rich_for_a_backtest_window_falls_back_to_the_search() -> None:
    rng = np.random.default_rng(2)
    data = frame({0: 50 + rng.normal(0, 3, 20)})
    models = candidates("smooth", "M", 12, False, full=True)
    seasonal_form = pl.DataFrame({"sid": pl.Series([0], dtype=pl.UInt32), "form": ["MAMD"]})

    cv = backtest_with_ets_forms(
        data, models, seasonal_form, horizon=6, n_jobs=1, n_windows=1, step_size=3
    )

    assert cv.height == 6
    assert cv["AutoETS"].is_finite().all()


def test_the_validation_split_holds_out_the_tail_of_the_training_part_only() -> None:
    train = pl.DataFrame({"unique_id": ["a"] * 5 + ["b"] * 3, "ds": [*range(5), *range(3)]})

    fit, held = split_tail(train, 2)

    assert fit.rows() == [("a", 0), ("a", 1), ("a", 2), ("b", 0)]
    assert held.rows() == [("a", 3), ("a", 4), ("b", 1), ("b", 2)]


def test_a_history_with_a_zero_gets_the_median_of_the_other_members(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(plans, "FULL_POOL_WITH_ZEROS", True)
    rng = np.random.default_rng(11)
    values = 40 + 0.5 * np.arange(40) + rng.normal(0, 3, 40)
    values[5] = 0.0  # no logarithm: CESlog abstains
    history = monthly("part", values)

    result = forecast(history, horizon=6, freq="M", reconciled=False)

    models = [m for m in candidates("smooth", "M", 12, True, full=True) if repr(m) != "CESlog"]
    members = run_statsforecast(
        frame({0: values}), models, horizon=6, engine="local", client=None, n_jobs=1
    )
    expected = np.median(members.select([repr(m) for m in models]).to_numpy(), axis=1)
    assert result.classes["pool"].to_list() == ["full"]
    assert result.selection["calibration"].to_list() == [1.0]
    np.testing.assert_allclose(result.forecast.sort("ds")["forecast"].to_numpy(), expected)


def test_the_early_validation_window_lies_one_holdout_before_and_drops_short_series() -> None:
    train = pl.DataFrame({"unique_id": ["a"] * 8 + ["b"] * 5, "ds": [*range(8), *range(5)]})
    test = pl.DataFrame({"unique_id": ["a", "b"], "ds": [8, 5]})

    same = validation_split(train, test, 2, 0, 3)
    first_fit, first_held = validation_split(train, test, 2, 1, 3)
    early_fit, early_held = validation_split(train, test, 2, 2, 3)

    assert same[0].equals(train)
    assert same[1].equals(test)
    assert first_held.rows() == [("a", 6), ("a", 7), ("b", 3), ("b", 4)]
    assert first_fit.height == 9
    # "b" keeps one period before its early window: fewer than 3, dropped from both parts
    assert early_fit.rows() == [("a", 0), ("a", 1), ("a", 2), ("a", 3)]
    assert early_held.rows() == [("a", 4), ("a", 5)]


def test_only_positive_histories_take_the_full_pool() -> None:
    classes = pl.DataFrame(
        {
            "sid": pl.Series([0, 1, 2, 3], dtype=pl.UInt32),
            "n": [40, 40, 40, 40],
            "adi": [1.0, 40 / 39, 1.0, 2.0],
            "demand_class": ["smooth", "smooth", "erratic", "lumpy"],
            "value": [10.0, 50.0, 5.0, 99.0],
        }
    )

    for thorough in (False, True):
        pool = classes.select(full_pool(classes, thorough))
        assert pool.to_series().to_list() == [True, False, True, False]


def test_a_history_with_a_zero_takes_the_cheap_pool() -> None:
    rng = np.random.default_rng(11)
    values = 40 + 0.5 * np.arange(40) + rng.normal(0, 3, 40)
    positive = monthly("positive", values)
    values[5] = 0.0
    with_zero = monthly("with_zero", values)

    result = forecast(pl.concat([positive, with_zero]), horizon=6, freq="M", reconciled=False)

    pools = dict(result.classes.select("item", "pool").iter_rows())
    assert pools == {"positive": "full", "with_zero": "cheap"}
    chosen = dict(result.selection.select("item", "model").iter_rows())
    assert chosen["positive"] == SCUM_MEDIAN
    assert "CESlog" not in chosen["with_zero"]
