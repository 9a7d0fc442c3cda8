"""Quantile offsets pooled over a group's series, scaled per series and per step ahead."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest
from scipy.stats import norm

from leanstock.planning.forecast import conformal, forecast
from leanstock.planning.forecast.conformal import local_scales, pooled_offsets, step_offsets
from leanstock.planning.forecast.plans import BacktestPlan

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


@pytest.fixture
def naive_scale(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(conformal, "POOLED_SCALE", "naive")


@pytest.mark.usefixtures("naive_scale")
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


@pytest.mark.usefixtures("naive_scale")
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
    monkeypatch.setattr(conformal, "CONFORMAL", "pooled")
    # Just over MIN_SERIES_TO_CALIBRATE series (fewer keep their own offsets), three years
    # each and six months held out: the widths grow 2.1-fold by step 6, the q90 covers 92 %
    # of the 192 held-out months (60 series of five years: 2.6-fold, 97 % of 360; 3 times
    # the CPU).
    series = conformal.MIN_SERIES_TO_CALIBRATE + 2
    walks = random_walks(series, 42)
    n = pl.int_range(pl.len()).over("item")
    history, held = walks.filter(n < 36), walks.filter(n >= 36)

    result = forecast(history, horizon=6, freq="M")

    fc = result.forecast.sort("item", "ds").with_columns(
        step=pl.int_range(pl.len()).over("item") + 1
    )
    width = fc.group_by("step").agg((pl.col("q90") - pl.col("q50")).mean()).sort("step")
    assert width["q90"][-1] > 1.5 * width["q90"][0]
    scored = fc.join(held.with_columns(pl.col("ds").cast(pl.Date)), on=["item", "ds"])
    assert scored.height == series * 6
    coverage = (scored["qty"] <= scored["q90"]).mean()
    assert 0.8 <= float(coverage) <= 0.98  # type: ignore[arg-type]


def test_local_scales_read_only_the_window_up_to_each_origin() -> None:
    history = pl.DataFrame(
        {"sid": [1] * 6, "t": list(range(6)), "qty": [0.0, 10.0, 30.0, 60.0, 100.0, 150.0]},
        schema_overrides={"sid": pl.UInt32},
    )
    origins = pl.DataFrame({"sid": [1, 1], "cutoff": [3, 5]}, schema_overrides={"sid": pl.UInt32})

    level = local_scales(history, origins, 3, "level").sort("cutoff")
    recent = local_scales(history, origins, 3, "recent").sort("cutoff")

    assert level["local_scale"].to_list() == pytest.approx([100 / 3, 310 / 3])
    # naive steps 10, 20, 30 up to t = 3; 30, 40, 50 up to t = 5
    assert recent["local_scale"].to_list() == pytest.approx([np.sqrt(1400 / 3), np.sqrt(5000 / 3)])


def test_level_scale_sizes_offsets_to_the_recent_level_not_the_naive_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Series of the same one-step noise at levels 100 … 400 whose forecast errors are 10 %
    of their level: the "level" offsets follow the level, the "naive" ones cannot."""
    levels = [100.0 * (1 + i % 4) for i in range(200)]
    errors = [0.1 * level for level in levels]
    combined, frame = noisy_group(levels, [1.0] * 200, errors, seed=11, scale_rmse=1.4)
    own = own_offsets(combined)

    by_level = pooled_offsets(combined, frame, QS, 4, own).sort("sid")
    monkeypatch.setattr(conformal, "POOLED_SCALE", "naive")
    by_naive = pooled_offsets(combined, frame, QS, 4, own).sort("sid")

    expected = [0.1 * level * norm.ppf(0.9) for level in levels[:4]]
    level_q90 = [float(np.mean(v)) for v in by_level["q90"].to_list()[:4]]
    naive_q90 = [float(np.mean(v)) for v in by_naive["q90"].to_list()[:4]]
    assert level_q90 == pytest.approx(expected, rel=0.15)
    assert max(naive_q90) / min(naive_q90) < 1.5  # one width for levels 100 to 400


def noisy_group(
    levels: list[float],
    noises: list[float],
    error: float | list[float],
    seed: int = 3,
    scale_rmse: float = 1.0,
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Series at `levels` with one-step noise `noises` (sd); backtest errors at two origins,
    four steps each, of sd `error` × noise (a number) or `error[i]` for series i (a list)."""
    rng = np.random.default_rng(seed)
    history, errors = [], []
    sds = error if isinstance(error, list) else [error * noise for noise in noises]
    for sid, (level, noise, sd) in enumerate(zip(levels, noises, sds, strict=True)):
        values = level + rng.normal(0.0, noise, 60)
        history += [{"sid": sid, "t": t, "qty": float(q)} for t, q in enumerate(values)]
        for cutoff in (50, 54):
            for k in range(1, 5):
                errors.append(
                    {
                        "sid": sid,
                        "cutoff": cutoff,
                        "t": cutoff + k,
                        "forecast": level,
                        "actual": level + rng.normal(0.0, sd),
                        "scale_rmse": scale_rmse,
                    }
                )
    schema = {"sid": pl.UInt32}
    return (
        pl.DataFrame(errors, schema_overrides=schema),
        pl.DataFrame(history, schema_overrides=schema),
    )


def mean_q90(offsets: pl.DataFrame) -> list[float]:
    return [float(np.mean(v)) for v in offsets.sort("sid")["q90"].to_list()]


def test_volatility_bins_give_volatile_series_wider_offsets_at_the_same_level(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    noises = [1.0 if i % 2 else 10.0 for i in range(120)]
    combined, history = noisy_group([100.0] * 120, noises, 2.0)
    own = own_offsets(combined)

    one_pool = mean_q90(pooled_offsets(combined, history, QS, 4, own))
    monkeypatch.setattr(conformal, "POOLED_BINS", "volatility")
    monkeypatch.setattr(conformal, "BIN_COUNT", 2)
    binned = mean_q90(pooled_offsets(combined, history, QS, 4, own))

    calm, volatile = np.mean(binned[1::2]), np.mean(binned[0::2])
    assert volatile / calm == pytest.approx(10.0, rel=0.3)
    assert max(one_pool) / min(one_pool) < 1.2  # one level, one width
    assert calm == pytest.approx(2.0 * norm.ppf(0.9), rel=0.3)


def test_the_fitted_scale_follows_the_volatility_where_the_level_does_not(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    levels = [100.0 if i % 2 else 400.0 for i in range(160)]
    noises = [1.0 if (i // 2) % 2 else 4.0 for i in range(160)]
    combined, history = noisy_group(levels, noises, 3.0)
    own = own_offsets(combined)
    monkeypatch.setattr(conformal, "POOLED_SCALE", "fitted")

    q90 = mean_q90(pooled_offsets(combined, history, QS, 4, own))

    def mean_of(level: float, noise: float) -> float:
        rows = zip(q90, levels, noises, strict=True)
        picked = [q for q, a, b in rows if (a, b) == (level, noise)]
        return float(np.mean(picked))

    for level in (100.0, 400.0):  # offsets follow the noise, whatever the level
        for noise in (1.0, 4.0):
            assert mean_of(level, noise) == pytest.approx(3.0 * noise * norm.ppf(0.9), rel=0.2)


def test_the_adaptive_level_rises_when_a_later_origin_is_missed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    rng = np.random.default_rng(8)
    step = np.tile(np.arange(1, 5), 1000)
    origin = np.repeat([0, 1], 2000)
    z = np.concatenate([rng.normal(0, 1, 2000), rng.normal(0, 2, 2000)])

    assert conformal._adapted_level(0.9, step, z, origin, 4) == 0.9
    monkeypatch.setattr(conformal, "ADAPT_RATE", 0.5)
    # origin 1 covered by origin 0's 90 % quantile about Φ(1.28 / 2) = 74 % of the time
    assert conformal._adapted_level(0.9, step, z, origin, 4) == pytest.approx(0.98, abs=0.02)
    steady = np.concatenate([rng.normal(0, 1, 2000), rng.normal(0, 1, 2000)])
    assert conformal._adapted_level(0.9, step, steady, origin, 4) == pytest.approx(0.9, abs=0.02)


def test_recent_origin_weights_lean_the_offsets_toward_the_later_origin(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Errors of sd 4 at the first origin and 12 at the later one: with equal weights the
    90 % offset is the mixture's (10.3), with the later origin counted twice 12.5, about a
    fifth wider."""
    combined, history = noisy_group([100.0] * 300, [2.0] * 300, 2.0)
    later = pl.col("cutoff") == 54
    combined = combined.with_columns(
        actual=pl.when(later)
        .then(pl.col("forecast") + 3 * (pl.col("actual") - pl.col("forecast")))
        .otherwise(pl.col("actual"))
    )
    own = own_offsets(combined)

    equal = np.mean(mean_q90(pooled_offsets(combined, history, QS, 4, own)))
    monkeypatch.setattr(conformal, "ORIGIN_WEIGHTS", "recent")
    recent = np.mean(mean_q90(pooled_offsets(combined, history, QS, 4, own)))

    assert recent / equal == pytest.approx(12.5 / 10.3, abs=0.1)
