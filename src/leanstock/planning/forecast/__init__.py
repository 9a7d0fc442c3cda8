"""Demand forecasting: frames in, frames out (issue #4).

`forecast(history, horizon, freq)` classifies each item-location's demand, backtests the
models that suit its class, combines the best, and returns calibrated quantiles with the
backtest accuracy. See `engine` for the method and its sources.

The engine (statsforecast, scipy, numba) takes seconds to import, so the engine's names are
loaded on first use (PEP 562): the API, the web app and the CLI start without it and only a
forecast run pays for it.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from leanstock.planning.forecast.accuracy import accuracy_report, quantile_column
from leanstock.planning.forecast.classify import classify
from leanstock.planning.forecast.prepare import FREQUENCIES, ForecastInputError
from leanstock.planning.forecast.quantiles import DEFAULT_QUANTILES

if TYPE_CHECKING:
    from leanstock.planning.forecast.engine import ForecastResult, Progress, forecast

_LAZY = {"ForecastResult": "engine", "Progress": "engine", "forecast": "engine"}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value


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
