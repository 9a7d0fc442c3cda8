"""Demand forecasting: frames in, frames out (issue #4).

`forecast(history, horizon, freq)` classifies each item-location's demand, backtests the
models that suit its class, combines the best, and returns calibrated quantiles with the
backtest accuracy. See `engine` for the method and its sources.
"""

from leanstock.planning.forecast.accuracy import accuracy_report, quantile_column
from leanstock.planning.forecast.classify import classify
from leanstock.planning.forecast.engine import (
    DEFAULT_QUANTILES,
    ForecastResult,
    Progress,
    forecast,
)
from leanstock.planning.forecast.prepare import FREQUENCIES, ForecastInputError

__all__ = [
    "DEFAULT_QUANTILES",
    "FREQUENCIES",
    "ForecastInputError",
    "ForecastResult",
    "Progress",
    "accuracy_report",
    "classify",
    "forecast",
    "quantile_column",
]
