"""Stock-outs censor demand: the period sold what was on the shelf, not what was wanted.

A censored period is replaced by max(observed, trailing mean of the uncensored periods
before it), so it can raise the history but never pull it down. This is the simple
"impute the unconstrained demand" step of Nahmias (1994), "Demand estimation in
lost sales inventory systems", NRL 41; the backtest ignores censored periods entirely.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from leanstock.planning.forecast.prepare import series_starts


def trailing_clean_mean(
    frame: pl.DataFrame, clean: np.ndarray, rows: np.ndarray, window: int
) -> np.ndarray:
    """Mean qty over the `window` rows up to each of `rows` where `clean` holds (NaN if none).

    `frame` is ordered by sid (0 … S − 1) then t. Only the windows of `rows` are read
    (in chunks), never the whole history: `rows` are few next to the history.
    """
    sid = frame["sid"].to_numpy()
    qty = frame["qty"].to_numpy()
    starts = series_starts(sid, int(sid[-1]) + 1 if sid.size else 0)
    out = np.empty(rows.size, dtype=np.float64)
    back = np.arange(window, dtype=np.int64)
    for lo in range(0, rows.size, 250_000):
        chunk = rows[lo : lo + 250_000].astype(np.int64)
        idx = chunk[:, None] - back[None, :]
        ok = idx >= starts[sid[chunk]].astype(np.int64)[:, None]
        idx = np.where(ok, idx, chunk[:, None])
        ok &= clean[idx]
        n = ok.sum(axis=1)
        total = np.where(ok, qty[idx], 0.0).sum(axis=1)
        with np.errstate(invalid="ignore", divide="ignore"):
            out[lo : lo + chunk.size] = np.where(n > 0, total / n, np.nan)
    return out


def impute_censored(frame: pl.DataFrame, window: int) -> pl.DataFrame:
    """Raise censored periods (stockout) of frame (sid, t, qty, stockout) to their estimate."""
    stockout = frame["stockout"].to_numpy()
    rows = np.flatnonzero(stockout)
    if rows.size == 0:
        return frame
    clean = ~stockout
    estimate = trailing_clean_mean(frame, clean, rows, window)
    missing = np.isnan(estimate)
    if missing.any():
        estimate[missing] = trailing_clean_mean(frame, clean, rows[missing], 8 * window)
    estimate = np.nan_to_num(estimate, nan=0.0)
    qty = frame["qty"].to_numpy().copy()
    qty[rows] = np.maximum(qty[rows], estimate)
    return frame.with_columns(pl.Series("qty", qty))
