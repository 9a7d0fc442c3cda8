"""Check demand history and put it on a regular grid the models can read.

The engine works on one long frame keyed by an integer series id `sid` (one per
item-location), so that nothing on a hot path compares strings.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl

from leanstock.planning.periods import PERIODS

FREQUENCIES: dict[str, tuple[str, int]] = {
    # business code -> (polars interval, season length in periods), from the one table
    code: (period.interval, period.season_length)
    for code, period in PERIODS.items()
}


class ForecastInputError(ValueError):
    """The history, calendar or options cannot be forecast; the message says what to fix."""


@dataclass(frozen=True)
class Prepared:
    """History on a regular grid, with the key of each series.

    `frame` has sid, ds, qty (float, censored periods already imputed), stockout, event;
    `keys` maps sid to item (and location).
    """

    frame: pl.DataFrame
    keys: pl.DataFrame
    key_columns: tuple[str, ...]
    interval: str
    season_length: int


def check_freq(freq: str) -> str:
    code = freq.strip().upper()
    if code not in FREQUENCIES:
        raise ForecastInputError(
            f"Unknown frequency {freq!r}: use D (daily), W (weekly) or M (monthly)."
        )
    return code


def check_horizon(horizon: int) -> int:
    if isinstance(horizon, bool) or not isinstance(horizon, int) or horizon < 1:
        raise ForecastInputError(
            f"The horizon must be a whole number of periods ≥ 1, not {horizon!r}."
        )
    return horizon


def prepare(history: pl.DataFrame, freq: str) -> Prepared:
    """Validate `history` (item, [location], ds, qty, [stockout]) and regularise it.

    Missing periods inside a series are sales of zero (an order system records every
    sale, so a period without a row sold nothing). A series starts at its first row, so
    rows should start when the item was launched at the location.
    """
    code = check_freq(freq)
    interval, season = FREQUENCIES[code]
    missing = [c for c in ("item", "ds", "qty") if c not in history.columns]
    if missing:
        raise ForecastInputError(
            f"The history lacks the column(s) {', '.join(missing)}; "
            "it needs item, ds, qty (and optionally location, stockout)."
        )
    if history.height == 0:
        raise ForecastInputError("The history is empty.")
    keys = ("item", "location") if "location" in history.columns else ("item",)
    cols = [*keys, "ds", "qty"]
    has_stockout = "stockout" in history.columns
    if has_stockout:
        cols.append("stockout")
    extra = ["category"] if "category" in history.columns else []
    frame = history.select(cols + extra)
    for key in keys:
        if frame[key].null_count():
            raise ForecastInputError(f"The history has rows without {key}.")
        if frame.schema[key] not in (pl.Categorical, pl.Enum) and not isinstance(
            frame.schema[key], pl.Enum
        ):
            frame = frame.with_columns(pl.col(key).cast(pl.String))
    frame = _coerce_dates(frame)
    qty_dtype = frame.schema["qty"]
    if not qty_dtype.is_numeric():
        raise ForecastInputError(f"qty must be a number, not {qty_dtype}.")
    frame = frame.with_columns(pl.col("qty").cast(pl.Float64))
    bad = frame.filter(pl.col("qty").is_null() | pl.col("qty").is_nan())
    if bad.height:
        raise ForecastInputError(f"{bad.height} row(s) have no qty, e.g. {_where(bad, keys)}.")
    negative = frame.filter(pl.col("qty") < 0)
    if negative.height:
        raise ForecastInputError(
            f"Negative quantities in {negative.height} row(s), e.g. {_where(negative, keys)}; "
            "record returns separately, demand is never negative."
        )
    if has_stockout:
        frame = frame.with_columns(pl.col("stockout").fill_null(False).cast(pl.Boolean))
    else:
        frame = frame.with_columns(stockout=pl.lit(False))

    frame = _group_and_order(frame, keys)
    key_frame = _keys_of(frame, (*keys, *extra))
    frame = frame.select("sid", "ds", "qty", "stockout").with_columns(t=period_index(code))
    _check_alignment(frame, code, keys, key_frame)
    frame = _fill_gaps(frame, code)
    return Prepared(frame, key_frame, keys, interval, season)


def period_index(code: str) -> pl.Expr:
    """Periods since 1970 as an integer: days, weeks (of the series' weekday) or months."""
    days = pl.col("ds").cast(pl.Int64)
    if code == "D":
        return days
    if code == "W":
        return days // 7
    return pl.col("ds").dt.year().cast(pl.Int64) * 12 + pl.col("ds").dt.month().cast(pl.Int64) - 1


def series_starts(sid: np.ndarray, n_series: int) -> np.ndarray:
    """Row where each series starts in a frame ordered by sid (0 … n_series − 1)."""
    return np.searchsorted(sid, np.arange(n_series, dtype=sid.dtype), side="left")


def _keys_of(frame: pl.DataFrame, columns: tuple[str, ...]) -> pl.DataFrame:
    return frame.group_by("sid").agg([pl.col(k).first() for k in columns]).sort("sid")


def _group_and_order(frame: pl.DataFrame, keys: tuple[str, ...]) -> pl.DataFrame:
    """Number the series 0, 1, … and order rows by series then ds.

    Histories usually arrive grouped by series and in time order; then one pass checks
    that and the sort is skipped.
    """
    frame = frame.with_columns(sid=pl.struct(keys).rle_id())
    grouped = not _keys_of(frame, keys).select(pl.struct(keys).is_duplicated().any()).item()
    in_order = grouped and bool(
        frame.select(
            ((pl.col("sid") != pl.col("sid").shift(1)) | (pl.col("ds") > pl.col("ds").shift(1)))
            .fill_null(True)
            .all()
        ).item()
    )
    if in_order:
        return frame
    frame = frame.sort([*keys, "ds"]).with_columns(sid=pl.struct(keys).rle_id())
    dup = frame.filter(
        (pl.col("sid") == pl.col("sid").shift(1)) & (pl.col("ds") == pl.col("ds").shift(1))
    )
    if dup.height:
        raise ForecastInputError(
            f"Duplicate periods: {dup.height} row(s) repeat an item, location and ds, "
            f"e.g. {_where(dup, keys)}; sum them before forecasting."
        )
    return frame


def _coerce_dates(frame: pl.DataFrame) -> pl.DataFrame:
    dtype = frame.schema["ds"]
    if dtype == pl.String:
        try:
            frame = frame.with_columns(pl.col("ds").str.to_date(strict=True))
        except pl.exceptions.PolarsError as exc:
            raise ForecastInputError(
                "ds must be dates like 2024-01-31; some values are not."
            ) from exc
    elif isinstance(dtype, pl.Datetime):
        frame = frame.with_columns(pl.col("ds").dt.date())
    elif dtype != pl.Date:
        raise ForecastInputError(f"ds must be a date, not {dtype}.")
    if frame["ds"].null_count():
        raise ForecastInputError("The history has rows without ds.")
    return frame


def _check_alignment(
    frame: pl.DataFrame, code: str, keys: tuple[str, ...], key_frame: pl.DataFrame
) -> None:
    """Monthly periods start on the 1st; weekly ones on one weekday per series."""
    if code == "M":
        off = frame.filter(pl.col("ds").dt.day() != 1)
    elif code == "W":
        off = frame.filter(pl.col("ds").dt.weekday().n_unique().over("sid") > 1)
    else:
        return
    if off.height:
        where = _where(off.join(key_frame, on="sid"), keys)
        rule = "start on the 1st" if code == "M" else "fall on one weekday per series"
        raise ForecastInputError(
            f"{'Monthly' if code == 'M' else 'Weekly'} periods must {rule}; {where} does not."
        )


def _fill_gaps(frame: pl.DataFrame, code: str) -> pl.DataFrame:
    span = frame.group_by("sid").agg(
        t0=pl.col("t").min(), t1=pl.col("t").max(), ds0=pl.col("ds").min(), n=pl.len()
    )
    if (span["t1"] - span["t0"] + 1 == span["n"]).all():
        return frame
    unit = PERIODS[code].unit
    grid = (
        span.select("sid", "t0", "ds0", t=pl.int_ranges("t0", pl.col("t1") + 1))
        .explode("t")
        .with_columns(
            ds=pl.col("ds0").dt.offset_by(pl.format("{}" + unit, pl.col("t") - pl.col("t0")))
        )
        .select("sid", "ds", "t")
    )
    return (
        grid.join(frame.select("sid", "t", "qty", "stockout"), on=["sid", "t"], how="left")
        .with_columns(pl.col("qty").fill_null(0.0), pl.col("stockout").fill_null(False))
        .sort("sid", "t")
        .select("sid", "ds", "qty", "stockout", "t")
    )


def _where(rows: pl.DataFrame, keys: tuple[str, ...]) -> str:
    first = rows.row(0, named=True)
    parts = [f"{k}={first[k]}" for k in keys if k in first]
    if "ds" in first:
        parts.append(f"ds={first['ds']}")
    return ", ".join(parts) if parts else "row 1"
