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
Where ETS is in, the full pool is its SCUM members only and their median is the forecast,
with a fourth member standing in for ARIMA: CES fitted to the logarithm of the history
(`LogCES`, Box & Cox, 1964, λ = 0), the multiplicative view of level, trend and season that
the three members on the original scale lack. The median of four is the mean of the middle
two, the form of the SCUM median (issue 17, fifth pass: docs/forecasting.md).

Which series get the full pool is the engine's budget (`plans.full_pool`); `thorough`
gives it to every smooth and erratic series.
"""

from __future__ import annotations

from typing import Any

import numpy as np
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

SCUM = ("AutoETS", "CES", "AutoARIMA", "DynamicOptimizedTheta", "CESlog")
"""Aliases of the members of the median combination of Petropoulos & Svetunkov (2020), and
`LogCES`, which stands in for ARIMA outside `thorough` runs."""


class LogCES(AutoCES):
    """AutoCES fitted to log(y), forecasts mapped back by exp(·): the Box–Cox logarithm.

    Positive histories only: a history holding a zero (counts of spare parts) has no
    logarithm, and the member abstains there, forecasting NaN, so that the combination
    leaves it out (`ABSTAINING`) and such a series keeps the median of the other members.
    The back-transformed point forecast is the median of the forecast distribution on the
    original scale, not its mean (Hyndman & Athanasopoulos, FPP3 §5.6), which suits the
    median combination it joins. Its own intervals are not used: the engine's quantiles are
    conformal on the combined forecast.
    """

    # the argument names (X, X_future) are statsforecast's: it passes them by keyword
    def __init__(self, season_length: int = 1, alias: str = "CESlog") -> None:
        super().__init__(season_length=season_length, alias=alias)

    @staticmethod
    def applies(y: np.ndarray) -> bool:
        return bool(y.size) and float(np.min(y)) > 0

    @staticmethod
    def _back(res: dict[str, Any]) -> dict[str, Any]:
        return {
            key: np.exp(value)
            if key in ("mean", "fitted") or key.startswith(("lo-", "hi-"))
            else value
            for key, value in res.items()
        }

    @staticmethod
    def _abstain(h: int, n: int, level: Any, fitted: bool) -> dict[str, Any]:
        res: dict[str, Any] = {"mean": np.full(h, np.nan)}
        for lv in level or ():
            res[f"lo-{lv}"] = res[f"hi-{lv}"] = np.full(h, np.nan)
        if fitted:
            res["fitted"] = np.full(n, np.nan)
        return res

    def fit(self, y: np.ndarray, X: np.ndarray | None = None) -> Any:  # noqa: N803
        y = np.asarray(y, dtype=np.float64)
        self.abstains_ = not self.applies(y)
        self.n_ = y.size
        if self.abstains_:
            return self
        model = AutoCES.fit(self, np.log(y), X)
        return self if model is self else _LoggedNaive(model)

    def predict(self, h: int, X: np.ndarray | None = None, level: Any = None) -> Any:  # noqa: N803
        if self.abstains_:
            return self._abstain(h, self.n_, level, False)
        return self._back(AutoCES.predict(self, h, X, level))

    def predict_in_sample(self, level: Any = None) -> Any:
        if self.abstains_:
            return {"fitted": np.full(self.n_, np.nan)}
        return self._back(AutoCES.predict_in_sample(self, level))

    def forecast(
        self,
        y: np.ndarray,
        h: int,
        X: np.ndarray | None = None,  # noqa: N803
        X_future: np.ndarray | None = None,  # noqa: N803
        level: Any = None,
        fitted: bool = False,
    ) -> Any:
        y = np.asarray(y, dtype=np.float64)
        if not self.applies(y):
            return self._abstain(h, y.size, level, fitted)
        return self._back(AutoCES.forecast(self, np.log(y), h, X, X_future, level, fitted))

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError("LogCES does not transfer a fit to another series.")


class _LoggedNaive:
    """The Naive model statsforecast fits to a constant history, on LogCES's scale."""

    def __init__(self, model: Any) -> None:
        self.model, self.alias = model, model.alias

    def __repr__(self) -> str:
        return str(self.alias)

    def predict(self, h: int, X: np.ndarray | None = None, level: Any = None) -> Any:  # noqa: N803
        return LogCES._back(self.model.predict(h, X, level))

    def predict_in_sample(self, level: Any = None) -> Any:
        return LogCES._back(self.model.predict_in_sample(level))


ABSTAINING = ("CESlog",)
"""Members that forecast NaN where they do not apply (`LogCES` on a history with a zero);
the combination leaves them out there instead of reading NaN as zero."""


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
        return [*models, LogCES(season_length=m)]
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
