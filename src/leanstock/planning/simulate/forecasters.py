"""Demand models the simulator re-forecasts with at every review, seeing only the past."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True)
class Forecast:
    """Demand forecast per item for each coming period.

    `mean` and `sd` are the mean and spread of one period's demand; `mean_sd` is the standard
    error of the mean itself (how far the estimated mean may be from the true one). Demand
    over P periods then has variance P·σ² + P²·σ_μ̂²: the error of the mean repeats in every
    period of the interval instead of averaging out (Prak, Teunter & Syntetos 2017, *On the
    calculation of safety stocks when demand is forecasted*, EJOR 256(2)). None means 0.
    """

    mean: FloatArray
    sd: FloatArray
    mean_sd: FloatArray | None = None


class Forecaster(Protocol):
    """A demand model that is fitted once and then told each new period's demand."""

    def fit(self, history: FloatArray) -> None:
        """Fit on `history`, shape (items, periods)."""

    def update(self, demand: FloatArray) -> None:
        """Observe one more period of demand, shape (items,)."""

    def forecast(self) -> Forecast:
        """Forecast per period from everything observed so far."""


class ExponentialForecaster:
    """Exponentially weighted mean and variance of demand (Brown 1959; West 1979).

    Weights (1 − α)^age over all history, so recent periods count more: intermittent parts
    whose demand dies out lose their buffer instead of keeping it for years. With weights w,
    μ = Σw·d/Σw and σ² = [Σw·d²/Σw − μ²]·n_eff/(n_eff − 1), n_eff = (Σw)²/Σw² the effective
    sample size (Kish 1965), which removes the small-sample bias. The mean's standard error
    is σ/√n_eff, the variance of a weighted mean of independent periods (for a long history
    σ²·α/(2 − α), that of simple exponential smoothing). Updates are O(items).
    """

    def __init__(self, alpha: float = 0.1) -> None:
        if not 0.0 < alpha <= 1.0:
            raise ValueError("alpha must be in (0, 1]")
        self.alpha = alpha
        self._w = 0.0
        self._w2 = 0.0
        self._sx: FloatArray = np.zeros(0)
        self._sxx: FloatArray = np.zeros(0)

    def fit(self, history: FloatArray) -> None:
        n, t = history.shape
        weights = (1.0 - self.alpha) ** np.arange(t - 1, -1, -1, dtype=np.float64)
        self._w = float(weights.sum())
        self._w2 = float((weights**2).sum())
        self._sx = history @ weights if t else np.zeros(n)
        self._sxx = (history * history) @ weights if t else np.zeros(n)

    def update(self, demand: FloatArray) -> None:
        keep = 1.0 - self.alpha
        self._w = keep * self._w + 1.0
        self._w2 = keep * keep * self._w2 + 1.0
        self._sx = keep * self._sx + demand
        self._sxx = keep * self._sxx + demand * demand

    def forecast(self) -> Forecast:
        if self._w <= 0:
            return Forecast(np.zeros_like(self._sx), np.zeros_like(self._sx))
        mean = self._sx / self._w
        var = np.maximum(self._sxx / self._w - mean * mean, 0.0)
        n_eff = self._w * self._w / self._w2
        var = var * (n_eff / (n_eff - 1.0) if n_eff > 1.0 else 1.0)
        return Forecast(mean, np.sqrt(var), np.sqrt(var / n_eff))


class HistoryForecaster:
    """Plain mean and sample standard deviation of all the history seen (equal weights); the
    mean's standard error is σ/√n."""

    def __init__(self) -> None:
        self._n = 0
        self._sx: FloatArray = np.zeros(0)
        self._sxx: FloatArray = np.zeros(0)

    def fit(self, history: FloatArray) -> None:
        self._n = history.shape[1]
        self._sx = history.sum(axis=1)
        self._sxx = (history * history).sum(axis=1)

    def update(self, demand: FloatArray) -> None:
        self._n += 1
        self._sx = self._sx + demand
        self._sxx = self._sxx + demand * demand

    def forecast(self) -> Forecast:
        n = max(self._n, 1)
        mean = self._sx / n
        var = np.maximum(self._sxx - n * mean * mean, 0.0) / max(n - 1, 1)
        return Forecast(mean, np.sqrt(var), np.sqrt(var / n))


ForecastFunction = Callable[[FloatArray], tuple[FloatArray, FloatArray]]
"""history (items, periods so far) → (mean, sd) per period; refitted at every review."""


class FunctionForecaster:
    """Adapts a plain forecast function (e.g. a model from the forecasting engine).

    The function is called at every review with the full history so far, so it may refit
    from scratch; its time is what the simulator reports as forecast time.
    """

    def __init__(self, function: ForecastFunction) -> None:
        self._function = function
        self._history: FloatArray = np.zeros((0, 0))
        self._t = 0

    def fit(self, history: FloatArray) -> None:
        self._history = np.asarray(history, dtype=np.float64)
        self._t = self._history.shape[1]

    def attach(self, full: FloatArray, t: int) -> None:
        """Share the simulator's demand matrix instead of copying it each period."""
        self._history = full
        self._t = t

    def update(self, demand: FloatArray) -> None:
        if self._t < self._history.shape[1]:
            self._t += 1
        else:
            self._history = np.concatenate([self._history, demand[:, None]], axis=1)
            self._t = self._history.shape[1]

    def forecast(self) -> Forecast:
        mean, sd = self._function(self._history[:, : self._t])
        return Forecast(np.asarray(mean, dtype=np.float64), np.asarray(sd, dtype=np.float64))
