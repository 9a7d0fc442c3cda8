"""Candidate models per demand class, frequency and pool.

Two pools serve smooth and erratic demand. The cheap pool keeps to statsforecast's
numba-compiled models whose cost is linear in the history and needs no per-series optimiser
loop (exponential smoothing, window averages, seasonal naive, Theta). The full pool adds the
families that model trend and season by likelihood, the members of the "SCUM" combination
(Petropoulos & Svetunkov, 2020, "A simple combination of univariate models", IJF 36):
ETS with an optional damped trend (Hyndman et al., 2002; Gardner & McKenzie, 1985),
Dynamic Optimized Theta (Fiorucci et al., 2016), Complex Exponential Smoothing (Svetunkov,
Kourentzes & Ord, 2022) and, with `thorough` only, ARIMA (Hyndman & Khandakar, 2008): its
stepwise search costs about ten times an ETS fit (measured on M1: 0.4 s a series against
0.03 s on a quiet core), which a default run cannot afford; the median of the other three
stands in for the four-model median. On daily data ETS is left out too unless `thorough`:
its cost grows with the history, years of days, while Theta and CES stay cheap.
Where ETS is in, the full pool is its SCUM members only and their median is the forecast.

Which series get the full pool is the engine's budget (`plans.full_pool`); `thorough`
gives it to every smooth and erratic series.
"""

from __future__ import annotations

from typing import Any

from statsforecast.models import (
    ADIDA,
    IMAPA,
    TSB,
    AutoARIMA,
    AutoCES,
    AutoETS,
    CrostonSBA,
    DynamicOptimizedTheta,
    HistoricAverage,
    Naive,
    SeasonalExponentialSmoothingOptimized,
    SeasonalNaive,
    SeasonalWindowAverage,
    SimpleExponentialSmoothing,
    SimpleExponentialSmoothingOptimized,
    Theta,
    WindowAverage,
)

from leanstock.planning.forecast.classify import INTERMITTENT_CLASSES

SCUM = ("AutoETS", "CES", "AutoARIMA", "DynamicOptimizedTheta")
"""Aliases of the members of the median combination of Petropoulos & Svetunkov (2020)."""


def candidates(
    demand_class: str,
    freq: str,
    season: int,
    seasonal: bool,
    full: bool = False,
    thorough: bool = False,
) -> list[Any]:
    """Models that fit a class; `seasonal`: the histories hold two seasons before the backtest.

    Smooth and erratic demand: seasonal naive, (seasonal) exponential smoothing, window
    averages and Theta (Assimakopoulos & Nikolopoulos, 2000); with `full`, the trend and
    season families of the module docstring. Intermittent and lumpy: SBA (Syntetos &
    Boylan, 2005), TSB (Teunter, Syntetos & Babai, 2011), ADIDA (Nikolopoulos et al.,
    2011) and IMAPA (Petropoulos & Kourentzes, 2015), plus SES.
    """
    if demand_class in ("new", "inactive"):
        return short_history_models()
    if demand_class in INTERMITTENT_CLASSES:
        return _intermittent(freq, season, seasonal)
    if full:
        return _full(demand_class, freq, season, seasonal, thorough)
    if freq == "D":
        return _daily_cheap(demand_class, season, seasonal)
    window = season if seasonal else 4
    models: list[Any] = [
        SimpleExponentialSmoothingOptimized(),
        WindowAverage(window_size=window),
        Naive(),
    ]
    if demand_class == "erratic":
        models.append(ADIDA())
    if seasonal:
        models += [
            SeasonalNaive(season_length=season),
            SeasonalWindowAverage(season_length=season, window_size=2),
            SeasonalExponentialSmoothingOptimized(season_length=season),
        ]
    models.append(Theta(season_length=season if seasonal else 1))
    return models


def _full(demand_class: str, freq: str, season: int, seasonal: bool, thorough: bool) -> list[Any]:
    """The trend and season families, each given the season to use if its history allows.

    The models are handed the season whatever the backtest rule (`seasonal`) says: each
    family decides on the history it fits, AutoETS by AICc among forms it can fit, Theta by
    its seasonality test, CES by its information criterion (a 30-month M1 history with an
    18-month horizon has no two seasons before a backtest origin, yet its final fit has
    them). With ETS (all but the default daily pool), the forecast is the members' median
    (`selection.backtest_group`, `fixed`); without it, two cheap anchors join and the
    backtest chooses, as for the cheap pool.
    """
    m = season
    with_ets = freq != "D" or thorough
    models: list[Any] = [AutoETS(season_length=m)] if with_ets else []
    models += [DynamicOptimizedTheta(season_length=m), AutoCES(season_length=m)]
    if thorough:
        models.append(AutoARIMA(season_length=m))
    if with_ets:
        return models
    models.append(SimpleExponentialSmoothingOptimized())
    if seasonal:
        models.append(SeasonalNaive(season_length=season))
    elif demand_class == "erratic":
        models.append(ADIDA())
    else:
        models.append(Naive())
    return models


def _intermittent(freq: str, season: int, seasonal: bool) -> list[Any]:
    if freq == "D":
        # On the M5-shaped bench the window averages and IMAPA were never among the chosen,
        # and each candidate costs about a second per 30,000 series in the backtest.
        return [
            CrostonSBA(),
            TSB(alpha_d=0.2, alpha_p=0.2),
            ADIDA(),
            SimpleExponentialSmoothingOptimized(),
        ]
    return [
        ADIDA(),
        TSB(alpha_d=0.2, alpha_p=0.2),
        CrostonSBA(),
        SimpleExponentialSmoothingOptimized(),
        WindowAverage(window_size=season if seasonal else 4),
        IMAPA(),
    ]


def _daily_cheap(demand_class: str, season: int, seasonal: bool) -> list[Any]:
    """Four candidates per class for the long tail of large daily catalogs."""
    models: list[Any] = [SimpleExponentialSmoothingOptimized()]
    if seasonal:
        models += [
            SeasonalExponentialSmoothingOptimized(season_length=season),
            SeasonalWindowAverage(season_length=season, window_size=4),
        ]
    else:
        models.append(WindowAverage(window_size=7))
    models.append(
        ADIDA()
        if demand_class == "erratic"
        else SeasonalNaive(season_length=season)
        if seasonal
        else Naive()
    )
    return models


def short_history_models() -> list[Any]:
    """For new items: the mean so far and a slow exponential smoothing of it."""
    return [HistoricAverage(), SimpleExponentialSmoothing(alpha=0.3)]
